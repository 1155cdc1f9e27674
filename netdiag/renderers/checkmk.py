"""check_mk local-check lines: `<state> "<service>" <metrics> <text>`, one per endpoint
plus one for DNS (format: Checkmk manual, "Local checks")."""

from __future__ import annotations

from netdiag.renderers.summary import answer_lines
from netdiag.report.model import EndpointResult, Report, Severity, Status, worst
from netdiag.report.observations import TcpOutcome


def _clean(text: str) -> str:
    """Local-check lines are one line each; a stray newline would start a new service."""
    return " ".join(text.split())


def _metrics(endpoint: EndpointResult) -> str:
    metrics = []
    times = [t.elapsed_ms for t in endpoint.tcp if t.outcome is TcpOutcome.OPEN]
    if times:
        metrics.append(f"connect_time={min(times) / 1000:.4f}")
    tls = endpoint.protocol.tls if endpoint.protocol is not None else None
    if tls is not None and tls.version:
        metrics.append(f"handshake_time={tls.handshake_ms / 1000:.4f}")
    return "|".join(metrics) or "-"


def _endpoint_line(endpoint: EndpointResult) -> str:
    t = endpoint.target
    name = f"netdiag {t.host}:{t.port} {t.service.value}"
    headline = endpoint.headline
    text = f"{headline.code}: {headline.summary}" if headline else "checked"
    return f'{int(endpoint.status)} "{name}" {_metrics(endpoint)} {_clean(text)}'


def _dns_line(report: Report) -> str:
    dns_findings = [f for e in report.endpoints for f in e.findings if f.code.startswith("dns.")]
    unique = list({f.summary: f for f in dns_findings}.values())
    state = worst(f.severity.status for f in unique) if unique else Status.OK
    hosts = {e.target.host for e in report.endpoints if e.dns is not None}
    if unique:
        text = "; ".join(
            f"{f.code}: {f.summary}" for f in unique if f.severity is not Severity.INFO
        )
    else:
        text = f"{len(hosts)} names resolve"
    return f'{int(state)} "netdiag DNS" - {_clean(text)}'


def _certificate_line(report: Report) -> str | None:
    if report.client_certificate is None:
        return None
    problems = [f for f in report.local_findings if f.severity is not Severity.INFO]
    state = worst(f.severity.status for f in problems)
    text = "; ".join(f"{f.code}: {f.summary}" for f in problems) or (
        f"valid until {report.client_certificate.leaf.not_after}"
    )
    return f'{int(state)} "netdiag client certificate" - {_clean(text)}'


def _host_line(report: Report) -> str | None:
    if report.host is None:
        return None
    problems = [f for f in report.host.findings if f.severity is not Severity.INFO]
    text = "; ".join(f"{f.code}: {f.summary}" for f in problems) or "meets the requirements"
    return f'{int(report.host.status)} "netdiag host" - {_clean(text)}'


def _causes_line(report: Report) -> str | None:
    """First: the causes in one sentence each (the endpoint services say the details)."""
    if not report.endpoints:
        return None
    state = worst(c.severity.status for c in report.causes)
    text = " ".join(answer_lines(report, "en"))
    return f'{int(state)} "netdiag causes" causes={len(report.causes)} {_clean(text)}'


def render_checkmk(report: Report) -> str:
    lines = [
        _causes_line(report),
        _dns_line(report) if report.endpoints else None,
        _certificate_line(report),
        _host_line(report),
    ]
    lines += [_endpoint_line(e) for e in report.endpoints]
    return "\n".join(line for line in lines if line is not None)
