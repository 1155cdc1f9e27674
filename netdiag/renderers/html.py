"""report.html: one self-contained file (no scripts, no external assets) a support engineer
opens in a browser: the endpoint table coloured by status, findings with evidence,
certificate chains and hop tables."""

from __future__ import annotations

from html import escape

from netdiag import __version__
from netdiag.report import EndpointResult, Finding, Report, Severity

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
"""


def _finding(f: Finding) -> str:
    evidence = "".join(f"{escape(line)}\n" for line in f.evidence)
    remedy = f"<p><b>What to do:</b> {escape(f.remedy)}</p>" if f.remedy else ""
    return (
        f'<div class="finding {f.severity.value}"><p><span class="code">{escape(f.code)}</span> '
        f"({escape(f.severity.value)}): {escape(f.summary)}</p>"
        + (f"<pre>{evidence}</pre>" if evidence else "")
        + remedy
        + "</div>"
    )


def _endpoint_section(e: EndpointResult) -> str:
    parts = [
        f'<h3 id="{escape(e.target.label)}">{escape(e.target.label)} '
        f"({escape(e.target.service.value)}) — "
        f'<span class="{e.status.name}">{e.status.name}</span></h3>'
    ]
    parts += [_finding(f) for f in e.findings]
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


def render_html(report: Report) -> str:
    rows = "".join(
        f'<tr class="{e.status.name}"><td>{e.status.name}</td>'
        f'<td><a href="#{escape(e.target.label)}">'
        f"{escape(e.target.host)}</a></td><td>{e.target.port}</td><td>{escape(e.target.service.value)}</td>"
        f"<td>{escape(e.headline.code + ': ' + e.headline.summary if e.headline else '')}</td></tr>"
        for e in report.endpoints
    )
    host_findings = report.host.findings if report.host is not None else ()
    local = "".join(_finding(f) for f in (*report.local_findings, *host_findings))
    certificate = ""
    if report.client_certificate is not None:
        leaf = report.client_certificate.leaf
        certificate = (
            f"<p>Client certificate: {escape(leaf.subject)}, issued by {escape(leaf.issuer)}, "
            f"valid until {escape(leaf.not_after)}</p>"
        )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>netdiag report {escape(report.started.isoformat(timespec="seconds"))}</title>
<style>{_STYLE}</style></head>
<body>
<h1>netdiag report — <span class="{report.status.name}">{report.status.name}</span></h1>
<p>{escape(report.started.isoformat(timespec="seconds"))}, {report.duration_s:.1f} s, profile
{escape(report.profile)}, netdiag {escape(__version__)}</p>
{certificate}{local}
<table><tr><th>status</th><th>host</th><th>port</th><th>service</th><th>finding</th></tr>{rows}</table>
{f"<ul>{notes}</ul>" if notes else ""}
<h2>Endpoints</h2>
{"".join(_endpoint_section(e) for e in report.endpoints)}
</body></html>
"""


__all__ = ["Severity", "render_html"]
