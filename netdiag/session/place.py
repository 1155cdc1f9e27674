"""After a round's verdicts: where each proven interception takes place (`netdiag.probes.place`
measures, `netdiag.diagnosis.place` concludes). Only endpoints shown a forged chain are
measured, so a healthy run opens no connection more.

Every intercepted endpoint gets one plain connection, all at once, and one look at this
machine's socket table. The hop-limited hellos run for one endpoint per port (a device that
intercepts a port does so for every host), beside a clean port of the same address where
the run has one; the others of that port share its measurement, saying so."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.report.model import Finding
from netdiag.report.observations import (
    EndpointObservation,
    ExperimentResult,
    LocalPeer,
    PlaceObservation,
    ProtocolStage,
)
from netdiag.settings.targets import Target

INTERCEPTED = ("tls.intercepted", "tls.intercepted_locally")
# Below this much of the run's deadline, nothing more is started: the report says so.
MIN_LEFT_S = 1.0


def intercepted(
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
) -> list[Target]:
    """The endpoints proven intercepted by a chain they were shown (not those only likely
    intercepted: they showed none), in profile order."""
    chosen = []
    for target, findings in verdicts.items():
        observation = observations.get(target)
        protocol = observation.protocol if observation is not None else None
        shown = protocol is not None and protocol.tls is not None and bool(protocol.tls.chain)
        if shown and any(f.code in INTERCEPTED for f in findings):
            chosen.append(target)
    return chosen


def locate(
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
    timeout_s: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
) -> dict[Target, EndpointObservation]:
    """The observations with `place` for every endpoint proven intercepted; the others as
    they were."""
    from netdiag.probes.place import is_own_address

    chosen = intercepted(observations, verdicts)
    if not chosen:
        return dict(observations)
    addresses = {t: _address(observations[t]) for t in chosen}
    own = {t: is_own_address(a) for t, a in addresses.items()}
    if deadline.remaining() < MIN_LEFT_S:
        places = {
            t: PlaceObservation(
                address=addresses[t],
                port=t.port,
                is_own_address=own[t],
                socket_table_problem="no time left in the run",
                hops_problem="no time left in the run",
            )
            for t in chosen
        }
        return _with(observations, places)
    # At an address of this machine the server itself is local: nothing to tell apart.
    remote = [t for t in chosen if not own[t]]
    peers, problem = _local_peers(remote, addresses, timeout_s, deadline, flows)
    measured = _hop_plans(chosen, own, peers)
    scans = _scans(measured, observations, verdicts, timeout_s, deadline, flows)
    places = {}
    for target in chosen:
        stand_in = next((m for m in measured if m.port == target.port), None)
        hops, control_port, control, hops_problem = (
            scans[stand_in] if stand_in is not None else ((), None, (), "")
        )
        places[target] = PlaceObservation(
            address=addresses[target],
            port=target.port,
            is_own_address=own[target],
            socket_table_problem="" if own[target] else problem,
            local_peer=peers.get(target),
            hops=hops,
            control_port=control_port,
            control_hops=control,
            hops_problem=hops_problem,
            measured_on=stand_in.label if stand_in not in (None, target) else "",
        )
    return _with(observations, places)


def _address(observation: EndpointObservation) -> str:
    assert observation.protocol is not None
    return observation.protocol.address


def _with(
    observations: Mapping[Target, EndpointObservation], places: Mapping[Target, PlaceObservation]
) -> dict[Target, EndpointObservation]:
    return {
        t: dataclasses.replace(o, place=places[t]) if t in places else o
        for t, o in observations.items()
    }


def _local_peers(
    chosen: Sequence[Target],
    addresses: Mapping[Target, str],
    timeout_s: float,
    deadline: Deadline,
    flows: FlowLog | None,
) -> tuple[dict[Target, LocalPeer], str]:
    """One plain connection to each, all open together while the socket table is read."""
    from netdiag.probes.place import local_peers
    from netdiag.probes.tcp import connect_tcp

    if not chosen:
        return {}, ""
    with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="netdiag-peer") as pool:
        futures = [
            pool.submit(connect_tcp, addresses[t], t.port, deadline.step(timeout_s), flows)
            for t in chosen
        ]
        connected = [(t, f.result()[1]) for t, f in zip(chosen, futures, strict=True)]
    open_ = [(t, s) for t, s in connected if s is not None]
    try:
        found, problem = local_peers([s for _, s in open_])
    finally:
        for _, sock in open_:
            sock.close()
    return {open_[i][0]: peer for i, peer in found.items()}, problem


def _hop_plans(
    chosen: Sequence[Target],
    own: Mapping[Target, bool],
    peers: Mapping[Target, LocalPeer],
) -> list[Target]:
    """One endpoint per port to measure in hops: the first not answered on this machine
    (its place is known) and not at an address of this machine (no hop to count)."""
    measured: list[Target] = []
    for target in chosen:
        if own[target] or target in peers:
            continue
        if all(m.port != target.port for m in measured):
            measured.append(target)
    return measured


def _clean_port(
    target: Target,
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
) -> Target | None:
    """Another port of the same address whose handshake completed without a forged chain:
    where the server itself answers."""
    address = _address(observations[target])
    for other, observation in observations.items():
        protocol = observation.protocol
        if other.port == target.port or protocol is None or protocol.address != address:
            continue
        completed = protocol.tls is not None and protocol.stopped_at is ProtocolStage.DONE
        if completed and not any(f.code in INTERCEPTED for f in verdicts.get(other, ())):
            return other
    return None


Scan = tuple[tuple[ExperimentResult, ...], int | None, tuple[ExperimentResult, ...], str]


def _scans(
    measured: Sequence[Target],
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
    timeout_s: float,
    deadline: Deadline,
    flows: FlowLog | None,
) -> dict[Target, Scan]:
    """The hop scans of the measured endpoints and of their clean ports, all at once."""
    from netdiag.probes.place import hop_scan

    clean_of = {t: _clean_port(t, observations, verdicts) for t in measured}
    jobs = list(dict.fromkeys([*measured, *(c for c in clean_of.values() if c is not None)]))
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="netdiag-place") as pool:
        futures = {
            job: pool.submit(
                hop_scan,
                _address(observations[job]),
                job.port,
                job.service,
                "" if job.is_address_literal else job.host,
                timeout_s,
                deadline,
                flows,
            )
            for job in jobs
        }
        done = {job: f.result() for job, f in futures.items()}
    scans: dict[Target, Scan] = {}
    for target in measured:
        hops, problem = done[target]
        clean = clean_of[target]
        control = done[clean][0] if clean is not None else ()
        scans[target] = (hops, clean.port if clean is not None else None, control, problem)
    return scans
