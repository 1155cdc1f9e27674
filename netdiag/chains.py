"""Certificates as facts, and chain verification against given anchors (no network)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from netdiag.observations import CertificateFacts, ChainVerification

_EKU_NAMES = {
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


def spki_sha256(certificate: x509.Certificate) -> str:
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def describe(certificate: x509.Certificate) -> CertificateFacts:
    """The facts of a certificate that people and the diagnosis read."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(v) for v in san.get_values_for_type(x509.DNSName)) + tuple(
            str(v) for v in san.get_values_for_type(x509.IPAddress)
        )
    except (x509.ExtensionNotFound, ValueError):
        names = ()
    try:
        eku_ext = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        eku: tuple[str, ...] | None = tuple(_EKU_NAMES.get(o, o.dotted_string) for o in eku_ext)
    except (x509.ExtensionNotFound, ValueError):
        eku = None
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (x509.ExtensionNotFound, ValueError):
        is_ca = False
    return CertificateFacts(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=format(certificate.serial_number, "x"),
        not_before=certificate.not_valid_before_utc.isoformat(),
        not_after=certificate.not_valid_after_utc.isoformat(),
        sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        spki_sha256=spki_sha256(certificate),
        san=names,
        ext_key_usage=eku,
        is_ca=is_ca,
        is_self_signed=certificate.subject == certificate.issuer,
    )


def is_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether `ca`'s key signed `certificate` (names checked first, then the signature)."""
    if certificate.issuer != ca.subject:
        return False
    try:
        certificate.verify_directly_issued_by(ca)
    except Exception:  # noqa: BLE001 - InvalidSignature, unsupported key types: not issued
        return False
    return True


def issuer_chain(
    leaf: x509.Certificate, others: Sequence[x509.Certificate], max_depth: int = 8
) -> tuple[bool, str]:
    """Whether `others` complete the chain of `leaf` up to a self-signed root; else the
    subject of the first issuer that is missing."""
    current = leaf
    for _ in range(max_depth):
        if current.subject == current.issuer:
            return True, ""
        parent = next((c for c in others if c.subject == current.issuer), None)
        if parent is None:
            return False, current.issuer.rfc4514_string()
        current = parent
    return False, current.issuer.rfc4514_string()


def name_matches(certificate: x509.Certificate, server_name: str) -> bool:
    """RFC 6125 matching of `server_name` against the SAN (one left-most wildcard label)."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    try:
        address = ipaddress.ip_address(server_name)
    except ValueError:
        address = None
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    wanted = server_name.lower().rstrip(".").split(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        labels = pattern.lower().rstrip(".").split(".")
        if len(labels) != len(wanted):
            continue
        if labels[0] == "*" and len(labels) > 2 and labels[1:] == wanted[1:]:
            return True
        if labels == wanted:
            return True
    return False


def verify_chain(
    chain_der: Sequence[bytes],
    anchors: Sequence[x509.Certificate],
    anchors_name: str,
    server_name: str,
    now: datetime,
) -> ChainVerification | None:
    """Verify the presented chain for `server_name` against `anchors`; None without anchors.

    OpenSSL's verifier (through pyOpenSSL) rather than cryptography's: the latter enforces
    the CA/Browser Forum profile, which private vendor PKIs need not follow, and a
    "not trusted" here must mean "not issued by these CAs", not "unusual extensions".
    """
    if not anchors or not chain_der:
        return None
    from OpenSSL import crypto

    try:
        chain = [x509.load_der_x509_certificate(d) for d in chain_der]
    except ValueError:
        return ChainVerification(
            is_trusted=False, anchors=anchors_name, detail="unparseable certificate"
        )
    store = crypto.X509Store()
    for anchor in anchors:
        store.add_cert(crypto.X509.from_cryptography(anchor))
    # An issuing CA given as anchor is enough, as in the vendor's bundle.
    store.set_flags(crypto.X509StoreFlags.PARTIAL_CHAIN)
    store.set_time(now)
    context = crypto.X509StoreContext(
        store,
        crypto.X509.from_cryptography(chain[0]),
        [crypto.X509.from_cryptography(c) for c in chain[1:]],
    )
    try:
        context.verify_certificate()
    except crypto.X509StoreContextError as e:
        return ChainVerification(is_trusted=False, anchors=anchors_name, detail=str(e)[:300])
    if not name_matches(chain[0], server_name):
        return ChainVerification(
            is_trusted=False,
            anchors=anchors_name,
            detail=f"the certificate is not valid for {server_name}",
        )
    return ChainVerification(is_trusted=True, anchors=anchors_name)
