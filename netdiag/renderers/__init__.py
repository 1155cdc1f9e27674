"""Renderers format a finished Report; they decide nothing. `render` picks the renderer
for an output format."""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.observations import TraceObservation
from netdiag.report import Finding, Report


def render(report: Report, output_format: str) -> str:
    if output_format == "json":
        from netdiag.renderers.json import render_json

        return render_json(report)
    if output_format == "html":
        from netdiag.renderers.html import render_html

        return render_html(report)
    if output_format == "checkmk":
        from netdiag.renderers.checkmk import render_checkmk

        return render_checkmk(report)
    from netdiag.renderers.table import render_table

    return render_table(report)


def render_trace(
    label: str,
    trace: TraceObservation,
    control: TraceObservation | None,
    findings: Sequence[Finding],
    captures: Sequence[str],
    *,
    hop_lines: Sequence[str],
    control_hop_lines: Sequence[str] = (),
    as_json: bool,
) -> str:
    """A trace on its own, for `netdiag trace`; the hop lines come made."""
    if as_json:
        import json

        from netdiag.renderers.json import finding_to_dict, plain

        return json.dumps(
            {
                "schema": "netdiag.trace/1",
                "endpoint": label,
                "trace": plain(trace),
                "control": plain(control),
                "findings": [finding_to_dict(f) for f in findings],
                "captures": list(captures),
            },
            indent=2,
        )
    lines = [
        f"trace to {label} ({trace.destination}), {trace.probes_per_hop} probes per hop, "
        f"{trace.elapsed_ms / 1000:.1f} s"
    ]
    lines += hop_lines
    if control is not None:
        lines.append(f"control trace to port {control.port}:")
        lines += ["  " + line for line in control_hop_lines]
    lines += [f"{f.severity.name} {f.code}: {f.summary}" for f in findings]
    lines += [f"capture: {c}" for c in captures]
    return "\n".join(lines)
