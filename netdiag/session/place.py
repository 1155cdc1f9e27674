"""After a round's verdicts: where each proven interception takes place, and where the SMTP
session that left STARTTLS out is answered, and where every hello of an endpoint is cut
and where the reset of every refused connect comes from (`netdiag.probes.place` measures,
`netdiag.diagnosis.place` concludes). Only endpoints shown a forged chain, whose EHLO reply
had no STARTTLS, whose every hello was cut or every connect refused are measured, so a
healthy run opens no connection more.

Every such endpoint that connected gets one plain connection, all at once, and one look at
this machine's socket table. The hop-limited hellos (EHLOs, SYNs) run for one endpoint per
port (a device that intercepts or rejects a port does so for every host), beside a clean
port of the same address where the run has one; the others of that port share its
measurement, saying so."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from netdiag.diagnosis.hypotheses import HTTP_ANSWER, is_cut_every_time
from netdiag.diagnosis.place import REFUSED
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.report.model import Finding
from netdiag.report.observations import (
    EndpointObservation,
    Experiment,
    ExperimentResult,
    LocalPeer,
    PlaceObservation,
    ProtocolObservation,
    ProtocolStage,
    TcpOutcome,
)
from netdiag.settings.targets import Service, Target

INTERCEPTED = ("tls.intercepted", "tls.intercepted_locally")
# STARTTLS left out of the EHLO reply: by a proxy before the server, or by the server.
STARTTLS_MISSING = "smtp.starttls_missing"
SYN = Experiment.SYN_HOP_LIMITED
# Below this much of the run's deadline, nothing more is started: the report says so.
MIN_LEFT_S = 1.0


def to_place(
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
) -> dict[Target, Experiment]:
    """The endpoints to place, in profile order, each with what it sends hop-limited: those
    proven intercepted by a chain they were shown (not those only likely intercepted: they
    showed none) their hello, those whose EHLO reply had no STARTTLS their EHLO, those whose
    every hello was cut their hello, to find where the cut comes from."""
    chosen: dict[Target, Experiment] = {}
    for target, findings in verdicts.items():
        observation = observations.get(target)
        protocol = observation.protocol if observation is not None else None
        shown = observation is not None and observation.chain_shown_in is not None
        codes = {f.code for f in findings}
        if shown and codes & set(INTERCEPTED) or _answered_in_http(findings):
            chosen[target] = Experiment.HOP_LIMITED
        elif protocol is not None and STARTTLS_MISSING in codes:
            chosen[target] = Experiment.EHLO_HOP_LIMITED
        elif observation is not None and is_cut_every_time(
            observation.attempts, observation.experiments
        ):
            chosen[target] = Experiment.CUT_HOP_LIMITED
        elif REFUSED in codes and observation is not None and _refused_everywhere(observation):
            chosen[target] = Experiment.SYN_HOP_LIMITED
    return chosen


def _refused_everywhere(observation: EndpointObservation) -> bool:
    """No address of the endpoint connected, and one at least refused the connect."""
    return observation.protocol is None and any(
        t.outcome is TcpOutcome.REFUSED for t in observation.tcp
    )


def locate(
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
    timeout_s: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
) -> dict[Target, EndpointObservation]:
    """The observations with `place` for every endpoint to place (`to_place`); the others
    as they were."""
    from netdiag.probes.place import is_own_address

    chosen = to_place(observations, verdicts)
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
                experiment=kind,
            )
            for t, kind in chosen.items()
        }
        return _with(observations, places)
    # At an address of this machine the server itself is local: nothing to tell apart. A
    # refused connect has no other end to look up in the socket table.
    remote = [t for t, kind in chosen.items() if not own[t] and kind is not SYN]
    peers, problem = _local_peers(remote, addresses, timeout_s, deadline, flows)
    measured = _hop_plans(chosen, own, peers)
    scans = _scans(measured, observations, verdicts, timeout_s, deadline, flows)
    places = {}
    for target, kind in chosen.items():
        stand_in = next(
            (m for m, k in measured.items() if m.port == target.port and k is kind), None
        )
        hops, control_port, control, hops_problem = (
            scans[stand_in] if stand_in is not None else ((), None, (), "")
        )
        places[target] = PlaceObservation(
            address=addresses[target],
            port=target.port,
            is_own_address=own[target],
            socket_table_problem="" if own[target] or kind is SYN else problem,
            local_peer=peers.get(target),
            hops=hops,
            control_port=control_port,
            control_hops=control,
            hops_problem=hops_problem,
            measured_on=stand_in.label if stand_in not in (None, target) else "",
            experiment=kind,
        )
    return _with(observations, places)


def _address(observation: EndpointObservation) -> str:
    """The address the endpoint was measured at: the one its protocol ran on, or where no
    connect opened, the first that refused it."""
    if observation.protocol is not None:
        return observation.protocol.address
    return next(t.address for t in observation.tcp if t.outcome is TcpOutcome.REFUSED)


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
    chosen: Mapping[Target, Experiment],
    own: Mapping[Target, bool],
    peers: Mapping[Target, LocalPeer],
) -> dict[Target, Experiment]:
    """One endpoint per port and experiment to measure in hops: the first not answered on
    this machine (its place is known) and not at an address of this machine (no hop to
    count)."""
    measured: dict[Target, Experiment] = {}
    for target, kind in chosen.items():
        if own[target] or target in peers:
            continue
        if all(m.port != target.port or k is not kind for m, k in measured.items()):
            measured[target] = kind
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


def _answered_in_http(findings: Sequence[Finding]) -> bool:
    """A web proxy found by the HTTP answer to a hello: placed as an interception is."""
    return any(f.code == "trace.transparent_proxy" and f.detail == HTTP_ANSWER for f in findings)


def hello_service(target: Target, hello_at_once: ProtocolObservation | None) -> Service:
    """How the hop-limited hello is sent: as the endpoint's service (on 25 after the
    STARTTLS dialogue), or at once where the port sent no banner to start a dialogue with
    (the hello at once is what was answered)."""
    if hello_at_once is not None:
        return Service.TLS
    return target.service


Scan = tuple[tuple[ExperimentResult, ...], int | None, tuple[ExperimentResult, ...], str]


def _scans(
    measured: Mapping[Target, Experiment],
    observations: Mapping[Target, EndpointObservation],
    verdicts: Mapping[Target, Sequence[Finding]],
    timeout_s: float,
    deadline: Deadline,
    flows: FlowLog | None,
) -> dict[Target, Scan]:
    """The hop scans of the measured endpoints and of their clean ports (their hellos), all
    at once."""
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
                hello_service(job, observations[job].hello_at_once),
                "" if job.is_address_literal else job.host,
                timeout_s,
                deadline,
                flows,
                measured.get(job, Experiment.HOP_LIMITED),
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
