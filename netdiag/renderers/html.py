"""report.html: one self-contained file (no scripts, no external assets) a support engineer
opens in a browser: the endpoint table coloured by status, findings with evidence,
certificate chains and hop tables."""

from __future__ import annotations

from html import escape

from netdiag import __version__
from netdiag.renderers.summary import answer_lines, firewall_lines, matrix, snippet_lines
from netdiag.report.messages import (
    catalogue_text_of,
    cause_sentence,
    message,
    note_text,
    number,
    profile_name,
    severity_name,
    status_name,
)
from netdiag.report.model import Cause, EndpointResult, Finding, Report
from netdiag.report.trace_observations import HopKind, HopReply

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.OK { background: #d8f5d0; } .WARN { background: #fff1c2; }
.CRIT { background: #ffd6d6; } .UNKNOWN { background: #e4e4e4; }
.finding { border-left: .35em solid #999; padding: .2em .8em; margin: .6em 0; }
.finding.crit { border-color: #c62828; } .finding.warn { border-color: #e0a800; }
.finding.info { border-color: #2e7d32; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: .85em; }
.code { font-family: ui-monospace, monospace; word-break: break-all; }
.causes li { margin: .4em 0; font-size: 1.1em; } .cause.crit { color: #8e1010; }
.matrix td { min-width: 7em; text-align: center; }
.path { display: flex; flex-wrap: wrap; align-items: center; gap: .3em; margin: 1em 0; }
.hop { border: 2px solid #2e7d32; border-radius: .4em; padding: .3em .6em; background: #eef8ec; }
.hop.stop { border-color: #c62828; background: #ffd6d6; font-weight: bold; }
.hop.unreached { border-style: dashed; border-color: #999; background: #f4f4f4; color: #666; }
.arrow { color: #666; }
"""


def _evidence(lines: tuple[str, ...], lang: str) -> str:
    """The evidence as measured: the protocol's lines, certificate fields and addresses,
    quoted as they were seen (the label says so in the page's language)."""
    if not lines:
        return ""
    label = escape(message("label.evidence_measured", lang))
    body = "".join(f"{escape(line)}\n" for line in lines)
    return f"<p><b>{label}:</b></p><pre>{body}</pre>"


def _finding(f: Finding, lang: str, *, with_remedy: bool = True) -> str:
    """One finding; in an endpoint's details without its remedy, which its cause says once
    for every endpoint it affects."""
    title, remedy = catalogue_text_of(f, lang)
    # The summaries are English sentences: in German, the title.
    said = escape(f.summary) if lang != "de" else escape(title)
    label = escape(message("label.remedy", lang))
    shown = f"<p><b>{label}:</b> {escape(remedy)}</p>" if remedy and with_remedy else ""
    return (
        f'<div class="finding {f.severity.value}"><p><span class="code">{escape(f.code)}</span> '
        f"({escape(severity_name(f.severity, lang))}): {said}</p>"
        + _evidence(f.evidence, lang)
        + shown
        + "</div>"
    )


def _cause_section(number_: int, cause: Cause, lang: str) -> str:
    """A cause once: its sentence, the endpoints, the evidence of the first, the remedy."""
    title, remedy = catalogue_text_of(cause, lang)
    affected = ", ".join(t.label for t in cause.endpoints)
    likely = ", ".join(t.label for t in cause.likely)
    parts = [
        f'<div class="finding {cause.severity.value}" id="cause-{number_}">'
        f"<p><b>[{number_}] {escape(severity_name(cause.severity, lang))}</b> "
        f'<span class="code">{escape(cause.code)}</span> ({escape(title)})</p>',
        f"<p>{escape(message('label.affects', lang))}: {escape(affected)}</p>",
    ]
    if likely:
        parts.append(f"<p>{escape(message('label.likely', lang))}: {escape(likely)}</p>")
    parts.append(_evidence(cause.evidence, lang))
    if remedy:
        parts.append(f"<p><b>{escape(message('label.remedy', lang))}:</b> {escape(remedy)}</p>")
    return "".join(parts) + "</div>"


def _endpoint_section(e: EndpointResult, lang: str) -> str:
    parts = [
        f'<h3 id="{escape(e.target.label)}">{escape(e.target.label)} '
        f"({escape(e.target.service.value)}) — "
        f'<span class="{e.status.name}">{escape(status_name(e.status, lang))}</span></h3>'
    ]
    parts += [_finding(f, lang, with_remedy=False) for f in e.findings]
    tls = e.protocol.tls if e.protocol is not None else None
    if tls is not None and tls.chain:
        rows = "".join(
            f"<tr><td>{i}</td><td>{escape(c.subject)}</td><td>{escape(c.issuer)}</td>"
            f"<td>{escape(c.not_before)} – {escape(c.not_after)}</td>"
            f'<td class="code">{escape(c.spki_sha256)}</td></tr>'
            for i, c in enumerate(tls.chain)
        )
        parts.append(
            "<table><tr><th>#</th><th>subject</th><th>issuer</th><th>valid</th>"
            "<th>SPKI SHA-256</th></tr>" + rows + "</table>"
        )
    if e.protocol is not None and e.protocol.transcript:
        lines = "".join(
            f"{t.at_ms:>8.1f} ms {escape(t.direction)} {escape(t.text)}\n"
            for t in e.protocol.transcript
        )
        parts.append(f"<details><summary>transcript</summary><pre>{lines}</pre></details>")
    for name, trace, hop_lines in (
        ("trace", e.trace, e.trace_lines),
        ("control trace", e.control_trace, e.control_trace_lines),
    ):
        if trace is not None and hop_lines:
            hops = "".join(f"{escape(line)}\n" for line in hop_lines)
            parts.append(f"<p>{name} to port {trace.port}:</p><pre>{hops}</pre>")
    return "\n".join(parts)


def _path_picture(e: EndpointResult, lang: str) -> str:
    """gateway → hop → hop → server as boxes: where the path stops is marked, and named
    (the ICMP sender, or the silence after the last hop that answered)."""
    trace = e.trace
    if trace is None or trace.error:
        return ""
    hops: dict[int, HopReply] = {}
    for reply in sorted(trace.replies, key=lambda r: r.ttl):
        hops.setdefault(reply.ttl, reply)
    answered = [r for r in hops.values() if r.kind is HopKind.TIME_EXCEEDED]
    ending = next((r for r in hops.values() if r.kind is not HopKind.TIME_EXCEEDED), None)
    boxes = [f'<div class="hop ok">{escape(message("label.gateway", lang))}</div>']
    for reply in answered:
        name = trace.name_of(reply.sender)
        label = f"{reply.ttl}: {escape(reply.sender)}" + (
            f"<br><small>{escape(name)}</small>" if name else ""
        )
        boxes.append(f'<div class="hop ok">{label}</div>')
    server = escape(f"{e.target.host} ({trace.destination}:{trace.port})")
    if ending is None:
        silent = escape(message("label.silent", lang))
        boxes.append(f'<div class="hop stop" data-stop="silent">✕ {silent}</div>')
        boxes.append(f'<div class="hop unreached">{server}</div>')
    elif ending.kind is HopKind.UNREACHABLE:
        boxes.append(
            f'<div class="hop stop" data-stop="icmp">✕ {ending.ttl}: {escape(ending.sender)}'
            f"<br><small>ICMP {ending.icmp_type}/{ending.icmp_code}</small></div>"
        )
        boxes.append(f'<div class="hop unreached">{server}</div>')
    else:
        state = "ok" if ending.kind is HopKind.SYN_ACK else "stop"
        boxes.append(f'<div class="hop {state}">{ending.ttl}: {server}</div>')
    arrows = '<span class="arrow">→</span>'.join(boxes)
    return f'<div class="path"><b>{escape(message("label.path", lang))}:</b> {arrows}</div>'


def _matrix(report: Report, lang: str) -> str:
    grid = matrix(report, lang)
    head = "".join(f"<th>{port}</th>" for port in grid.ports)
    rows = []
    for host in grid.hosts:
        cells = []
        for port in grid.ports:
            cell = grid.cells.get((host, port))
            if cell is None:
                cells.append('<td class="none"></td>')
                continue
            cells.append(
                f'<td class="{cell.status.name}" data-state="{cell.status.label}" '
                f'data-host="{escape(host)}" data-port="{port}">{escape(cell.shown(lang))}</td>'
            )
        rows.append(f"<tr><th>{escape(host)}</th>{''.join(cells)}</tr>")
    return (
        f'<table class="matrix"><tr><th>{escape(message("label.host", lang))}</th>{head}</tr>'
        + "".join(rows)
        + "</table>"
    )


def _causes(report: Report, lang: str) -> str:
    items = "".join(
        f'<li class="cause {c.severity.value}">{escape(cause_sentence(c, lang))}</li>'
        for c in report.causes
    )
    lines = answer_lines(report, lang)
    tail = "".join(f"<p>{escape(line)}</p>" for line in lines[len(report.causes) :])
    return (f'<ol class="causes">{items}</ol>' if items else "") + tail


def render_html(report: Report, lang: str = "en") -> str:
    lang = "de" if lang == "de" else "en"
    host_findings = report.host.findings if report.host is not None else ()
    local = "".join(_finding(f, lang) for f in (*report.local_findings, *host_findings))
    firewall = "".join(f"<li>{escape(line)}</li>" for line in firewall_lines(report, lang))
    snippet = snippet_lines(report, lang)
    if snippet:
        firewall += f"</ul><pre>{escape(chr(10).join(snippet))}</pre><ul>"
    notes = "".join(f"<li>{escape(note_text(n, lang))}</li>" for n in report.notes)
    title = message("text.title", lang)
    state = escape(status_name(report.status, lang))
    when = escape(report.started.isoformat(timespec="seconds"))
    paths = "".join(_path_picture(e, lang) for e in report.endpoints)
    causes = "".join(_cause_section(n, c, lang) for n, c in enumerate(report.causes, start=1))
    details = "".join(_endpoint_section(e, lang) for e in report.endpoints)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{escape(title)} {when}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{escape(title)} — <span class="{report.status.name}">{state}</span></h1>
<p>{when}, {number(report.duration_s, lang)} s, {escape(message("text.profile", lang))}
{escape(profile_name(report.profile, lang))}, netdiag {escape(__version__)}</p>
<h2>{escape(message("label.causes", lang))}</h2>
{_causes(report, lang)}
{_matrix(report, lang) if report.endpoints else ""}
{paths}
{local}
{f"<h2>{escape(message('text.problems', lang))}</h2>{causes}" if causes else ""}
<h2>{escape(message("fw.title", lang))}</h2>
<ul>{firewall}</ul>
{f"<ul>{notes}</ul>" if notes else ""}
<h2>{escape(message("label.details", lang))}</h2>
{details}
</body></html>
"""
