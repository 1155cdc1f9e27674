"""Protocol rules: what an SMTP, POP3S or TLS-port dialogue says about the path."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.interception import died_without_a_word
from netdiag.diagnosis.tls import diagnose_tls, rejected_by_reply
from netdiag.diagnosis.verification import (
    TrustContext,
    diagnose_verification,
    verification_of,
    verified_line,
)
from netdiag.observations import (
    POP3_OK,
    ClientCertificateObservation,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    StageFailure,
    TlsOutcome,
    most_telling,
)
from netdiag.report import Finding, Severity
from netdiag.targets import Service, Target

DEFAULT_SLOW_BANNER_S = 3.0
# "220 ****************" — SMTP inspection (Cisco "banner obfuscation", others) hides the
# server's name behind asterisks.
_MASKED_BANNER = re.compile(r"^[*\s]*\*{4,}[*\s0-9A-Za-z.]*$")
_CERTIFICATE_TEXT = re.compile(r"certificate", re.IGNORECASE)


def transcript_tail(obs: ProtocolObservation, count: int = 8) -> list[str]:
    return [f"{t.at_ms:>8.1f} ms {t.direction} {t.text}" for t in obs.transcript[-count:]]


def _reply_text(reply: Reply) -> str:
    """A reply as the server sent it: SMTP code and text, or POP3 +OK/-ERR and text."""
    if reply.code >= 100:
        return f"{reply.code} {reply.text}"
    return ("+OK " if reply.code == POP3_OK else "-ERR ") + reply.text


def is_masked_banner(banner: Reply) -> bool:
    first = banner.lines[0] if banner.lines else ""
    return (
        bool(first)
        and bool(_MASKED_BANNER.match(first))
        and first.count("*") >= first.count(" ")
        and first.count("*") >= 4
    )


def _describe_attempt(number: int, attempt: ProtocolObservation) -> str:
    detail = f": {attempt.failure_detail}" if attempt.failure_detail else ""
    if attempt.stopped_at is ProtocolStage.DONE:
        return f"attempt {number}: completed"
    stop = f"{attempt.stopped_at.value} ({attempt.failure.value}{detail})"
    return f"attempt {number}: stopped at {stop}"


def diagnose_attempts(
    target: Target,
    attempts: Sequence[ProtocolObservation],
    client: ClientCertificateObservation | None,
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S,
    trust: TrustContext | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """The protocol findings of an endpoint from its attempts: the first on the
    reachability probe's connection, a second when the first failed in a way a retry can
    change. A completed attempt speaks for the endpoint; attempts that end differently
    add `endpoint.intermittent` with both in the evidence."""
    trust = trust or TrustContext()
    tried = [a for n, a in enumerate(attempts) if n == 0 or a.failure is not StageFailure.DEADLINE]
    primary = most_telling(tuple(tried))
    assert primary is not None
    findings = diagnose_protocol(target, primary, client, slow_banner_s, trust, now)
    if len(tried) < 2:
        return findings
    first, second = tried[0], tried[1]
    evidence = [_describe_attempt(1, first), _describe_attempt(2, second)]
    same = (second.stopped_at, second.failure) == (first.stopped_at, first.failure) or (
        died_without_a_word(first) and died_without_a_word(second)
    )
    if same:
        # The same failure twice (or two silent ends: closed, reset, refused before a
        # word): the verdict stands, with the second try as evidence.
        exact = (second.stopped_at, second.failure) == (first.stopped_at, first.failure)
        line = (
            "a second attempt failed the same way"
            if exact
            else f"a second attempt also ended without a word: {_describe_attempt(2, second)}"
        )
        return [
            dataclasses.replace(f, evidence=(*f.evidence, line))
            if f.severity is not Severity.INFO
            else f
            for f in findings
        ]
    if primary.stopped_at is ProtocolStage.DONE:
        summary = (
            f"{target.label}: the first attempt failed ({first.stopped_at.value}: "
            f"{first.failure_detail or first.failure.value}), the second completed"
        )
    else:
        summary = f"{target.label}: two attempts failed in different ways"
    return [*findings, finding("endpoint.intermittent", summary, evidence)]


def diagnose_protocol(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S,
    trust: TrustContext | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    if obs.stopped_at is ProtocolStage.CONNECT:
        if obs.failure is StageFailure.CLOSED:
            # Reset right after the handshake, before a byte: the service refused to talk.
            return [_reset_before_a_word(target, obs)]
        # No dialogue: the completeness rule says what was not checked and why.
        return []
    trust = trust or TrustContext()
    now = now or datetime.now(UTC)
    if obs.failure is StageFailure.DEADLINE:
        # Cut by our own deadline: no verdict on the peer beyond what the handshake showed.
        return [
            f for f in _tls_findings(target, obs, client, trust, now) if f.code != "tls.established"
        ]
    if target.service is Service.SMTP_STARTTLS:
        return _smtp(target, obs, client, slow_banner_s, trust, now)
    if target.service is Service.POP3S:
        return _pop3(target, obs, client, trust, now)
    return _tls_port(target, obs, client, trust, now)


def _reset_before_a_word(target: Target, obs: ProtocolObservation) -> Finding:
    detail = obs.failure_detail or "connection reset by the peer"
    if target.service is Service.SMTP_STARTTLS:
        return finding(
            "smtp.early_close",
            f"SMTP on {target.label}: the peer closed the session before the banner ({detail})",
            transcript_tail(obs),
        )
    return finding(
        "tls.handshake_failed",
        f"TLS on {target.label} failed: {detail}, before the handshake",
        transcript_tail(obs),
    )


def _tls_findings(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    trust: TrustContext,
    now: datetime,
) -> list[Finding]:
    """The handshake's findings, with the chain verified against the given anchors."""
    if obs.tls is None:
        return []
    findings = diagnose_tls(target, obs.tls, client)
    if obs.tls.outcome is not TlsOutcome.ESTABLISHED or not obs.tls.chain:
        return findings
    verification = verification_of(obs.tls, trust, obs.address, now)
    untrusted = diagnose_verification(f"TLS on {target.label}", obs.tls, verification)
    if untrusted:
        return [f for f in findings if f.code != "tls.established"] + untrusted
    line = verified_line(verification)
    return [
        dataclasses.replace(f, evidence=(*f.evidence, *line)) if f.code == "tls.established" else f
        for f in findings
    ]


def _smtp(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    slow_banner_s: float,
    trust: TrustContext,
    now: datetime,
) -> list[Finding]:
    where = f"SMTP on {target.label}"
    tail = transcript_tail(obs)
    findings: list[Finding] = []
    if (
        obs.failure in (StageFailure.GARBAGE, StageFailure.TOO_LONG)
        and obs.stopped_at is not ProtocolStage.EHLO_TLS
    ):
        return [
            finding(
                "smtp.protocol_error",
                f"{where}: the peer does not speak SMTP ({obs.stopped_at.value}): "
                + obs.failure_detail,
                tail,
            )
        ]

    if obs.stopped_at is ProtocolStage.BANNER and obs.banner is None:
        if obs.failure is StageFailure.TIMEOUT:
            return [
                finding(
                    "smtp.slow_banner",
                    f"{where}: no banner within the timeout",
                    tail,
                    severity=Severity.CRIT,
                )
            ]
        return [finding("smtp.early_close", f"{where}: the peer closed before the banner", tail)]
    if obs.banner is not None:
        if obs.banner.code != 220:
            code = "smtp.throttled" if 400 <= obs.banner.code < 500 else "smtp.rejected"
            return [finding(code, f"{where}: greeting refused: {_reply_text(obs.banner)}", tail)]
        if obs.banner_ms > slow_banner_s * 1000:
            findings.append(
                finding(
                    "smtp.slow_banner",
                    f"{where}: the banner came after {obs.banner_ms / 1000:.1f} s",
                    tail,
                )
            )
        if is_masked_banner(obs.banner):
            findings.append(
                finding(
                    "smtp.banner_masked",
                    f"{where}: the banner is masked: {_reply_text(obs.banner)!r}",
                    tail,
                )
            )

    if obs.stopped_at is ProtocolStage.EHLO:
        if obs.ehlo is not None:
            code = "smtp.throttled" if 400 <= obs.ehlo.code < 500 else "smtp.rejected"
            return [
                *findings,
                finding(code, f"{where}: EHLO refused: {_reply_text(obs.ehlo)}", tail),
            ]
        if obs.failure is StageFailure.TIMEOUT:
            return [
                *findings,
                finding("smtp.no_reply", f"{where}: no answer to EHLO: {obs.failure_detail}", tail),
            ]
        return [
            *findings,
            finding("smtp.early_close", f"{where}: the peer closed the session after EHLO", tail),
        ]
    if obs.ehlo is None:
        return findings

    starttls = _reply_text(obs.starttls_reply) if obs.starttls_reply else "no answer"
    if obs.starttls_mask:
        findings.append(
            finding(
                "smtp.starttls_masked",
                f"{where}: STARTTLS is masked as {obs.starttls_mask!r}",
                [*tail, f"answer to STARTTLS: {starttls}"],
            )
        )
    elif not obs.is_starttls_advertised:
        findings.append(
            finding(
                "smtp.starttls_missing",
                f"{where}: STARTTLS is not offered in the EHLO reply",
                [*tail, f"answer to STARTTLS: {starttls}"],
            )
        )
    if obs.stopped_at is ProtocolStage.STARTTLS:
        if obs.starttls_reply is None and obs.failure is StageFailure.TIMEOUT:
            findings.append(
                finding(
                    "smtp.no_reply", f"{where}: no answer to STARTTLS: {obs.failure_detail}", tail
                )
            )
        elif obs.starttls_reply is None:
            findings.append(
                finding(
                    "smtp.early_close", f"{where}: the peer closed the session at STARTTLS", tail
                )
            )
        elif not (obs.starttls_mask or not obs.is_starttls_advertised):
            findings.append(
                finding(
                    "smtp.starttls_refused", f"{where}: STARTTLS answered with {starttls}", tail
                )
            )
        return findings

    findings += _tls_findings(target, obs, client, trust, now)
    if obs.stopped_at is ProtocolStage.EHLO_TLS and obs.tls is not None:
        findings = _after_tls(where, obs, client, findings, "smtp")
    return findings


def _after_tls(
    where: str,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    findings: list[Finding],
    protocol: str,
) -> list[Finding]:
    """The step after the handshake: a rejection stated there overrides `tls.established`."""
    assert obs.tls is not None
    already = any(f.code == "tls.client_cert_rejected" for f in findings)
    reply = obs.after_tls if protocol != "pop3" else (obs.login or obs.banner)
    rejected = None
    if reply is not None and _CERTIFICATE_TEXT.search(reply.text):
        rejected = rejected_by_reply(where, _reply_text(reply), obs.tls, client)
    if rejected is not None and not already:
        return [f for f in findings if f.code != "tls.established"] + [rejected]
    if reply is not None and protocol == "smtp" and reply.code != 250 and not already:
        code = "smtp.throttled" if 400 <= reply.code < 500 else "smtp.rejected"
        return [f for f in findings if f.code != "tls.established"] + [
            finding(
                code, f"{where}: EHLO after TLS refused: {_reply_text(reply)}", transcript_tail(obs)
            )
        ]
    if (
        obs.failure
        in (
            StageFailure.CLOSED,
            StageFailure.TIMEOUT,
            StageFailure.GARBAGE,
            StageFailure.TOO_LONG,
            StageFailure.TLS_ALERT,
        )
        and not already
    ):
        code = (
            "smtp.early_close"
            if protocol == "smtp" and obs.failure is StageFailure.CLOSED
            else f"{protocol}.protocol_error"
        )
        return [f for f in findings if f.code != "tls.established"] + [
            finding(code, f"{where}: after TLS: {obs.failure_detail}", transcript_tail(obs))
        ]
    return findings


def _pop3(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    trust: TrustContext,
    now: datetime,
) -> list[Finding]:
    where = f"POP3S on {target.label}"
    findings = _tls_findings(target, obs, client, trust, now)
    if obs.stopped_at is ProtocolStage.TLS or obs.tls is None:
        return findings
    if obs.failure in (StageFailure.GARBAGE, StageFailure.TOO_LONG):
        return [f for f in findings if f.code != "tls.established"] + [
            finding(
                "pop3.protocol_error",
                f"{where}: the peer does not speak POP3 ({obs.stopped_at.value}): "
                + obs.failure_detail,
                transcript_tail(obs),
            )
        ]
    findings = _after_tls(where, obs, client, findings, "pop3")
    if (
        obs.banner is not None
        and obs.banner.code != POP3_OK
        and not any(f.code == "tls.client_cert_rejected" for f in findings)
    ):
        findings.append(
            finding(
                "pop3.protocol_error",
                f"{where}: the greeting is an error: -ERR {obs.banner.text}",
                transcript_tail(obs),
            )
        )
    if (
        obs.login is not None
        and obs.login.code != POP3_OK
        and not any(f.code == "tls.client_cert_rejected" for f in findings)
    ):
        # A probe login with a made-up user is expected to fail; the mailbox's own must not.
        if obs.login_kind == "mailbox":
            findings.append(
                finding(
                    "pop3.login_failed",
                    f"{where}: login refused: -ERR {obs.login.text}",
                    transcript_tail(obs),
                )
            )
    return findings


def _tls_port(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    trust: TrustContext,
    now: datetime,
) -> list[Finding]:
    where = f"TLS on {target.label}"
    findings = _tls_findings(target, obs, client, trust, now)
    if obs.stopped_at is ProtocolStage.TLS or obs.tls is None:
        return findings
    reply = obs.after_tls
    if reply is not None and reply.code >= 400 and _CERTIFICATE_TEXT.search(reply.text):
        return [f for f in findings if f.code != "tls.established"] + [
            rejected_by_reply(where, reply.text, obs.tls, client)
        ]
    return findings
