"""Rules for TLS on a port of its own (8140): the handshake, and a rejection the server
states in its first answer."""

from __future__ import annotations

from netdiag.diagnosis.dialogue import stated_rejection, tls_findings
from netdiag.report.model import Finding
from netdiag.report.observations import (
    ClientCertificateObservation,
    ProtocolStage,
    TlsPortObservation,
)
from netdiag.settings.targets import Target


def diagnose_tls_port(
    target: Target,
    obs: TlsPortObservation,
    client: ClientCertificateObservation | None,
) -> list[Finding]:
    findings = tls_findings(target, obs, client)
    if obs.stopped_at is ProtocolStage.TLS or obs.tls is None:
        return findings
    response = obs.response
    if response is None or response.code < 400:
        return findings
    # The status line and body as the server sent them (an HTTP 4xx naming the certificate).
    rejected = stated_rejection(f"TLS on {target.label}", obs, client, findings, response.text)
    return rejected or findings
