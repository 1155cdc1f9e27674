"""One entry point for a whole run: the check, then traces of what is blocked and the host
checks, all inside a capture when asked for — `(config, options) -> Report`. The CLI only
parses options, builds these and renders the report."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from netdiag.config import CheckConfig
from netdiag.console import Console
from netdiag.flows import FlowLog
from netdiag.hostreq import HostRequirements
from netdiag.report import CaptureStats, Report


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOptions:
    """What a run does besides the check itself."""

    trace: bool = False
    capture_dir: Path | None = None  # a capture of netdiag's own packets, when given
    host: HostRequirements | None = None  # the host checks, when given


def run_session(
    config: CheckConfig, options: SessionOptions, console: Console | None = None
) -> Report:
    """The check of `config`, traced, host-checked and captured as `options` say."""
    from netdiag.run import run_check

    console = console or Console()
    flows = FlowLog() if options.capture_dir is not None else None
    with contextlib.ExitStack() as stack:
        capture = None
        if flows is not None and options.capture_dir is not None:
            from netdiag.probes.capture import Capture, capture_filter, capture_path

            bpf = capture_filter(
                [t.host for t in config.targets if t.is_address_literal],
                [t.port for t in config.targets],
            )
            path = capture_path(options.capture_dir, f"check_{config.profile_name}")
            capture = stack.enter_context(Capture(path, bpf, flows))
        report = run_check(config, console, flows)
        if options.trace:
            from netdiag.blocked_paths import TraceSettings, trace_report

            report, problem = trace_report(
                report, TraceSettings(timeout_s=min(config.timeout_s, 5.0)), flows=flows
            )
            if problem:
                console.warn(problem)
                report = dataclasses.replace(report, notes=(*report.notes, problem))
    if capture is not None:
        stats = CaptureStats(path=str(capture.path), kept=capture.packets, dropped=capture.dropped)
        note = (
            f"capture {capture.path.name}: kept {stats.kept} packets of netdiag's own "
            f"flows, dropped {stats.dropped} of other processes"
        )
        report = dataclasses.replace(
            report,
            captures=(*report.captures, stats.path),
            capture_stats=(*report.capture_stats, stats),
            notes=(*report.notes, note),
        )
    if options.host is not None:
        from netdiag.hostcheck import with_host

        report = with_host(report, options.host)
    return report
