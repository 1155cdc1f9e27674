"""Never OK unless checked: the one rule that every endpoint's findings pass last.

An endpoint is OK only if every step of its probe completed (its protocol dialogue reached
`done`). Any other stop must carry a finding that says which step was not reached and why:
the specific finding of the layer that failed when there is one (a refused connect, a
failed handshake), `run.incomplete` when the run's deadline or Ctrl-C cut the probe short,
`probe.error` when something broke inside netdiag, and `probe.incomplete` for any stop that
no other rule explains (a connection refused right after the port answered, a dialogue
that ended without a word).
"""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    DnsOutcome,
    EndpointObservation,
    ProbeStep,
    StageFailure,
    TcpOutcome,
)
from netdiag.settings.targets import Target

DEADLINE_PASSED = "the run's deadline passed"


def probe_error(
    target: Target, error: str, where: str = "probe", evidence: Sequence[str] = ()
) -> Finding:
    """An unexpected error inside one endpoint's probe or diagnosis, as its finding."""
    return finding(
        "probe.error",
        f"{target.label} not fully checked: an internal error in the {where}",
        [error, *evidence],
    )


def cut_short_by(observation: EndpointObservation) -> str:
    """Why the probe stopped by our own doing (deadline, Ctrl-C), or "" if it did not."""
    if observation.is_done:
        return ""
    if observation.cut_short:
        return observation.cut_short
    if observation.reached is ProbeStep.RESOLVE:
        dns = observation.dns
        if dns is not None and any(a.outcome is DnsOutcome.SKIPPED for a in dns.answers):
            return DEADLINE_PASSED
    if observation.reached is ProbeStep.CONNECT and any(
        t.outcome is TcpOutcome.SKIPPED for t in observation.tcp
    ):
        return DEADLINE_PASSED
    first = observation.attempts[0] if observation.attempts else None
    if first is not None and first.failure is StageFailure.DEADLINE:
        return DEADLINE_PASSED
    return ""


def _missing_step(observation: EndpointObservation) -> str:
    """Which step was not reached, and why, in words."""
    if observation.reached is ProbeStep.RESOLVE:
        return "the name gave no address to connect to"
    if observation.reached is ProbeStep.CONNECT:
        return "no address accepted the connection"
    last = observation.attempts[-1] if observation.attempts else None
    if last is None:
        return "the protocol dialogue did not start"
    why = last.failure_detail or last.failure.value
    tries = "" if len(observation.attempts) < 2 else f" (and on {len(observation.attempts)} tries)"
    return f"the protocol dialogue stopped at {last.stopped_at.value}{tries}: {why}"


def never_ok_unless_checked(
    target: Target, observation: EndpointObservation, findings: Sequence[Finding]
) -> list[Finding]:
    """`findings`, plus the finding that says what was not checked when the probe did not
    complete and nothing else says so."""
    result = list(findings)
    if observation.error:
        return [
            *result,
            probe_error(
                target,
                observation.error,
                evidence=(f"the probe stood at: {observation.reached.value}",),
            ),
        ]
    cut = cut_short_by(observation)
    if cut:
        if any(f.code == "run.incomplete" for f in result):
            return result
        return [
            *result,
            finding(
                "run.incomplete",
                f"{target.label} not fully checked: {cut} before the "
                f"{observation.reached.value} step was done",
            ),
        ]
    if observation.is_done or any(f.severity is not Severity.INFO for f in result):
        return result
    return [
        *result,
        finding(
            "probe.incomplete",
            f"{target.label} not fully checked: {_missing_step(observation)}",
            [
                f"the probe stood at: {observation.reached.value}",
                *(
                    f"attempt {n}: stopped at {a.stopped_at.value} ({a.failure.value}"
                    + (f": {a.failure_detail}" if a.failure_detail else "")
                    + ")"
                    for n, a in enumerate(observation.attempts, start=1)
                ),
            ],
        ),
    ]
