"""One entry point for a whole run: the check, then traces of what is blocked and the host
checks, all inside a capture when asked for — `(config, options) -> Report`. The CLI only
parses options, builds these and renders the report."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netdiag.console import Console
from netdiag.errors import UsageError
from netdiag.privacy.own_flows import FlowLog
from netdiag.report.model import CaptureStats, EndpointResult, Note, Report
from netdiag.report.observations import ProxySettings
from netdiag.session.config import CheckConfig
from netdiag.session.trace_settings import TraceSettings
from netdiag.settings.host_requirements import HostRequirements
from netdiag.settings.targets import COMMAND_LINE, Service, Target, valid_host

if TYPE_CHECKING:
    from netdiag.probes.capture import Capture


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOptions:
    """What a run does besides the check itself."""

    trace: bool = False
    capture_dir: Path | None = None  # a capture of netdiag's own packets, when given
    host: HostRequirements | None = None  # the host checks, when given
    # The web proxies to try for blocked endpoints; None: read this machine's settings.
    proxies: ProxySettings | None = None
    # The firewall product whose configuration the report shows ("" for the named one).
    firewall: str = ""


def run_session(
    config: CheckConfig, options: SessionOptions, console: Console | None = None
) -> Report:
    """The check of `config`, traced, host-checked and captured as `options` say."""
    from netdiag.session.check import run_check, step_failed

    console = console or Console()
    flows = FlowLog() if options.capture_dir is not None else None
    no_capture: Note | None = None
    with contextlib.ExitStack() as stack:
        capture = None
        if flows is not None and options.capture_dir is not None:
            from netdiag.probes.capture import capture_filter, capture_path

            bpf = capture_filter(
                [t.host for t in config.targets if t.is_address_literal],
                [t.port for t in config.targets],
            )
            path = capture_path(options.capture_dir, f"check_{config.profile_name}")
            capture, no_capture = _start_capture(stack, path, bpf, flows)
        if options.trace:
            # scapy's import overlaps the check's own waiting.
            from netdiag.probes.trace import prepare

            threading.Thread(target=_quietly, args=(prepare,), daemon=True).start()
        report = run_check(config, console, flows)
        report = _with_proxies(report, options, config, flows)
        if options.trace:
            from netdiag.session.traces import trace_report

            try:
                report, problem = trace_report(
                    report, TraceSettings(timeout_s=min(config.timeout_s, 5.0)), flows=flows
                )
            except Exception as error:  # noqa: BLE001 - one step's note; the check stands
                report, problem = _with_note(report, step_failed("traces", error)), ""
            if problem:
                report = _with_note(report, Note.of("no_trace", problem=problem))
    if capture is not None:
        report = _with_capture(report, capture)
    elif no_capture is not None:
        report = _with_note(report, no_capture)
    if options.host is not None:
        from netdiag.session.host import with_host

        try:
            report = with_host(report, options.host)
        except Exception as error:  # noqa: BLE001 - one step's note; the report stands
            report = _with_note(report, step_failed("host checks", error))
    return dataclasses.replace(with_causes(report), firewall=options.firewall)


def _start_capture(
    stack: contextlib.ExitStack, path: Path, bpf: str, flows: FlowLog
) -> tuple[Capture | None, Note | None]:
    """The capture, running until `stack` closes; or, where it cannot run (no raw sockets,
    no interface to listen on), None and the note that says why: the check goes on
    without it."""
    from netdiag.probes.capture import Capture, CaptureError

    try:
        return stack.enter_context(Capture(path, bpf, flows)), None
    except CaptureError as e:
        return None, Note.bilingual("no_capture", problem=(str(e), e.text("de")))


def _with_note(report: Report, note: Note) -> Report:
    return dataclasses.replace(report, notes=(*report.notes, note))


def configured_proxies() -> ProxySettings:
    """The web proxies this machine is configured with (`netdiag proxies`)."""
    from netdiag.probes.proxies import read_proxy_settings

    return read_proxy_settings()


def _with_proxies(
    report: Report, options: SessionOptions, config: CheckConfig, flows: FlowLog | None
) -> Report:
    """The configured web proxies, and what they answer for the blocked endpoints; a failure
    in this step is its note."""
    from netdiag.probes.proxies import read_proxy_settings
    from netdiag.session.proxies import proxy_report

    try:
        settings = options.proxies if options.proxies is not None else read_proxy_settings()
        return proxy_report(report, settings, config, flows)
    except Exception as error:  # noqa: BLE001 - one step's note; the check stands
        from netdiag.session.check import step_failed

        return _with_note(report, step_failed("web proxies", error))


def _quietly(task: Callable[[], None]) -> None:
    """A warm-up whose failure is the later step's to report."""
    try:
        task()
    except Exception:  # noqa: BLE001, S110 - the trace itself says what fails
        pass


def machine_environment(report: Report) -> dict[str, Any]:
    """This machine's facts for a support ticket, as they are now (`report`'s server Date
    tells the clock's offset)."""
    from netdiag.probes.environment import collect_environment

    return collect_environment(report.server_date)


def machine_secrets() -> list[tuple[str, bytes]]:
    """The secrets of this machine's settings that a bundle must never hold (the proxies'
    credentials), for the audit beside the run's own."""
    from netdiag.probes.proxies import proxy_credentials_here

    return proxy_credentials_here()


def with_causes(report: Report) -> Report:
    """The report with its findings grouped into causes (what every output starts with),
    and what the firewall must change because of them."""
    from netdiag.diagnosis.causes import find_causes
    from netdiag.diagnosis.remedy_plan import plan_remedies

    causes = find_causes(report.endpoints)
    return dataclasses.replace(report, causes=causes, remedy_plan=plan_remedies(causes))


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceRequest:
    """`netdiag trace`: one destination port, and a port expected open to compare with."""

    host: str
    port: int
    control_port: int | None = None
    settings: TraceSettings = TraceSettings()
    capture_dir: Path | None = None


def run_trace(request: TraceRequest) -> Report:
    """A TCP SYN trace of one port (with its control trace) as a report of one endpoint;
    without raw sockets, what one connect() tells, and a note why no trace."""
    from netdiag.diagnosis.trace import diagnose_trace, hop_lines
    from netdiag.probes.raw import raw_socket_problem
    from netdiag.session.traces import connect_fallback, trace_with_control

    started = datetime.now(UTC)
    timeout = request.settings.timeout_s
    host = valid_host(request.host, "trace")
    target = Target(host=host, port=request.port, service=Service.TCP)
    address, unresolved = _address_of(target, timeout)
    if unresolved is not None:
        return _single(started, unresolved, None)
    problem = raw_socket_problem()
    if problem:
        findings = connect_fallback(address, request.port, timeout)
        note = Note.of("no_trace_single", problem=problem)
        return _single(started, EndpointResult(target=target, findings=tuple(findings)), note)
    flows = FlowLog() if request.capture_dir is not None else None
    no_capture: Note | None = None
    with contextlib.ExitStack() as stack:
        capture = None
        if flows is not None and request.capture_dir is not None:
            from netdiag.probes.capture import capture_filter, capture_path

            ports = [request.port] + ([request.control_port] if request.control_port else [])
            path = capture_path(request.capture_dir, f"{request.host}_{request.port}")
            capture, no_capture = _start_capture(
                stack, path, capture_filter([address], ports), flows
            )
        trace, control = trace_with_control(
            address, request.port, request.control_port, request.settings, flows
        )
    endpoint = EndpointResult(
        target=target,
        findings=tuple(diagnose_trace(target.label, trace, control)),
        trace=trace,
        control_trace=control,
        trace_lines=tuple(hop_lines(trace)) if not trace.error else (),
        control_trace_lines=tuple(hop_lines(control)) if control and not control.error else (),
        was_completed=not trace.error,
    )
    report = _single(
        started, endpoint, Note.of("trace_error", error=trace.error) if trace.error else None
    )
    if capture is not None:
        return _with_capture(report, capture)
    if no_capture is not None:
        return _with_note(report, no_capture)
    return report


def run_mtu(host: str, timeout_s: float) -> Report:
    """The path MTU towards one host as a report of one endpoint."""
    from netdiag.diagnosis.mtu import diagnose_path_mtu, mtu_lines
    from netdiag.probes.mtu import probe_mtu

    started = datetime.now(UTC)
    target = Target(host=valid_host(host, "mtu"), port=0, service=Service.ICMP)
    address, unresolved = _address_of(target, timeout_s)
    if unresolved is not None:
        return _single(started, unresolved, None)
    mtu = probe_mtu(address, timeout=timeout_s)
    if mtu.error:
        from netdiag.report.messages import PHRASES_DE

        raise UsageError(mtu.error, de=PHRASES_DE.get(mtu.error, mtu.error))
    findings = diagnose_path_mtu(host, mtu)
    endpoint = EndpointResult(
        target=target,
        findings=tuple(findings),
        mtu=mtu,
        mtu_lines=tuple(mtu_lines(mtu)),
        # ICMP echo blocked: nothing measured, the state is unknown.
        was_completed=mtu.largest_passing > 0,
    )
    return _single(started, endpoint, None)


def _address_of(target: Target, timeout_s: float) -> tuple[str, EndpointResult | None]:
    """The address to trace or probe: the target's own, or the first the operating system
    resolves its name to (IPv4 preferred), as the gateway's software would. A name that does
    not resolve is the endpoint's DNS finding, as `check` reports it (`dns.nxdomain`, …)."""
    from netdiag.diagnosis.dns import diagnose_dns
    from netdiag.probes.dns import lookup_os
    from netdiag.report.observations import DnsObservation, DnsOutcome

    if target.is_address_literal:
        return target.host.strip("[]"), None
    answer = lookup_os(target.host, timeout_s)
    if answer.outcome is DnsOutcome.ANSWER and answer.addresses:
        return next((a for a in answer.addresses if ":" not in a), answer.addresses[0]), None
    observation = DnsObservation(host=target.host, answers=(answer,))
    findings = tuple(diagnose_dns(observation))
    return "", EndpointResult(target=target, findings=findings, dns=observation)


def _single(started: datetime, endpoint: EndpointResult, note: Note | None) -> Report:
    duration = (datetime.now(UTC) - started).total_seconds()
    report = Report(
        started=started,
        duration_s=round(duration, 3),
        endpoints=(endpoint,),
        profile=COMMAND_LINE,
        notes=(note,) if note is not None else (),
    )
    return with_causes(report)


def _with_capture(report: Report, capture: Capture) -> Report:
    stats = CaptureStats(path=str(capture.path), kept=capture.packets, dropped=capture.dropped)
    note = Note.of("capture", file=capture.path.name, kept=stats.kept, dropped=stats.dropped)
    return dataclasses.replace(
        report,
        captures=(*report.captures, stats.path),
        capture_stats=(*report.capture_stats, stats),
        notes=(*report.notes, note),
    )
