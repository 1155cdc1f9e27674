"""Trust stores as data: what this machine trusts (the Windows Root store's
server-authentication anchors, the system bundle elsewhere) and the CA certificates it
merely holds (the Windows Intermediate store), parsed from what `netdiag.probes.trust_store`
read; and the Mozilla root set (certifi).

Every entry is read on its own: one that `cryptography` cannot load (an unsupported key
type, a damaged encoding) is left out with a note, never the end of the run.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from netdiag.trust.chains import is_issued_by, signature_path

MAX_BUNDLE_BYTES = 16 * 1024 * 1024
_SHA256 = hashes.SHA256()
# The purpose a Windows store entry must carry to anchor a TLS server's chain.
SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1"
# `ssl.enum_certificates` gives the trust of an entry as True (every purpose) or a set of
# purpose OIDs; anything else is no trust at all.
WindowsEntry = tuple[bytes, str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreadableEntry:
    """A trust-store entry left out: which store, its number, its subject where it could
    be read ("" otherwise), and why."""

    store: str
    entry: int
    subject: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineTrust:
    """The certificates this machine trusts as anchors for TLS servers (`roots`), the CA
    certificates it holds without trusting them (`intermediates`: Windows' "CA" store),
    where they came from, and the entries that could not be read (one line each)."""

    roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    intermediates: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    name: str = ""
    unreadable: tuple[UnreadableEntry, ...] = ()


def usable_certificate(der_or_pem: bytes, is_pem: bool) -> tuple[x509.Certificate | None, str]:
    """The certificate if the parts the trust rules read can be read (its names, its key),
    else None and why."""
    with warnings.catch_warnings():
        # System bundles carry old roots (negative serials and the like): read them all.
        warnings.simplefilter("ignore")
        try:
            certificate = (
                x509.load_pem_x509_certificate(der_or_pem)
                if is_pem
                else x509.load_der_x509_certificate(der_or_pem)
            )
            certificate.subject.public_bytes()
            certificate.issuer.public_bytes()
            certificate.public_key()
        except Exception as e:  # noqa: BLE001 - any parser complaint is a fact about the entry
            return None, f"{type(e).__name__}: {e}"[:200]
    return certificate, ""


def _subject_hint(data: bytes, is_pem: bool) -> str:
    """The subject of an entry that cannot be used, where the loader gets that far."""
    try:
        loaded = (
            x509.load_pem_x509_certificate(data) if is_pem else x509.load_der_x509_certificate(data)
        )
        return loaded.subject.rfc4514_string()
    except Exception:  # noqa: BLE001 - nothing more to say about it
        return ""


def read_entries(
    entries: Iterable[tuple[bytes, bool]], where: str
) -> tuple[tuple[x509.Certificate, ...], tuple[UnreadableEntry, ...]]:
    """The usable certificates of a store (DER or PEM blobs), and a line for each entry
    left out."""
    certificates: list[x509.Certificate] = []
    unreadable: list[UnreadableEntry] = []
    for number, (data, is_pem) in enumerate(entries, start=1):
        certificate, reason = usable_certificate(data, is_pem)
        if certificate is not None:
            certificates.append(certificate)
            continue
        unreadable.append(
            UnreadableEntry(
                store=where, entry=number, subject=_subject_hint(data, is_pem), reason=reason
            )
        )
    return tuple(certificates), tuple(unreadable)


def pem_blocks(data: bytes) -> list[bytes]:
    """Each `CERTIFICATE` block of a PEM bundle."""
    blocks = []
    for block in data.split(b"-----END CERTIFICATE-----"):
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start >= 0:
            blocks.append(block[start:] + b"-----END CERTIFICATE-----\n")
    return blocks


def pem_bundle(path: Path) -> tuple[tuple[x509.Certificate, ...], tuple[UnreadableEntry, ...]]:
    """The usable certificates of a PEM bundle, and the entries left out."""
    from netdiag.errors import NetdiagError
    from netdiag.files import FileKind, read_bounded

    try:
        data = read_bounded(
            path, MAX_BUNDLE_BYTES, FileKind("trust store", "Vertrauensspeicher"), NetdiagError
        )
    except NetdiagError as e:
        return (), (UnreadableEntry(store=str(path), entry=0, subject="", reason=str(e)),)
    return read_entries(((b, True) for b in pem_blocks(data)), str(path))


def _trust_purposes(trust: object) -> bool:
    """Whether a Windows store entry's trust covers server authentication."""
    if trust is True:
        return True
    return isinstance(trust, set | frozenset) and SERVER_AUTH_OID in trust


def windows_store_entries(
    root: Iterable[WindowsEntry], intermediate: Iterable[WindowsEntry]
) -> tuple[list[bytes], list[bytes]]:
    """The DER of the anchors and of the held CA certificates among `ssl.enum_certificates`
    entries: a Root entry anchors server chains only when its purposes include server
    authentication (or are unrestricted); an Intermediate ("CA") entry never anchors —
    Windows uses it to build paths, never to end them."""
    anchors = [
        der for der, encoding, trust in root if encoding == "x509_asn" and _trust_purposes(trust)
    ]
    held = [der for der, encoding, _ in intermediate if encoding == "x509_asn"]
    return anchors, held


def machine_trust_of_windows(
    root: Iterable[WindowsEntry], intermediate: Iterable[WindowsEntry]
) -> MachineTrust:
    anchors, held = windows_store_entries(root, intermediate)
    roots, bad_roots = read_entries(((d, False) for d in anchors), "Windows store Root")
    cas, bad_cas = read_entries(((d, False) for d in held), "Windows store CA")
    return MachineTrust(
        roots=roots,
        intermediates=cas,
        name="Windows certificate store Root (server authentication); CA store as intermediates",
        unreadable=(*bad_roots, *bad_cas),
    )


@functools.cache
def mozilla_roots() -> tuple[tuple[x509.Certificate, ...], str]:
    """The Mozilla root set as certifi ships it (entries it cannot read are left out);
    read once per process."""
    import certifi

    roots, _ = pem_bundle(Path(certifi.where()))
    return roots, f"Mozilla root set (certifi {certifi.__version__})"


class StoreIndex:
    """A store's certificates by subject and by fingerprint, built once per store."""

    def __init__(self, store: Sequence[x509.Certificate]) -> None:
        self.store = store
        self.by_subject: dict[bytes, list[x509.Certificate]] = {}
        for certificate in store:
            self.by_subject.setdefault(certificate.subject.public_bytes(), []).append(certificate)
        self.fingerprints = {c.fingerprint(_SHA256) for c in store}


# Indexes of the stores in use, by the identity of the store (kept alive by the index, so
# that an identity is never reused while its entry stands); a run has a handful of stores.
_INDEXES: dict[int, StoreIndex] = {}
_MAX_INDEXES = 16


def index_of(store: Sequence[x509.Certificate]) -> StoreIndex:
    index = _INDEXES.get(id(store))
    if index is None or index.store is not store:
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.clear()
        index = _INDEXES[id(store)] = StoreIndex(store)
    return index


def anchor_in(chain: Sequence[x509.Certificate], store: Sequence[x509.Certificate]) -> str:
    """The subject of the certificate in `store` that anchors `chain` — reached from the
    leaf by signatures, never by a certificate merely appended to the chain — or ""."""
    if not chain or not store:
        return ""
    index = index_of(store)
    for certificate in signature_path(chain):
        if certificate.fingerprint(_SHA256) in index.fingerprints:
            return _name(certificate)
        for issuer in index.by_subject.get(certificate.issuer.public_bytes(), []):
            if is_issued_by(certificate, issuer):
                return _name(issuer)
    return ""


def _name(certificate: x509.Certificate) -> str:
    try:
        return certificate.subject.rfc4514_string()
    except ValueError:
        return f"a certificate with SHA-256 {certificate.fingerprint(_SHA256).hex()}"
