"""Where is it blocked: traces (with a control trace to an open port) and path-MTU probes
for the endpoints a check found blocked or stalled."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from netdiag.diagnosis.hypotheses import RECEIVED_LARGE, SENT_LARGE
from netdiag.diagnosis.mtu import diagnose_mtu, mtu_lines, with_measured
from netdiag.diagnosis.place import HELLO_CUT, placed_hop, with_device_address
from netdiag.diagnosis.trace import diagnose_trace, hop_lines
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.mtu import probe_mtu
from netdiag.probes.raw import raw_socket_problem
from netdiag.probes.trace import TraceRequest, probe_traces
from netdiag.report.model import SYN_RESET, EndpointResult, Finding, Note, Report
from netdiag.report.observations import Experiment, TcpOutcome
from netdiag.report.trace_observations import CutSender, MtuObservation, TraceObservation
from netdiag.session.scheduler import run_all
from netdiag.session.trace_settings import TraceSettings

# What a trace may take beyond its own timeout (starting the receiver, sending every probe,
# the one repetition of silent TTLs, naming the hops).
JOIN_GRACE_S = 5.0

# What a trace says about a reset in the server's name.
_RESET_VERDICTS = frozenset({"trace.forged_reset", "trace.reset_suspect"})


def trace_budget_s(settings: TraceSettings) -> float:
    """The most that the diagnosis and MTU probes add after the batch of traces (all TTLs of
    every trace at once, the control traces alongside: one timeout and a pause): an MTU
    probe for a stalled handshake takes one more timeout."""
    return settings.timeout_s + JOIN_GRACE_S


def trace_with_control(
    address: str,
    port: int,
    control_port: int | None,
    settings: TraceSettings,
    flows: FlowLog | None = None,
) -> tuple[TraceObservation, TraceObservation | None]:
    """The trace and, in the same batch, the control trace to a port expected open."""
    request = TraceRequest(address, port)
    control = (
        TraceRequest(address, control_port)
        if control_port is not None and control_port != port
        else None
    )
    traces = probe_traces(
        [request] + ([control] if control is not None else []),
        timeout=settings.timeout_s,
        max_hops=settings.max_hops,
        probes_per_hop=settings.probes_per_hop,
        flows=flows,
    )
    return traces[request], (traces[control] if control is not None else None)


def needs_trace(endpoint: EndpointResult) -> bool:
    """Blocked, stalled, or intercepted by a device a number of hops away (the trace to a
    clean port names its address)."""
    blocked = bool(endpoint.tcp) and not any(t.outcome is TcpOutcome.OPEN for t in endpoint.tcp)
    # One trace per place measured: an endpoint that shares another's (`measured_on`) is
    # named from that one's trace.
    measured_here = endpoint.place is not None and not endpoint.place.measured_on
    placed = measured_here and any(placed_hop(f) is not None for f in endpoint.findings)
    return blocked or is_stalled(endpoint) or placed


def is_stalled(endpoint: EndpointResult) -> bool:
    """A stalled handshake, or one the experiments found lost to packet size: the MTU probe
    measures the size."""
    return any(
        f.code == "tls.handshake_stalled"
        or (f.code == "path.mtu_blackhole" and f.detail in (SENT_LARGE, RECEIVED_LARGE))
        for f in endpoint.findings
    )


def _control_port(report: Report, endpoint: EndpointResult) -> int | None:
    for other in report.endpoints:
        if other.target.host == endpoint.target.host and other.target.port != endpoint.target.port:
            if any(t.outcome is TcpOutcome.OPEN for t in other.tcp):
                return other.target.port
    return None


def trace_report(
    report: Report, settings: TraceSettings, parallel: int = 8, flows: FlowLog | None = None
) -> tuple[Report, str]:
    """The report with traces (and MTU probes for stalled handshakes) of the endpoints that
    need them; the second value says why nothing was traced, if so. Every trace and control
    trace of the run goes out in one batch over one receive path (`probe_traces`)."""
    chosen = [e for e in report.endpoints if needs_trace(e)]
    cut = [e for e in report.endpoints if needs_cut_sender(e)]
    if not chosen and not cut:
        return report, ""
    problem = raw_socket_problem()
    if problem:
        return report, problem
    if cut:
        report = _with_cut_senders(report, cut, settings, flows)
    if not chosen:
        return report, ""
    chosen = [e for e in report.endpoints if needs_trace(e)]
    plans = {
        id(e): (
            TraceRequest(e.tcp[0].address, e.target.port),
            _control_request(e, _control_port(report, e)),
        )
        for e in chosen
    }
    requests = [r for trace, control in plans.values() for r in (trace, control) if r is not None]
    traces = probe_traces(
        requests,
        timeout=settings.timeout_s,
        max_hops=settings.max_hops,
        probes_per_hop=settings.probes_per_hop,
        flows=flows,
    )
    broken: list[Note] = []

    def contained(endpoint: EndpointResult) -> EndpointResult:
        """One endpoint's trace verdict (and MTU probe); one that breaks inside netdiag
        leaves the endpoint as the check saw it, with a note."""
        request, control = plans[id(endpoint)]
        peers = [t for r, t in traces.items() if r.port == request.port and r != request]
        try:
            return _trace_endpoint(
                endpoint,
                traces[request],
                traces[control] if control is not None else None,
                peers,
                settings,
                flows,
            )
        except Exception as error:  # noqa: BLE001 - a note; the other traces go on
            step = f"trace of {endpoint.target.label}"
            broken.append(
                Note.of("step_failed", step=step, error=f"{type(error).__name__}: {error}"[:300])
            )
            return endpoint

    tasks: list[Callable[[], EndpointResult]] = [partial(contained, e) for e in chosen]
    outcome = run_all(tasks, limit=parallel, deadline=Deadline.after(trace_budget_s(settings)))
    traced = {id(e): result for e, result in zip(chosen, outcome.results, strict=True) if result}
    endpoints = _named_alike(tuple(traced.get(id(e), e) for e in report.endpoints))
    notes = (*report.notes, *broken)
    return dataclasses.replace(report, endpoints=endpoints, notes=notes), ""


def needs_cut_sender(endpoint: EndpointResult) -> bool:
    """Every hello cut, measured here (the others of the port share it), and not yet proven
    a device's by the hop-limited hellos: the packets may say who sent the cut."""
    place = endpoint.place
    if place is None or place.experiment is not Experiment.CUT_HOP_LIMITED or place.measured_on:
        return False
    codes = {(f.code, f.detail) for f in endpoint.findings}
    return ("tls.handshake_failed", "") in codes and ("trace.forged_reset", HELLO_CUT) not in codes


def _with_cut_senders(
    report: Report, chosen: list[EndpointResult], settings: TraceSettings, flows: FlowLog | None
) -> Report:
    """The report with who cut the hellos of `chosen`, read from the packets of one more
    hello each (all at once); the endpoints that share one's place get its reading."""
    from netdiag.diagnosis.cut_sender import with_cut_sender
    from netdiag.probes.cut_sender import probe_cut_sender
    from netdiag.session.place import hello_service

    deadline = Deadline.after(settings.timeout_s + JOIN_GRACE_S)

    def read(endpoint: EndpointResult) -> CutSender:
        assert endpoint.place is not None
        target = endpoint.target
        name = "" if target.is_address_literal else target.host
        return probe_cut_sender(
            endpoint.place.address,
            target.port,
            hello_service(target, endpoint.hello_at_once),
            name,
            settings.timeout_s,
            deadline,
            flows,
        )

    tasks: list[Callable[[], CutSender]] = [partial(read, e) for e in chosen]
    outcome = run_all(tasks, limit=len(tasks), deadline=deadline)
    senders = {e.target.label: s for e, s in zip(chosen, outcome.results, strict=True) if s}
    endpoints = []
    for endpoint in report.endpoints:
        place = endpoint.place
        label = endpoint.target.label
        key = label if label in senders else place.measured_on if place is not None else ""
        sender = senders.get(key)
        if sender is None or place is None or place.experiment is not Experiment.CUT_HOP_LIMITED:
            endpoints.append(endpoint)
            continue
        read_on = "" if key == label else key
        findings = with_cut_sender(endpoint.target, sender, endpoint.findings, read_on)
        endpoints.append(
            dataclasses.replace(
                endpoint, findings=findings, cut_sender=sender if key == label else None
            )
        )
    return dataclasses.replace(report, endpoints=tuple(endpoints))


def _named_alike(endpoints: tuple[EndpointResult, ...]) -> tuple[EndpointResult, ...]:
    """Endpoints whose place is another's measurement (`measured_on`) get that one's device
    address too: one device, one cause."""
    clean = {e.target.label: e.control_trace for e in endpoints if e.control_trace is not None}
    return tuple(
        dataclasses.replace(e, findings=with_device_address(e.findings, clean[e.place.measured_on]))
        if e.place is not None and e.place.measured_on in clean
        else e
        for e in endpoints
    )


def _control_request(endpoint: EndpointResult, control_port: int | None) -> TraceRequest | None:
    if control_port is None or control_port == endpoint.target.port:
        return None
    return TraceRequest(endpoint.tcp[0].address, control_port)


def _trace_endpoint(
    endpoint: EndpointResult,
    trace: TraceObservation,
    control: TraceObservation | None,
    peers: list[TraceObservation],
    settings: TraceSettings,
    flows: FlowLog | None,
) -> EndpointResult:
    """The endpoint with its trace's verdict (weighed with the other traces of the same
    port) and, for a stalled handshake, the path MTU."""
    findings: list[Finding] = list(endpoint.findings)
    traced = diagnose_trace(endpoint.target.label, trace, control, peers)
    if any(f.code in _RESET_VERDICTS for f in traced):
        # The trace read the reset's own IP TTL: its verdict replaces the place that the
        # hop-limited connects gave (the same reset, said less exactly).
        findings = [f for f in findings if (f.code, f.detail) != ("trace.forged_reset", SYN_RESET)]
    findings += traced
    findings = list(with_device_address(findings, control))
    mtu: MtuObservation | None = None
    if is_stalled(endpoint):
        mtu = probe_mtu(trace.destination, timeout=settings.timeout_s, flows=flows)
        findings = with_measured(findings, diagnose_mtu(endpoint.target.label, mtu, True))
    return dataclasses.replace(
        endpoint,
        findings=tuple(findings),
        trace=trace,
        control_trace=control,
        mtu=mtu,
        trace_lines=tuple(hop_lines(trace)) if not trace.error else (),
        control_trace_lines=tuple(hop_lines(control)) if control and not control.error else (),
        mtu_lines=tuple(mtu_lines(mtu)) if mtu is not None and not mtu.error else (),
    )


def connect_fallback(address: str, port: int, timeout: float) -> list[Finding]:
    """Without raw sockets: what one connect() can tell about the port."""
    from netdiag.diagnosis.tcp import diagnose_tcp
    from netdiag.probes.tcp import probe_tcp
    from netdiag.settings.targets import Service, Target

    target = Target(host=address, port=port, service=Service.TCP)
    return diagnose_tcp(target, [probe_tcp(address, port, timeout)])
