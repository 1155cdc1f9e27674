"""Client certificate rules, before any network: validity, key usage, bundled chain."""

from __future__ import annotations

from datetime import datetime

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import ClientCertificateObservation

DEFAULT_WARN_DAYS = 30


def diagnose_client_certificate(
    cert: ClientCertificateObservation,
    now: datetime,
    warn_days: int = DEFAULT_WARN_DAYS,
    servers_now: datetime | None = None,
    servers_clock: str = "",
) -> list[Finding]:
    """The client certificate's validity (at this machine's time and, where a server
    stated it, at the servers': valid by theirs and not by ours is this machine's clock),
    its purpose and the chain in its file."""
    leaf = cert.leaf
    not_before = datetime.fromisoformat(leaf.not_before)
    not_after = datetime.fromisoformat(leaf.not_after)
    evidence = [
        f"subject: {leaf.subject}",
        f"issuer: {leaf.issuer}",
        f"valid from {leaf.not_before} until {leaf.not_after}",
        f"file: {cert.source}",
    ]
    findings = []
    invalid_here = now > not_after or now < not_before
    if invalid_here and servers_now is not None and not_before <= servers_now <= not_after:
        findings.append(
            finding(
                "clock.offset",
                "the client certificate is valid by the servers' clock but not by this "
                f"machine's ({now.isoformat(timespec='seconds')}; the servers': "
                f"{servers_now.isoformat(timespec='seconds')}): the gateway's software "
                "judges it by this clock",
                [*evidence, f"the servers' time from: {servers_clock}"],
                severity=Severity.CRIT,
                subject=servers_clock,
            )
        )
    elif now > not_after:
        days = (now - not_after).days
        findings.append(
            finding(
                "cert.expired",
                f"the client certificate expired {days} days ago ({leaf.not_after})",
                evidence,
            )
        )
    elif now < not_before:
        findings.append(
            finding(
                "cert.not_yet_valid",
                f"the client certificate is valid only from {leaf.not_before}",
                [*evidence, f"now: {now.isoformat()}"],
            )
        )
    elif (not_after - now).days < warn_days:
        days = (not_after - now).days
        findings.append(
            finding(
                "cert.expires_soon",
                f"the client certificate expires in {days} days ({leaf.not_after})",
                evidence,
            )
        )
    usages = leaf.ext_key_usage
    if usages is not None and not {"clientAuth", "anyExtendedKeyUsage"} & set(usages):
        findings.append(
            finding(
                "cert.no_client_auth",
                "the client certificate is not for client authentication",
                [*evidence, f"extended key usage: {', '.join(usages)}"],
            )
        )
    if not cert.is_chain_complete:
        findings.append(
            finding(
                "cert.chain_incomplete",
                f"the certificate file does not hold the issuer {cert.missing_issuer!r}",
                [*evidence, f"CA certificates in the file: {len(cert.chain)}"]
                + [f"  {c.subject}" for c in cert.chain],
            )
        )
    return findings
