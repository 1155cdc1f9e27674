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
from netdiag.report.model import Finding, Severity
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
    if obs.stopped_at is ProtocolStage.LOGIN and obs.failure is StageFailure.TIMEOUT:
        # It spoke POP3 up to the login and delays its answer to it: the way servers answer
        # a wrong password, not a peer that does not speak the protocol.
        whose = "the mailbox's" if obs.login_kind is LoginKind.MAILBOX else "a made-up user's"
        summary = f"{where}: no answer to {whose} login: {obs.failure_detail}"
        severity = None if obs.login_kind is LoginKind.MAILBOX else Severity.WARN
        return [*findings, finding("pop3.login_unanswered", summary, tail, severity=severity)]
    if obs.stopped_at is ProtocolStage.MAILBOX and obs.mailbox is None:
        # The login was taken and the session ended (or went silent) at the first command
        # after it: the server could not open the mailbox, and said so only by ending.
        summary = (
            f"{where}: the login was taken, then the session ended without opening the "
            f"mailbox ({obs.failure_detail})"
        )
        return [*findings, finding("pop3.mailbox_unavailable", summary, tail)]
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
        if obs.login.is_mailbox_busy:
            summary = (
                f"{where}: the credentials were taken, the mailbox is busy: {obs.login.as_sent}"
            )
            findings.append(finding("pop3.mailbox_in_use", summary, tail))
        elif obs.login.is_server_trouble:
            summary = f"{where}: the login failed on the server's side: {obs.login.as_sent}"
            findings.append(finding("pop3.mailbox_unavailable", summary, tail))
        else:
            summary = f"{where}: login refused: {obs.login.as_sent}"
            findings.append(finding("pop3.login_failed", summary, tail))
    if obs.mailbox is not None and not obs.mailbox.is_ok:
        summary = (
            f"{where}: the login was taken, but the server cannot open the mailbox: "
            f"{obs.mailbox.as_sent}"
        )
        findings.append(finding("pop3.mailbox_unavailable", summary, tail))
    if obs.login_not_repeated:
        why = [f"why: {obs.login_not_repeated}", *tail]
        findings.append(
            finding(
                "pop3.login_not_repeated",
                f"{where}: the mailbox password was not sent: {obs.login_not_repeated}",
                why,
            )
        )
        # The same user and password, refused by another server: most likely refused here
        # too, so this endpoint belongs to that cause as a likely one, not to what works.
        if obs.login_not_repeated_unanswered:
            code, elsewhere = "pop3.login_unanswered", "got no answer from another server"
        else:
            code, elsewhere = "pop3.login_failed", "was refused by another server"
        summary = f"{where}: not tried; the same login {elsewhere}"
        findings.append(finding(code, summary, why, is_inferred=True))
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
