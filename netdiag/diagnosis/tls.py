"""TLS rules for one handshake: failed, stalled, client certificate not requested,
rejected, issuer not accepted."""

from __future__ import annotations

import re

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding
from netdiag.report.observations import ClientCertificateObservation, TlsObservation, TlsOutcome
from netdiag.settings.targets import Target

# Alerts by which a server rejects the client's certificate (RFC 8446 6.2), in OpenSSL's
# and in our own spelling ("tlsv13 alert certificate required", "certificate_required").
CERT_ALERT = re.compile(
    r"bad[ _]certificate|unsupported[ _]certificate|certificate[ _]revoked|"
    r"certificate[ _]expired|certificate[ _]unknown|unknown[ _]ca|access[ _]denied|"
    r"certificate[ _]required",
    re.IGNORECASE,
)
_HANDSHAKE_FAILURE = re.compile(r"handshake[ _]failure", re.IGNORECASE)


def describe_tls(tls: TlsObservation) -> list[str]:
    """Evidence lines for a handshake."""
    lines = []
    if tls.version:
        lines.append(f"negotiated {tls.version} {tls.cipher} in {tls.handshake_ms:g} ms")
    if tls.chain:
        lines.append(f"server certificate: {tls.chain[0].subject}, issued by {tls.chain[0].issuer}")
    if tls.was_client_cert_requested is not None:
        requested = "yes" if tls.was_client_cert_requested else "no"
        lines.append(
            f"client certificate requested: {requested}; "
            f"sent: {'yes' if tls.was_client_cert_sent else 'no'}"
        )
    if tls.client_ca_names:
        lines.append("acceptable client CAs: " + "; ".join(tls.client_ca_names[:8]))
    for text in (tls.alert, tls.post_handshake_alert, tls.error):
        if text:
            lines.append(text)
    return lines


def diagnose_tls(
    target: Target, tls: TlsObservation, client: ClientCertificateObservation | None
) -> list[Finding]:
    evidence = describe_tls(tls)
    where = f"TLS on {target.label}"
    if tls.outcome is TlsOutcome.STALLED:
        return [
            finding(
                "tls.handshake_stalled",
                f"{where}: no handshake answer within {tls.timeout_s:g} s (TCP is open)",
                evidence,
            )
        ]
    if tls.outcome is not TlsOutcome.ESTABLISHED:
        alerts = f"{tls.alert} {tls.error}"
        if tls.was_client_cert_requested and (
            CERT_ALERT.search(alerts) or (_HANDSHAKE_FAILURE.search(alerts) and client is None)
        ):
            return [_rejected(where, client, evidence)]
        if "inappropriate fallback" in tls.error and not tls.has_peer_alert:
            # OpenSSL refused a ServerHello whose random carries RFC 8446's downgrade
            # marker: a TLS 1.3 server answered 1.2 because the hello it got offered no 1.3,
            # though ours did — something on the path rewrote it.
            return [
                finding(
                    "tls.downgraded",
                    f"{where}: the server answered with its TLS 1.3 downgrade marker (RFC 8446) "
                    "to a hello that offered TLS 1.3: a device on the path removed TLS 1.3 from "
                    "the gateway's ClientHello",
                    [*evidence, f"OpenSSL: {tls.error} ({tls.alert})"],
                )
            ]
        reason = {
            TlsOutcome.RESET: "the connection was reset",
            TlsOutcome.CLOSED: "the peer closed the connection",
            TlsOutcome.NOT_TLS: "the peer does not speak TLS",
        }.get(tls.outcome, tls.alert or tls.error or "no alert and no error were said")
        return [finding("tls.handshake_failed", f"{where} failed: {reason}", evidence)]

    findings = []
    if not tls.was_client_cert_requested:
        findings.append(
            finding(
                "tls.client_cert_not_requested",
                f"{where}: the server did not ask for a client certificate",
                evidence,
            )
        )
    elif CERT_ALERT.search(tls.post_handshake_alert):
        findings.append(_rejected(where, client, evidence))
    if (
        client is not None
        and tls.client_ca_der
        and not set(client.issuer_names_der) & set(tls.client_ca_der)
    ):
        findings.append(
            finding(
                "cert.issuer_not_accepted",
                f"{where}: the server does not accept our certificate's issuer",
                [f"our issuer: {client.leaf.issuer}", *evidence],
            )
        )
    if not findings:
        findings.append(
            finding(
                "tls.established",
                f"{where}: {tls.version}, client certificate requested and sent"
                if tls.was_client_cert_sent
                else f"{where}: {tls.version} established",
                evidence,
            )
        )
    return findings


def _rejected(
    where: str, client: ClientCertificateObservation | None, evidence: list[str]
) -> Finding:
    if client is None:
        # Nothing was rejected: netdiag had no certificate to show. The authentication is
        # what was not checked, and the gateway's own software does have one.
        summary = (
            f"{where}: the server asks for the gateway's client certificate and none was "
            "given: run again with --cert to check the authentication too"
        )
        return finding("tls.client_cert_required", summary, evidence)
    summary = f"{where}: the server rejects our client certificate"
    return finding("tls.client_cert_rejected", summary, evidence)


def rejected_by_reply(
    where: str, quoted: str, tls: TlsObservation, client: ClientCertificateObservation | None
) -> Finding:
    """A rejection that the server states in the protocol after the handshake."""
    return _rejected(where, client, [f"server: {quoted}", *describe_tls(tls)])
