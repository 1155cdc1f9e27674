"""POP3S rules: the greeting, a login, and what the server says once TLS is up (RFC 1939)."""

from __future__ import annotations

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.dialogue import (
    broken_after_tls,
    has_rejection,
    stated_rejection,
    tls_findings,
    transcript_tail,
    without_established,
)
from netdiag.report.model import Finding
from netdiag.report.observations import (
    ClientCertificateObservation,
    Pop3Observation,
    ProtocolStage,
    StageFailure,
)
from netdiag.settings.config import LoginKind
from netdiag.settings.targets import Target


def diagnose_pop3(
    target: Target,
    obs: Pop3Observation,
    client: ClientCertificateObservation | None,
) -> list[Finding]:
    where = f"POP3S on {target.label}"
    findings = tls_findings(target, obs, client)
    if obs.stopped_at is ProtocolStage.TLS or obs.tls is None:
        return findings
    tail = transcript_tail(obs)
    if obs.failure in (StageFailure.GARBAGE, StageFailure.TOO_LONG):
        summary = f"{where}: the peer does not speak POP3 ({obs.stopped_at.value}): "
        return [
            *without_established(findings),
            finding("pop3.protocol_error", summary + obs.failure_detail, tail),
        ]
    reply = obs.login or obs.greeting
    said = reply.as_sent if reply is not None else None
    findings = (
        stated_rejection(where, obs, client, findings, said)
        or broken_after_tls(where, obs, findings, "pop3.protocol_error")
        or findings
    )
    if has_rejection(findings):
        return findings
    if obs.greeting is not None and not obs.greeting.is_ok:
        summary = f"{where}: the greeting is an error: {obs.greeting.as_sent}"
        findings.append(finding("pop3.protocol_error", summary, tail))
    # A probe login with a made-up user is expected to fail; the mailbox's own must not.
    if obs.login is not None and not obs.login.is_ok and obs.login_kind is LoginKind.MAILBOX:
        summary = f"{where}: login refused: {obs.login.as_sent}"
        findings.append(finding("pop3.login_failed", summary, tail))
    if obs.login_withheld:
        findings.append(
            finding(
                "pop3.login_withheld",
                f"{where}: the mailbox password was not sent: the chain of this connection is "
                f"not proven the vendor's ({obs.login_withheld})",
                [f"why: {obs.login_withheld}", *tail],
            )
        )
    return findings
