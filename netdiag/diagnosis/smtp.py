"""SMTP rules: banner, EHLO, STARTTLS and the EHLO inside TLS (RFC 5321, RFC 3207)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.dialogue import (
    broken_after_tls,
    has_rejection,
    stated_rejection,
    tls_findings,
    transcript_tail,
    without_established,
)
from netdiag.diagnosis.hypotheses import Symptom, conclude
from netdiag.diagnosis.interception import died_without_a_word
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    ClientCertificateObservation,
    Experiment,
    ExperimentResult,
    HelloAnswer,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    SmtpObservation,
    StageFailure,
    TlsOutcome,
)
from netdiag.settings.targets import Target

# "220 ****************" — SMTP inspection (Cisco "banner obfuscation", others) hides the
# server's name behind asterisks.
_MASKED_BANNER = re.compile(r"^[*\s]*\*{4,}[*\s0-9A-Za-z.]*$")


# The server took a STARTTLS its EHLO reply did not offer: the offer was removed on the way
# (the finding's `detail`, which gives the cause its own sentence).
ACCEPTED = "accepted"
_REMOVED = (
    "The server accepts STARTTLS, but its offer is removed from the EHLO reply on the way (an "
    "SMTP proxy or ESMTP inspection): disable SMTP/ESMTP inspection for the vendor's mail "
    "servers."
)


def is_masked_banner(banner: Reply) -> bool:
    first = banner.lines[0] if banner.lines else ""
    return (
        bool(first)
        and bool(_MASKED_BANNER.match(first))
        and first.count("*") >= first.count(" ")
        and first.count("*") >= 4
    )


def is_banner_withheld(attempts: Sequence[ProtocolObservation]) -> bool:
    """Every SMTP attempt waited out its timeout without a byte of the banner: what calls
    for the hello at once (a device that expects TLS on the port waits for the client to
    speak first). A banner that began and paused, a closed connection, a healthy session:
    never."""
    return bool(attempts) and all(
        isinstance(a, SmtpObservation)
        and a.stopped_at is ProtocolStage.BANNER
        and a.failure is StageFailure.TIMEOUT
        and a.banner is None
        and not a.banner_first_ms
        for a in attempts
    )


# How a raw answer in words (`netdiag.probes.hello`) starts when it is an SMTP greeting.
_GREETING = "the answer starts with '220"
# What every verdict found by the hello at once says first.
NO_BANNER = "no SMTP banner within the timeout"


def hello_at_once_line(
    at_once: ProtocolObservation, is_vendors: bool, raw: ExperimentResult | None = None
) -> str:
    """What the TLS hello sent at once, on a port that sent no banner, got back; with
    `is_vendors`, its chain was proven the vendor's; `raw`, the same hello read raw where
    the first was answered in another protocol."""
    sent = f"a TLS ClientHello sent at once on a new connection to port {at_once.port}"
    tls = at_once.tls
    if tls is not None and tls.outcome is TlsOutcome.NOT_TLS and raw is not None:
        said = f"{sent} was answered in another protocol; read raw, the same hello got {raw.detail}"
        if raw.answer is HelloAnswer.NOT_TLS and raw.detail.startswith(_GREETING):
            return (
                f"{said}: the server's banner, sent only once the client spoke — something "
                "on the way holds it back until the client's first bytes (a transparent "
                "proxy, or an inspecting device that peeks at them)"
            )
        return said
    if tls is not None and tls.chain and is_vendors:
        return (
            f"{sent} was answered with the vendor's own chain: the server speaks TLS from the "
            "first byte on this port (implicit TLS, as on 465), not SMTP with STARTTLS — a "
            "port forwarded to the wrong port, or the server's configuration"
        )
    if tls is not None and tls.chain:
        return (
            f"{sent} was answered with a certificate chain (issuer {tls.chain[0].issuer!r}): "
            "what answers there waits for TLS, which an SMTP server never does — it speaks "
            "first"
        )
    if tls is not None and tls.has_peer_alert:
        return f"{sent} was refused with the alert {tls.alert or tls.post_handshake_alert!r}"
    if tls is not None and tls.outcome in (TlsOutcome.RESET, TlsOutcome.CLOSED):
        return f"{sent} was cut without a chain ({tls.error or tls.outcome.value})"
    if tls is not None and tls.outcome is TlsOutcome.STALLED:
        return f"{sent} got no answer either"
    return f"{sent}: {at_once.failure_detail or at_once.failure.value}"


def with_hello_at_once(
    findings: Sequence[Finding],
    at_once: ProtocolObservation | None,
    is_vendors: bool,
    experiments: Sequence[ExperimentResult] = (),
) -> tuple[Finding, ...]:
    """The missing banner's finding with what the hello at once (and the same hello read
    raw, among `experiments`) got, as evidence."""
    if at_once is None:
        return tuple(findings)
    raw = next((x for x in experiments if x.kind is Experiment.SAME_HELLO), None)
    line = hello_at_once_line(at_once, is_vendors, raw)
    return tuple(
        dataclasses.replace(f, evidence=(*f.evidence, line)) if f.code == "smtp.slow_banner" else f
        for f in findings
    )


def diagnose_banner_withheld(
    target: Target,
    at_once: ProtocolObservation,
    convicted: Sequence[tuple[Target, str]],
) -> list[Finding]:
    """An SMTP endpoint whose banner never came (the caller has checked) and whose TLS hello
    sent at once was cut without a chain or an alert, while other ports of the same host
    were proven intercepted in the same run: most likely the same device, waiting for TLS
    on this port as on the others and failing to reach the server in TLS there (sslsplit's
    `ssl` listener on 25 cuts the hello when the server answers with its banner instead of
    a ServerHello). Never for a hello unanswered (a tarpit), refused with an alert, or
    answered; never without a proven interception on the host."""
    others = [(t, issuer) for t, issuer in convicted if t.port != target.port]
    if not others or not died_without_a_word(at_once):
        return []
    issuers = sorted({issuer for _, issuer in others})
    ports = sorted({t.port for t, _ in others})
    evidence = [
        f"{NO_BANNER}; {hello_at_once_line(at_once, False)}",
        f"other ports of {target.host} were shown a forged chain in this run: "
        f"{', '.join(t.label for t, _ in others[:6])}",
        f"the device that showed them (product or issuer): {'; '.join(issuers)}",
    ]
    return [
        finding(
            "tls.intercepted",
            f"TLS on {target.label} is likely intercepted by the same device "
            f"({issuers[0]!r}) as on port {', '.join(str(p) for p in ports)}: the banner never "
            "came, and a TLS hello sent at once was cut before a chain was shown",
            evidence,
            subject=issuers[0],
            is_inferred=True,
        )
    ]


def answered_at_once_in_http(
    target: Target, at_once: ProtocolObservation | None, experiments: Sequence[ExperimentResult]
) -> Finding | None:
    """An SMTP port that sent no banner, whose TLS hello sent at once was answered in
    another protocol, and that protocol (the same hello, read raw) is a web proxy's HTTP:
    that proxy in the server's place (`netdiag.diagnosis.hypotheses`, 7), with how it was
    found first; else None."""
    if at_once is None or at_once.tls is None or at_once.tls.outcome is not TlsOutcome.NOT_TLS:
        return None
    found = conclude(target, Symptom.NOT_TLS, experiments)
    if found is None:
        return None
    raw = next((x for x in experiments if x.kind is Experiment.SAME_HELLO), None)
    first = f"{NO_BANNER}; {hello_at_once_line(at_once, False, raw)}"
    return dataclasses.replace(found, evidence=(first, *found.evidence))


def _refusal_code(reply: Reply) -> str:
    """4xx is "not now" (a session or rate limit), 5xx is "no"."""
    return "smtp.throttled" if 400 <= reply.code < 500 else "smtp.rejected"


def is_refused_for_now(attempt: ProtocolObservation) -> bool:
    """An SMTP session refused "for now" (4xx) at its greeting or its EHLO, before TLS: what
    a server's limit of connections per client answers (Postfix: "421 4.7.0 ... too many
    connections from ..."), and so what a run's own parallel connections may have caused."""
    if not isinstance(attempt, SmtpObservation):
        return False
    reply = {ProtocolStage.BANNER: attempt.banner, ProtocolStage.EHLO: attempt.ehlo}.get(
        attempt.stopped_at
    )
    return reply is not None and 400 <= reply.code < 500


def diagnose_smtp(
    target: Target,
    obs: SmtpObservation,
    client: ClientCertificateObservation | None,
    slow_banner_s: float,
) -> list[Finding]:
    where = f"SMTP on {target.label}"
    tail = transcript_tail(obs)
    if (
        obs.failure in (StageFailure.GARBAGE, StageFailure.TOO_LONG)
        and obs.stopped_at is not ProtocolStage.EHLO_TLS
    ):
        summary = f"{where}: the peer does not speak SMTP ({obs.stopped_at.value}): "
        return [finding("smtp.protocol_error", summary + obs.failure_detail, tail)]
    if obs.banner is None:
        if obs.stopped_at is not ProtocolStage.BANNER:
            return []
        if obs.failure is StageFailure.TIMEOUT and obs.banner_first_ms:
            summary = f"{where}: {obs.failure_detail}"
            return [finding("smtp.slow_banner", summary, tail, severity=Severity.CRIT)]
        if obs.failure is StageFailure.TIMEOUT:
            summary = f"{where}: no banner within the timeout"
            return [finding("smtp.slow_banner", summary, tail, severity=Severity.CRIT)]
        return [finding("smtp.early_close", f"{where}: the peer closed before the banner", tail)]
    if obs.banner.code != 220:
        summary = f"{where}: greeting refused: {obs.banner.as_sent}"
        return [finding(_refusal_code(obs.banner), summary, tail)]
    findings = _banner_findings(where, obs, slow_banner_s, tail)
    if obs.stopped_at is ProtocolStage.EHLO:
        return [*findings, _ehlo_failure(where, obs, tail)]
    if obs.ehlo is None:
        return findings
    findings += _starttls_findings(where, obs, tail)
    if obs.stopped_at is ProtocolStage.STARTTLS:
        return findings
    findings += tls_findings(target, obs, client)
    if obs.stopped_at is ProtocolStage.EHLO_TLS and obs.tls is not None:
        return _after_tls(where, obs, client, findings)
    return findings


def _banner_findings(
    where: str, obs: SmtpObservation, slow_banner_s: float, tail: list[str]
) -> list[Finding]:
    assert obs.banner is not None
    findings = []
    # Late is the first line: after it the server is speaking, and a pause of its own
    # before the last line (a pregreet test) is not the path's.
    if obs.banner_first_ms > slow_banner_s * 1000:
        summary = f"{where}: the banner came after {obs.banner_first_ms / 1000:.1f} s"
        findings.append(finding("smtp.slow_banner", summary, tail))
    pause_ms = obs.banner_ms - obs.banner_first_ms
    if pause_ms > slow_banner_s * 1000:
        summary = (
            f"{where}: the greeting's first line came after {obs.banner_first_ms / 1000:.1f} "
            f"s, its last {pause_ms / 1000:.1f} s later: the server's own pregreet test (as "
            "Postfix's postscreen runs it), which mail software waits for — not the path"
        )
        findings.append(finding("smtp.greeting_pause", summary, tail))
    if is_masked_banner(obs.banner):
        summary = f"{where}: the banner is masked: {obs.banner.as_sent!r}"
        findings.append(finding("smtp.banner_masked", summary, tail))
    return findings


def _ehlo_failure(where: str, obs: SmtpObservation, tail: list[str]) -> Finding:
    if obs.ehlo is not None:
        return finding(_refusal_code(obs.ehlo), f"{where}: EHLO refused: {obs.ehlo.as_sent}", tail)
    if obs.failure is StageFailure.TIMEOUT:
        return finding("smtp.no_reply", f"{where}: no answer to EHLO: {obs.failure_detail}", tail)
    return finding("smtp.early_close", f"{where}: the peer closed the session after EHLO", tail)


def _starttls_findings(where: str, obs: SmtpObservation, tail: list[str]) -> list[Finding]:
    """STARTTLS masked or missing (the answer to it is the evidence), and how it ended."""
    reply = obs.starttls_reply
    answer = reply.as_sent if reply is not None else "no answer"
    findings = []
    if obs.starttls_mask:
        summary = f"{where}: STARTTLS is masked as {obs.starttls_mask!r}"
        findings.append(
            finding("smtp.starttls_masked", summary, [*tail, f"answer to STARTTLS: {answer}"])
        )
    elif obs.took_unoffered_starttls:
        summary = (
            f"{where}: STARTTLS is removed from the EHLO reply on the way: sent anyway, it "
            f"was accepted ({answer})"
        )
        evidence = [*tail, f"answer to STARTTLS: {answer}"]
        findings.append(
            finding("smtp.starttls_missing", summary, evidence, remedy=_REMOVED, detail=ACCEPTED)
        )
    elif not obs.is_starttls_advertised:
        summary = f"{where}: STARTTLS is not offered in the EHLO reply"
        findings.append(
            finding("smtp.starttls_missing", summary, [*tail, f"answer to STARTTLS: {answer}"])
        )
    if obs.stopped_at is not ProtocolStage.STARTTLS:
        return findings
    if reply is None and obs.failure is StageFailure.TIMEOUT:
        summary = f"{where}: no answer to STARTTLS: {obs.failure_detail}"
        findings.append(finding("smtp.no_reply", summary, tail))
    elif reply is None:
        summary = f"{where}: the peer closed the session at STARTTLS"
        findings.append(finding("smtp.early_close", summary, tail))
    elif obs.is_starttls_advertised and not obs.starttls_mask:
        summary = f"{where}: STARTTLS answered with {answer}"
        findings.append(finding("smtp.starttls_refused", summary, tail))
    return findings


def _after_tls(
    where: str,
    obs: SmtpObservation,
    client: ClientCertificateObservation | None,
    findings: list[Finding],
) -> list[Finding]:
    """The EHLO inside TLS: a rejection stated there overrides `tls.established`."""
    reply = obs.after_tls
    said = reply.as_sent if reply is not None else None
    rejected = stated_rejection(where, obs, client, findings, said)
    if rejected is not None:
        return rejected
    if reply is not None and reply.code != 250 and not has_rejection(findings):
        summary = f"{where}: EHLO after TLS refused: {reply.as_sent}"
        refused = finding(_refusal_code(reply), summary, transcript_tail(obs))
        return [*without_established(findings), refused]
    code = "smtp.early_close" if obs.failure is StageFailure.CLOSED else "smtp.protocol_error"
    return broken_after_tls(where, obs, findings, code) or findings
