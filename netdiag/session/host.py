"""`netdiag host` and `check --host`: the gateway checked against the vendor's system
requirements, as a part of the report like any other."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from netdiag.diagnosis.host import diagnose_host, host_notes
from netdiag.probes.host import observe_host
from netdiag.report.model import HostResult, Report
from netdiag.settings.host_requirements import HostRequirements


def check_host(requirements: HostRequirements, now: datetime | None = None) -> HostResult:
    observation = observe_host(requirements)
    findings = diagnose_host(observation, requirements, now or datetime.now(UTC))
    return HostResult(
        observation=observation, findings=tuple(findings), notes=tuple(host_notes(observation))
    )


def host_report(requirements: HostRequirements, profile: str) -> Report:
    """A report of the host checks alone."""
    started = datetime.now(UTC)
    result = check_host(requirements, started)
    duration = (datetime.now(UTC) - started).total_seconds()
    return Report(
        started=started,
        duration_s=round(duration, 3),
        endpoints=(),
        profile=profile,
        host=result,
        notes=result.notes,
    )


def with_host(report: Report, requirements: HostRequirements) -> Report:
    """`report` with the host checks added (`check --host`)."""
    result = check_host(requirements)
    return dataclasses.replace(report, host=result, notes=(*report.notes, *result.notes))
