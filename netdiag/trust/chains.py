"""Certificates as facts, and chain verification against given anchors (no network)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from netdiag.report.observations import CertificateFacts, ChainVerification

if TYPE_CHECKING:
    from OpenSSL import crypto

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


def describe_der(der: bytes) -> CertificateFacts:
    """The facts of a certificate as received; one that cryptography refuses to parse
    still gets its fingerprint and the reason, so that one odd peer ends nothing."""
    try:
        return describe(x509.load_der_x509_certificate(der))
    except Exception as e:  # noqa: BLE001 - any parser complaint is a fact about the peer
        reason = f"{type(e).__name__}: {e}"[:200]
        return CertificateFacts(
            subject=f"(a certificate that cannot be parsed: {reason})",
            issuer="",
            serial="",
            not_before="",
            not_after="",
            sha256=hashlib.sha256(der).hexdigest(),
            spki_sha256="",
            parse_error=reason,
        )


def load_chain(chain_der: Sequence[bytes]) -> list[x509.Certificate] | None:
    """The presented chain as certificates, or None if any of them cannot be parsed."""
    readable, unreadable = load_readable(chain_der)
    return None if unreadable else readable


def load_readable(chain_der: Sequence[bytes]) -> tuple[list[x509.Certificate], list[str]]:
    """The certificates of a presented chain that `cryptography` can read, in order, and a
    line for each one it cannot (its position, fingerprint and the parser's reason): one
    odd certificate must not hide what the others prove."""
    readable: list[x509.Certificate] = []
    unreadable: list[str] = []
    for position, der in enumerate(chain_der):
        try:
            certificate = x509.load_der_x509_certificate(der)
            certificate.public_key()
        except Exception as e:  # noqa: BLE001 - see describe_der
            reason = f"{type(e).__name__}: {e}"[:200]
            digest = hashlib.sha256(der).hexdigest()
            unreadable.append(f"certificate {position} (SHA-256 {digest}): parse_error: {reason}")
            continue
        readable.append(certificate)
    return readable, unreadable


def authority_key_id(certificate: x509.Certificate) -> str:
    """The key identifier of the certificate's issuer, as its AuthorityKeyIdentifier says
    (hex), or ""."""
    try:
        value = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return ""
    key = value.value.key_identifier
    return key.hex() if key else ""


def subject_key_id(certificate: x509.Certificate) -> str:
    """The certificate's own key identifier (SubjectKeyIdentifier, hex), or ""."""
    try:
        value = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return ""
    return value.value.digest.hex()


def is_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether `ca`'s key signed `certificate` (names checked first, then the signature)."""
    if certificate.issuer != ca.subject:
        return False
    return _signed_by(certificate, ca)


# A check's endpoints present the same few chains, and every judgement of one follows its
# signatures again: each pair of certificates (equal by their DER) is verified once.
@functools.lru_cache(maxsize=512)
def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except Exception:  # noqa: BLE001 - InvalidSignature, unsupported key types: not issued
        return False
    return True


def signature_path(
    chain: Sequence[x509.Certificate],
    extra: Sequence[x509.Certificate] = (),
    max_depth: int = 8,
) -> list[x509.Certificate]:
    """The leaf and each certificate whose key signed the one before, followed through
    `chain[1:]` and `extra`: what actually vouches for the leaf. A certificate that is
    merely present (a genuine intermediate appended to a forged leaf) is not on it."""
    if not chain:
        return []
    candidates = [*chain[1:], *extra]
    path = [chain[0]]
    for _ in range(max_depth):
        current = path[-1]
        if current.subject == current.issuer and is_issued_by(current, current):
            break
        parent = next(
            (c for c in candidates if all(c is not p for p in path) and is_issued_by(current, c)),
            None,
        )
        if parent is None:
            break
        path.append(parent)
    return path


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
    """RFC 6125 matching of `server_name` (a DNS name or an IP address) against the
    certificate's subjectAltName, by service-identity rather than rules of our own."""
    from service_identity import CertificateError, VerificationError
    from service_identity.cryptography import (
        verify_certificate_hostname,
        verify_certificate_ip_address,
    )

    try:
        try:
            ipaddress.ip_address(server_name)
        except ValueError:
            verify_certificate_hostname(certificate, server_name.rstrip("."))
        else:
            verify_certificate_ip_address(certificate, server_name)
    except (CertificateError, VerificationError, ValueError):
        return False
    return True


# OpenSSL's verify errors that are about time only (X509_V_ERR_CERT_NOT_YET_VALID,
# _CERT_HAS_EXPIRED, and the same for CRLs): the path itself may hold.
_TIME_ERRORS = frozenset({9, 10, 11, 12})


def _window_midpoint(certificates: Sequence[x509.Certificate]) -> datetime | None:
    """A moment at which every one of `certificates` is valid, or None when there is none."""
    if not certificates:
        return None
    start = max(c.not_valid_before_utc for c in certificates)
    end = min(c.not_valid_after_utc for c in certificates)
    return start + (end - start) / 2 if start <= end else None


def anchor_store(anchors: Sequence[x509.Certificate], at: datetime) -> crypto.X509Store:
    """An OpenSSL store of `anchors` that verifies at the moment `at`; an issuing CA given
    as anchor is enough, as in the vendor's bundles (a certificate OpenSSL cannot take is
    left out, not an error)."""
    from OpenSSL import crypto

    store = crypto.X509Store()
    for anchor in anchors:
        # A certificate cryptography reads and OpenSSL does not (a name string of the
        # wrong type): left out, the other anchors still count.
        with contextlib.suppress(crypto.Error):
            store.add_cert(crypto.X509.from_cryptography(anchor))
    store.set_flags(crypto.X509StoreFlags.PARTIAL_CHAIN)
    store.set_time(at)
    return store


def verify_path(
    chain_der: Sequence[bytes],
    anchors: Sequence[x509.Certificate],
    anchors_name: str,
    server_name: str,
    at: datetime,
    also_at: Sequence[datetime] = (),
) -> tuple[ChainVerification, tuple[x509.Certificate, ...]] | None:
    """Whether the presented chain has a signature path to `anchors`, dates aside: tried at
    `at` (this machine's time) and each of `also_at` (the servers'), then at a moment when
    every presented certificate is valid, then at the leaf's own middle. The dates and the
    host name are parts of a proof of their own (`netdiag.trust.proof`); this says only who
    vouches for the leaf. Returns the verification and the certificates of the verified
    path (leaf to anchor); None without anchors.

    OpenSSL's verifier (through pyOpenSSL) rather than cryptography's: the latter enforces
    the CA/Browser Forum profile, which private vendor PKIs need not follow, and a
    "not trusted" here must mean "not issued by these CAs", not "unusual extensions". The
    certificates are read by OpenSSL too (it accepted them in the handshake).
    """
    if not anchors or not chain_der:
        return None
    from OpenSSL import crypto

    def failed(detail: str) -> tuple[ChainVerification, tuple[x509.Certificate, ...]]:
        verification = ChainVerification(
            is_trusted=False, anchors=anchors_name, name=server_name, detail=detail[:300]
        )
        return verification, ()

    presented = []
    for position, der in enumerate(chain_der):
        try:
            presented.append(crypto.load_certificate(crypto.FILETYPE_ASN1, der))
        except crypto.Error:
            if position == 0:
                return failed("the server certificate cannot be read")
            continue  # a CA certificate not even OpenSSL reads vouches for nothing
    readable, _ = load_readable(chain_der)
    moments = [at, *also_at, *(m for m in (_window_midpoint(readable),) if m is not None)]
    if readable:
        leaf_window = _window_midpoint(readable[:1])
        if leaf_window is not None:
            moments.append(leaf_window)
    time_errors: list[str] = []
    for moment in moments:
        store = anchor_store(anchors, moment)
        context = crypto.X509StoreContext(store, presented[0], presented[1:])
        try:
            context.verify_certificate()
        except crypto.X509StoreContextError as e:
            # pyOpenSSL's errors are [OpenSSL's code, the depth, its words].
            if e.errors[0] in _TIME_ERRORS:
                time_errors.append(str(e))
                continue
            return failed(str(e))
        verified = tuple(c.to_cryptography() for c in context.get_verified_chain())
        return ChainVerification(is_trusted=True, anchors=anchors_name, name=server_name), verified
    return failed(time_errors[0])  # what this machine's clock says
