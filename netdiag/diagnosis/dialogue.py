"""What the protocol rules share: the transcript's tail as evidence, the handshake's
findings with the chain verified, and what a session that got through TLS said next."""

from __future__ import annotations

import re

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.tls import diagnose_tls, rejected_by_reply
from netdiag.report.model import Finding
from netdiag.report.observations import (
    ClientCertificateObservation,
    ProtocolObservation,
    StageFailure,
)
from netdiag.settings.targets import Target

_CERTIFICATE_TEXT = re.compile(r"certificate", re.IGNORECASE)
# How a session may break after the handshake without a stated reason.
BROKEN_AFTER_TLS = (
    StageFailure.CLOSED,
    StageFailure.TIMEOUT,
    StageFailure.GARBAGE,
    StageFailure.TOO_LONG,
    StageFailure.TLS_ALERT,
)


def transcript_tail(obs: ProtocolObservation, count: int = 8) -> list[str]:
    return [f"{t.at_ms:>8.1f} ms {t.direction} {t.text}" for t in obs.transcript[-count:]]


def without_established(findings: list[Finding]) -> list[Finding]:
    """The findings without `tls.established`: a later step overrode it."""
    return [f for f in findings if f.code != "tls.established"]


def has_rejection(findings: list[Finding]) -> bool:
    return any(f.code in ("tls.client_cert_rejected", "tls.client_cert_required") for f in findings)


def tls_findings(
    target: Target,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
) -> list[Finding]:
    """The handshake's findings. Whose chain it presented is judged once per chain, apart
    (`netdiag.diagnosis.interception`)."""
    if obs.tls is None:
        return []
    return diagnose_tls(target, obs.tls, client)


def stated_rejection(
    where: str,
    obs: ProtocolObservation,
    client: ClientCertificateObservation | None,
    findings: list[Finding],
    said: str | None,
) -> list[Finding] | None:
    """The findings when the server's answer after the handshake (`said`, as it was sent)
    names the certificate: a stated rejection overrides `tls.established`. None otherwise."""
    if said is None or obs.tls is None or has_rejection(findings):
        return None
    if not _CERTIFICATE_TEXT.search(said):
        return None
    return [*without_established(findings), rejected_by_reply(where, said, obs.tls, client)]


def broken_after_tls(
    where: str, obs: ProtocolObservation, findings: list[Finding], code: str
) -> list[Finding] | None:
    """The findings when the session broke after the handshake without a stated reason
    (closed, silent, garbage, an alert): `code` replaces `tls.established`. None otherwise."""
    if obs.failure not in BROKEN_AFTER_TLS or has_rejection(findings):
        return None
    summary = f"{where}: after TLS: {obs.failure_detail}"
    return [*without_established(findings), finding(code, summary, transcript_tail(obs))]
