"""Renderers format a finished Report; they decide nothing. `render` picks the renderer
for an output format."""

from __future__ import annotations

from netdiag.report.model import Report


def render(report: Report, output_format: str, lang: str = "en") -> str:
    if output_format == "json":
        from netdiag.renderers.json import render_json

        return render_json(report)
    if output_format == "html":
        from netdiag.renderers.html import render_html

        return render_html(report, lang)
    if output_format == "checkmk":
        from netdiag.renderers.checkmk import render_checkmk

        return render_checkmk(report)
    from netdiag.renderers.table import render_table

    return render_table(report, lang)
