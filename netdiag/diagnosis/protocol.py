"""Protocol rules: an endpoint's attempts, and which protocol's rules judge a dialogue."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.dialogue import tls_findings, transcript_tail
from netdiag.diagnosis.interception import died_without_a_word
from netdiag.diagnosis.pop3 import diagnose_pop3
from netdiag.diagnosis.smtp import diagnose_smtp, is_refused_for_now
from netdiag.diagnosis.tlsport import diagnose_tls_port
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    ClientCertificateObservation,
    Pop3Observation,
    ProtocolObservation,
    ProtocolStage,
    SmtpObservation,
    StageFailure,
    TlsPortObservation,
    most_telling,
)
from netdiag.settings.targets import Service, Target

DEFAULT_SLOW_BANNER_S = 3.0


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
    *,
    retried_alone: bool,
) -> list[Finding]:
    """The protocol findings of an endpoint from its attempts: the first on the
    reachability probe's connection, a second when the first failed in a way a retry can
    change. A completed attempt speaks for the endpoint; attempts that end differently
    add `endpoint.intermittent` with both in the evidence. A second `retried_alone`, after
    a first refused for now among the run's other connections, names the server's limit of
    connections per client when it completed."""
    tried = [a for n, a in enumerate(attempts) if n == 0 or a.failure is not StageFailure.DEADLINE]
    primary = most_telling(tuple(tried))
    assert primary is not None
    findings = diagnose_protocol(target, primary, client, slow_banner_s)
    if len(tried) < 2:
        return findings
    first, second = tried[0], tried[1]
    if retried_alone and is_refused_for_now(first):
        return _alone(target, first, second, findings)
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
        return _standing(findings, line)
    if primary.stopped_at is ProtocolStage.DONE:
        summary = (
            f"{target.label}: the first attempt failed ({first.stopped_at.value}: "
            f"{first.failure_detail or first.failure.value}), the second completed"
        )
    else:
        summary = f"{target.label}: two attempts failed in different ways"
    return [*findings, finding("endpoint.intermittent", summary, evidence)]


def _alone(
    target: Target,
    first: ProtocolObservation,
    second: ProtocolObservation,
    findings: list[Finding],
) -> list[Finding]:
    """The session refused for now (4xx) while the run's other probes were connected, tried
    again alone. Taken: the server limits connections per client, and the run's own
    parallel sessions met that limit — the completed session is the endpoint's verdict, the
    limit an information. Refused again: the refusal stands, with the lone try as evidence.
    Ended otherwise: two different ends, as any two attempts."""
    alone = "tried again after the round, alone (no other connection of netdiag open)"
    if (second.stopped_at, second.failure) == (first.stopped_at, first.failure):
        return _standing(findings, f"{alone}: refused again ({second.failure_detail})")
    evidence = [_describe_attempt(1, first), f"{alone}: {_describe_attempt(2, second)}"]
    if second.stopped_at is ProtocolStage.DONE:
        summary = (
            f"SMTP on {target.label}: refused for now ({first.failure_detail}) while "
            "netdiag's other sessions were connected, taken alone: the server limits "
            "connections per client"
        )
        return [*findings, finding("smtp.connection_limit", summary, evidence)]
    summary = f"{target.label}: refused for now among other sessions, alone it ended otherwise"
    return [*findings, finding("endpoint.intermittent", summary, evidence)]


def _standing(findings: list[Finding], line: str) -> list[Finding]:
    """The verdicts of a failure seen twice, with the second try as evidence of each that
    is not good news."""
    return [
        dataclasses.replace(f, evidence=(*f.evidence, line))
        if f.severity is not Severity.INFO
        else f
        for f in findings
    ]


def diagnose_protocol(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S,
) -> list[Finding]:
    if obs.stopped_at is ProtocolStage.CONNECT:
        if obs.failure is StageFailure.CLOSED:
            # Reset right after the handshake, before a byte: the service refused to talk.
            return [_reset_before_a_word(target, obs)]
        # No dialogue: the completeness rule says what was not checked and why.
        return []
    if obs.failure is StageFailure.DEADLINE:
        # Cut by our own deadline: no verdict on the peer beyond what the handshake showed.
        cut = ("tls.established", "tls.handshake_stalled")
        return [f for f in tls_findings(target, obs, client) if f.code not in cut]
    if isinstance(obs, SmtpObservation):
        return diagnose_smtp(target, obs, client, slow_banner_s)
    if isinstance(obs, Pop3Observation):
        return diagnose_pop3(target, obs, client)
    if isinstance(obs, TlsPortObservation):
        return diagnose_tls_port(target, obs, client)
    return []


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
