"""Renderers format a finished Report — the table, report.txt, HTML, JSON, check_mk, the
support bundle, the diff of two reports — and decide nothing. `render` picks the renderer
for an output format.

May import the report (model, messages) and the privacy helpers (the bundle's audit and
redaction); never probes, diagnosis, the session or the command line.
"""

from __future__ import annotations

from netdiag.report.model import Report


def render(report: Report, output_format: str, lang: str = "en") -> str:
    if output_format == "json":
        from netdiag.renderers.json import render_json

        return render_json(report)
    from netdiag.renderers.escape import visible_report

    # What servers and files chose is shown, never executed by a terminal.
    report = visible_report(report)
    if output_format == "html":
        from netdiag.renderers.html import render_html

        return render_html(report, lang)
    if output_format == "checkmk":
        from netdiag.renderers.checkmk import render_checkmk

        return render_checkmk(report)
    from netdiag.renderers.table import render_table

    return render_table(report, lang)
