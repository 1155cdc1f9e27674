"""What a proof that a chain is the vendor's server consists of — each part a named check
whose fact goes into the evidence (README and docs/trust.md, "What proves"):

| part | holds when | fails, and who must act |
|---|---|---|
| possession | the handshake completed: the server proved it holds the leaf's key (CertificateVerify or the Finished of an RSA exchange, checked by OpenSSL) | a chain shown in a handshake that did not complete proves nothing (a replayed chain) |
| path | the leaf's signature path reaches a pinned key, the `--ca` certificates, or the public roots (dates aside) | not the vendor's chain (`netdiag.diagnosis.interception`) |
| name | the host name is in the leaf's subjectAltName (RFC 6125, by service-identity) | another server's certificate from the vendor's CA: the vendor, or an impostor |
| purpose | the leaf may authenticate a server: serverAuth or no extended key usage | a client certificate (another gateway's) presented by a server |
| validity | every certificate on the path is valid — at this machine's time, and at the servers' where a protocol stated it | expired or not yet valid by both clocks: the vendor; by this machine's only: its clock |

A chain that has the path but misses name, purpose or dates is not the vendor's server as
presented, and the diagnosis says which part failed. Pure: the times are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from netdiag.report.observations import TlsObservation, TlsOutcome
from netdiag.trust.chains import name_matches


class Part(StrEnum):
    POSSESSION = "possession"
    PATH = "path"
    NAME = "name"
    PURPOSE = "purpose"
    VALIDITY = "validity"


@dataclass(frozen=True, slots=True)
class PartCheck:
    """One part of a proof: whether it holds, and the fact that says so."""

    part: Part
    holds: bool
    fact: str


def possession(tls: TlsObservation) -> PartCheck:
    if tls.outcome is TlsOutcome.ESTABLISHED:
        return PartCheck(
            Part.POSSESSION,
            True,
            "possession: the handshake completed, so the server proved it holds the leaf's "
            "private key",
        )
    return PartCheck(
        Part.POSSESSION,
        False,
        f"possession: not proven — the handshake did not complete ({tls.outcome.value}"
        + (f": {tls.error}" if tls.error else "")
        + "), so the server never showed it holds the key of the chain it presented",
    )


def name(leaf: x509.Certificate, server_name: str) -> PartCheck:
    names = _san(leaf)
    if name_matches(leaf, server_name):
        return PartCheck(Part.NAME, True, f"name: {server_name} is in the certificate ({names})")
    return PartCheck(
        Part.NAME,
        False,
        f"name: the certificate is not for {server_name} (subjectAltName: {names or 'none'}; "
        f"subject {leaf.subject.rfc4514_string()})",
    )


def purpose(leaf: x509.Certificate) -> PartCheck:
    try:
        usages = list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return PartCheck(Part.PURPOSE, True, "purpose: no extended key usage (any purpose)")
    except ValueError as e:
        return PartCheck(Part.PURPOSE, False, f"purpose: the extended key usage is damaged ({e})")
    named = ", ".join(_EKU_NAMES.get(u, u.dotted_string) for u in usages)
    if ExtendedKeyUsageOID.SERVER_AUTH in usages or (
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
    ):
        return PartCheck(Part.PURPOSE, True, f"purpose: may authenticate a server ({named})")
    return PartCheck(
        Part.PURPOSE,
        False,
        f"purpose: not a server certificate — its extended key usage is {named} only",
    )


def validity(path: Sequence[x509.Certificate], at: datetime, clock: str) -> PartCheck:
    """Every certificate of `path` valid at `at` (`clock` names whose time it is)."""
    for certificate in path:
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        subject = certificate.subject.rfc4514_string()
        if at < start:
            return PartCheck(
                Part.VALIDITY,
                False,
                f"validity by {clock} ({at.isoformat(timespec='seconds')}): {subject} is not "
                f"valid before {start.isoformat()}",
            )
        if at > end:
            return PartCheck(
                Part.VALIDITY,
                False,
                f"validity by {clock} ({at.isoformat(timespec='seconds')}): {subject} expired "
                f"on {end.isoformat()}",
            )
    return PartCheck(
        Part.VALIDITY,
        True,
        f"validity by {clock} ({at.isoformat(timespec='seconds')}): every certificate on the "
        "path is valid",
    )


_EKU_NAMES = {
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


def _san(leaf: x509.Certificate) -> str:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ""
    values = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    values += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    return ", ".join(values[:8]) + (" …" if len(values) > 8 else "")
