"""The terminal table: one row per endpoint, status first, then the remedies."""

from __future__ import annotations

from tabulate import tabulate

from netdiag.renderers.summary import answer_lines, matrix_table, snippet_lines
from netdiag.report.messages import (
    catalogue_text,
    catalogue_text_of,
    endpoint_count,
    message,
    note_text,
    number,
    severity_name,
    status_name,
)
from netdiag.report.model import EndpointResult, Finding, Report, Severity

_MAX_SUMMARY = 90


def _address(endpoint: EndpointResult) -> str:
    if endpoint.tcp:
        open_ones = [t.address for t in endpoint.tcp if t.outcome == "open"]
        return (open_ones or [endpoint.tcp[0].address])[0] + (
            f" +{len(endpoint.tcp) - 1}" if len(endpoint.tcp) > 1 else ""
        )
    return "-"


def _summary(endpoint: EndpointResult, lang: str) -> str:
    headline = endpoint.headline
    if headline is None:
        return ""
    said = headline.summary
    if lang == "de":  # the summaries are English sentences: the German title instead
        said = catalogue_text(
            headline.code, lang, title=headline.title, remedy="", has_own_remedy=False
        )[0]
    text = f"{headline.code}: {said}"
    others = sum(f.severity is not Severity.INFO for f in endpoint.findings) - (
        headline.severity is not Severity.INFO
    )
    if others > 0:
        text += " " + message("label.more", lang, count=others)
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def remedy_lines(report: Report, lang: str) -> list[str]:
    """What to do, once per problem: each cause's remedy — which names every destination the
    cause affects (an interception's exemption lists them all, not the first endpoint's) —
    then those of this machine's and the gateway's findings that no cause states. A finding
    that its endpoint's cause explains (a POP3 error behind an interceptor) adds no remedy of
    its own: the cause's is the one to act on."""
    stated = {c.code for c in report.causes}
    beside = [
        f
        for f in (*report.local_findings, *(report.host.findings if report.host else ()))
        if f.severity is not Severity.INFO and f.code not in stated
    ]
    said = [(c.code, catalogue_text_of(c, lang)[1]) for c in report.causes]
    said += [(f.code, catalogue_text_of(f, lang)[1]) for f in beside]
    return [f"  {code}: {text}" for code, text in dict.fromkeys(said) if text]


def render_table(report: Report, lang: str = "en") -> str:
    """The answer first (causes, what works, the matrix), then a row per endpoint."""
    rows = [
        [
            status_name(e.status, lang),
            e.target.host,
            e.target.port,
            e.target.service.value,
            _address(e),
            _summary(e, lang),
        ]
        for e in report.endpoints
    ]
    lines = []
    if report.endpoints:
        lines += [message("label.causes", lang) + ":", *answer_lines(report, lang), ""]
    if len(report.endpoints) > 1:
        lines += [matrix_table(report, lang), ""]
    snippet = snippet_lines(report, lang)
    if snippet:
        lines += [*snippet, ""]
    if report.client_certificate is not None:
        leaf = report.client_certificate.leaf
        lines.append(
            message(
                "label.client_certificate",
                lang,
                subject=leaf.subject,
                issuer=leaf.issuer,
                until=leaf.not_after,
            )
        )
    if report.local_findings:
        lines.append(message("label.this_machine", lang) + ":")
        lines += [_finding_line(f, lang) for f in report.local_findings]
    if report.host is not None:
        lines.append(message("label.host_os", lang, os=report.host.observation.os_name))
        lines += [_finding_line(f, lang) for f in report.host.findings]
    if lines:
        lines.append("")
    if report.endpoints:
        lines += [
            tabulate(
                rows,
                headers=[
                    message(f"label.{name}", lang)
                    for name in ("status", "host", "port", "service", "address", "finding")
                ],
            ),
            "",
        ]
    remedies = remedy_lines(report, lang)
    if remedies:
        lines += [message("label.remedy", lang) + ":", *remedies, ""]
    for endpoint in report.endpoints:
        if endpoint.trace is not None and endpoint.trace_lines:
            lines.append(
                message(
                    "label.trace_to",
                    lang,
                    label=endpoint.target.label,
                    address=endpoint.trace.destination,
                )
            )
            lines += ["  " + line for line in endpoint.trace_lines]
            if endpoint.control_trace is not None and endpoint.control_trace_lines:
                control = message("label.control_trace", lang, port=endpoint.control_trace.port)
                lines.append(f"  {control}")
                lines += ["    " + line for line in endpoint.control_trace_lines]
            lines.append("")
        if endpoint.mtu is not None and endpoint.mtu_lines:
            lines.append(message("label.mtu_to", lang, address=endpoint.mtu.destination))
            lines += ["  " + line for line in endpoint.mtu_lines]
            lines.append("")
    lines += [message("label.capture", lang, path=c) for c in report.captures]
    interrupted = message("label.interrupted", lang) if report.was_interrupted else ""
    count = message(
        "label.endpoints_in",
        lang,
        endpoints=endpoint_count(len(report.endpoints), lang),
        seconds=number(report.duration_s, lang),
    )
    lines.append(
        f"{message('label.overall', lang)}: {status_name(report.status, lang)}{interrupted}, "
        f"{count}; " + message("label.details_json", lang)
    )
    note = message("label.note", lang)
    lines.extend(f"{note}: {note_text(n, lang)}" for n in report.notes)
    return "\n".join(lines)


def _finding_line(finding: Finding, lang: str) -> str:
    """A finding of this machine or the host in one line: in German its title (the
    summaries are English sentences)."""
    said = finding.summary
    if lang == "de":
        said = catalogue_text(
            finding.code, lang, title=finding.title, remedy="", has_own_remedy=False
        )[0]
    return f"  {severity_name(finding.severity, lang)} {finding.code}: {said}"
