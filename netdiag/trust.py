"""Trust stores: the machine's own (Windows certificate stores through the standard
library, the system bundle elsewhere) and the Mozilla root set (certifi)."""

from __future__ import annotations

import os
import ssl
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from netdiag.chains import is_issued_by, signature_path
from netdiag.observations import AnchorCheck

LOCAL_STORE_ENV = "NETDIAG_LOCAL_TRUST_STORE"
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
_SHA256 = hashes.SHA256()


def _pem_bundle(path: Path) -> tuple[x509.Certificate, ...]:
    try:
        data = path.read_bytes()[:MAX_BUNDLE_BYTES]
    except OSError:
        return ()
    certificates = []
    for block in data.split(b"-----END CERTIFICATE-----"):
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start < 0:
            continue
        pem = block[start:] + b"-----END CERTIFICATE-----\n"
        with warnings.catch_warnings():
            # System bundles carry old roots (negative serials and the like): read them all.
            warnings.simplefilter("ignore")
            try:
                certificates.append(x509.load_pem_x509_certificate(pem))
            except ValueError:
                continue  # one odd entry must not hide the others
    return tuple(certificates)


def local_roots(override: Path | None = None) -> tuple[tuple[x509.Certificate, ...], str]:
    """The certificates this machine trusts, and where they came from."""
    path = override or (
        Path(os.environ[LOCAL_STORE_ENV]) if os.environ.get(LOCAL_STORE_ENV) else None
    )
    if path is not None:
        return _pem_bundle(path), str(path)
    if sys.platform == "win32":
        from netdiag.probes.windows import trusted_certificates

        certificates = []
        for store in ("ROOT", "CA"):
            entries = ssl.enum_certificates(store)  # type: ignore[attr-defined,unused-ignore]
            for der in trusted_certificates(entries):
                try:
                    certificates.append(x509.load_der_x509_certificate(der))
                except ValueError:
                    continue
        return tuple(certificates), "Windows certificate stores ROOT and CA"
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return _pem_bundle(Path(candidate)), candidate
    return (), "no system trust store found"


def mozilla_roots() -> tuple[tuple[x509.Certificate, ...], str]:
    import certifi

    return _pem_bundle(Path(certifi.where())), f"Mozilla root set (certifi {certifi.__version__})"


def anchor_in(chain: Sequence[x509.Certificate], store: Sequence[x509.Certificate]) -> str:
    """The subject of the certificate in `store` that anchors `chain` — reached from the
    leaf by signatures, never by a certificate merely appended to the chain — or ""."""
    if not chain or not store:
        return ""
    by_subject: dict[bytes, list[x509.Certificate]] = {}
    for certificate in store:
        by_subject.setdefault(certificate.subject.public_bytes(), []).append(certificate)
    fingerprints = {c.fingerprint(_SHA256) for c in store}
    for certificate in signature_path(chain):
        if certificate.fingerprint(_SHA256) in fingerprints:
            return certificate.subject.rfc4514_string()
        for issuer in by_subject.get(certificate.issuer.public_bytes(), []):
            if is_issued_by(certificate, issuer):
                return issuer.subject.rfc4514_string()
    return ""


def check_anchors(
    chain: Sequence[x509.Certificate],
    local: Sequence[x509.Certificate],
    public: Sequence[x509.Certificate],
) -> AnchorCheck:
    return AnchorCheck(local_anchor=anchor_in(chain, local), public_anchor=anchor_in(chain, public))
