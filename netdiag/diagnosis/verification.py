"""The presented chain judged against the CA certificates the user gave (`--ca`, or the
CA certificates that came with `--cert`): a chain that does not verify, a certificate not
valid for the host name, or an expired one is `tls.untrusted`; a verified chain is evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509

from netdiag.chains import verify_chain
from netdiag.diagnosis.catalogue import finding
from netdiag.observations import ChainVerification, TlsObservation
from netdiag.report import Finding


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustContext:
    """What the presented chains are judged against: the anchors the user gave, and the
    machine's and the public trust stores (for where an interceptor's root lives)."""

    anchors: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    anchors_name: str = ""
    local_roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    public_roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)


def verification_of(
    tls: TlsObservation, trust: TrustContext, address: str, now: datetime
) -> ChainVerification | None:
    """The chain verified for the name we asked for (SNI), else the address; None when
    no anchors were given or no chain was presented."""
    return verify_chain(
        tls.chain_der, trust.anchors, trust.anchors_name, tls.server_name or address, now
    )


def diagnose_verification(
    where: str, tls: TlsObservation, verification: ChainVerification | None
) -> list[Finding]:
    if verification is None or verification.is_trusted:
        return []
    leaf = tls.chain[0] if tls.chain else None
    evidence = [
        f"checked against: {verification.anchors}",
        f"name checked: {verification.name}",
        f"reason: {verification.detail}",
    ]
    if leaf is not None:
        evidence.append(f"server certificate: {leaf.subject}, issued by {leaf.issuer}")
        evidence.append(f"valid {leaf.not_before} to {leaf.not_after}")
    return [
        finding(
            "tls.untrusted",
            f"{where}: the server's chain does not verify against {verification.anchors}: "
            f"{verification.detail}",
            evidence,
        )
    ]


def verified_line(verification: ChainVerification | None) -> list[str]:
    """An evidence line for a chain that verified."""
    if verification is None or not verification.is_trusted:
        return []
    return [f"the chain verifies against {verification.anchors} for {verification.name}"]
