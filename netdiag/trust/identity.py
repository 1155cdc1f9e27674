"""The gateway's client identity: certificate, key and CA chain from PEM or PKCS#12.

Every failure is one CertificateError line that names the file and never the password or
any key material.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from netdiag.errors import CertificateError
from netdiag.files import FileKind, read_bounded
from netdiag.privacy.secret import Secret
from netdiag.report.observations import ClientCertificateObservation
from netdiag.trust.chains import describe, issuer_chain

MAX_FILE_BYTES = 1024 * 1024


class PasswordNeeded(CertificateError):
    """The file is protected and no password was given."""


class PasswordNotNeeded(CertificateError):
    """A password was given for a file that is not protected by one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientIdentity:
    """The certificate to present, its key (never shown) and the CA certificates with it."""

    certificate: x509.Certificate
    key: PrivateKeyTypes = field(repr=False, compare=False)
    chain: tuple[x509.Certificate, ...] = ()
    source: str = ""


CERTIFICATE_FILE = FileKind("certificate file", "Zertifikatsdatei")
KEY_FILE = FileKind("key file", "Schlüsseldatei")
CA_FILE = FileKind("CA file", "CA-Datei")


def _read(path: Path, kind: FileKind) -> bytes:
    data = read_bounded(path, MAX_FILE_BYTES, kind, CertificateError)
    if not data.strip():
        raise CertificateError(f"{kind.en} {path} is empty", de=f"{kind.de} {path} ist leer")
    return data


def spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches(certificate: x509.Certificate, key: PrivateKeyTypes) -> bool:
    return spki(certificate.public_key()) == spki(key.public_key())


def _is_der_sequence(data: bytes) -> bool:
    """Whether `data` is one DER SEQUENCE filling the file, as a PKCS#12 file is."""
    if len(data) < 2 or data[0] != 0x30:
        return False
    first = data[1]
    if first < 0x80:
        return 2 + first == len(data)
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return False
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big") == len(data)


def _load_pem_key(data: bytes, where: str, password: Secret | None) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(data, password.reveal() if password else None)
    except TypeError:
        if password is None:
            raise PasswordNeeded(
                f"the key in {where} is encrypted: give its password with --cert-password-file "
                "or NETDIAG_CERT_PASSWORD",
                de=f"der Schlüssel in {where} ist verschlüsselt: sein Passwort mit "
                "--cert-password-file oder NETDIAG_CERT_PASSWORD angeben",
            ) from None
        raise PasswordNotNeeded(
            f"the key in {where} is not encrypted, but a password was given",
            de=f"der Schlüssel in {where} ist nicht verschlüsselt, aber ein Passwort wurde "
            "angegeben",
        ) from None
    except ValueError:
        if password is not None:
            raise CertificateError(
                f"cannot decrypt the key in {where}: wrong password",
                de=f"der Schlüssel in {where} lässt sich nicht entschlüsseln: falsches Passwort",
            ) from None
        raise CertificateError(
            f"the key in {where} is damaged or of an unsupported type",
            de=f"der Schlüssel in {where} ist beschädigt oder von einem nicht unterstützten Typ",
        ) from None
    except Exception:  # noqa: BLE001 - unsupported algorithms raise their own types
        raise CertificateError(
            f"the key in {where} cannot be loaded",
            de=f"der Schlüssel in {where} lässt sich nicht laden",
        ) from None


def _load_pem(
    data: bytes, source: str, key_data: bytes | None, key_source: str, password: Secret | None
) -> ClientIdentity:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateError(
            f"{source}: the PEM certificate is damaged",
            de=f"{source}: das PEM-Zertifikat ist beschädigt",
        ) from None
    key_pem = key_data if key_data is not None else data
    if b"PRIVATE KEY-----" not in key_pem:
        where = key_source if key_data is not None else source
        raise CertificateError(
            f"no private key in {where}: give it with --key FILE",
            de=f"kein privater Schlüssel in {where}: mit --key DATEI angeben",
        )
    key = _load_pem_key(key_pem, key_source if key_data is not None else source, password)
    return _pick_leaf(certificates, key, source)


def _pick_leaf(
    certificates: list[x509.Certificate], key: PrivateKeyTypes, source: str
) -> ClientIdentity:
    matching = [c for c in certificates if key_matches(c, key)]
    if not matching:
        raise CertificateError(
            f"{source}: the private key does not belong to the certificate (cert.key_mismatch)",
            de=f"{source}: der private Schlüssel gehört nicht zum Zertifikat (cert.key_mismatch)",
        )
    leaf = matching[0]
    return ClientIdentity(
        certificate=leaf,
        key=key,
        chain=tuple(c for c in certificates if c is not leaf),
        source=source,
    )


def _looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` is one DER SEQUENCE that starts as a PFX does: `version INTEGER 3`,
    then the `authSafe` ContentInfo, a SEQUENCE (RFC 7292, 4). A five-byte DER sequence is
    not a bundle that wants a password."""
    if not _is_der_sequence(data):
        return False
    first = data[1]
    header = 2 if first < 0x80 else 2 + (first & 0x7F)
    return data[header : header + 4] == b"\x02\x01\x03\x30"


def _load_pkcs12(data: bytes, source: str, password: Secret | None) -> ClientIdentity:
    if not _looks_like_pkcs12(data):
        raise CertificateError(
            f"{source} is neither PEM nor PKCS#12: not a certificate file",
            de=f"{source} ist weder PEM noch PKCS#12: keine Zertifikatsdatei",
        )
    attempts: list[bytes | None] = [password.reveal()] if password else [None, b""]
    loaded = None
    for attempt in attempts:
        try:
            loaded = pkcs12.load_key_and_certificates(data, attempt)
            break
        except ValueError:
            continue
        except Exception:  # noqa: BLE001 - unsupported PBE or algorithms
            raise CertificateError(
                f"{source}: the PKCS#12 bundle uses an unsupported format",
                de=f"{source}: das PKCS#12-Bündel hat ein nicht unterstütztes Format",
            ) from None
    if loaded is None:
        if password is None:
            raise PasswordNeeded(
                f"{source} is protected by a password: give it with --cert-password-file "
                "or NETDIAG_CERT_PASSWORD",
                de=f"{source} ist mit einem Passwort geschützt: mit --cert-password-file oder "
                "NETDIAG_CERT_PASSWORD angeben",
            )
        if _opens_without_password(data):
            raise PasswordNotNeeded(
                f"{source} is not protected by a password, but one was given",
                de=f"{source} ist nicht mit einem Passwort geschützt, aber eines wurde angegeben",
            )
        raise CertificateError(
            f"cannot open {source}: wrong password (or a damaged PKCS#12 file)",
            de=f"{source} lässt sich nicht öffnen: falsches Passwort (oder eine beschädigte "
            "PKCS#12-Datei)",
        )
    key, certificate, additional = loaded
    if key is None or certificate is None:
        missing = "private key" if key is None else "certificate"
        missing_de = "keinen privaten Schlüssel" if key is None else "kein Zertifikat"
        raise CertificateError(
            f"{source}: the PKCS#12 bundle holds no {missing}",
            de=f"{source}: das PKCS#12-Bündel enthält {missing_de}",
        )
    return _pick_leaf([certificate, *additional], key, source)


def _opens_without_password(data: bytes) -> bool:
    for attempt in (None, b""):
        try:
            pkcs12.load_key_and_certificates(data, attempt)
        except Exception:  # noqa: BLE001, S112 - any failure: not this way
            continue
        return True
    return False


def load_identity(
    cert_path: Path, key_path: Path | None = None, password: Secret | None = None
) -> ClientIdentity:
    """Load the client identity from a PEM file (with `key_path` or a key inside) or PKCS#12."""
    data = _read(cert_path, CERTIFICATE_FILE)
    key_data = _read(key_path, KEY_FILE) if key_path is not None else None
    if b"-----BEGIN" in data:
        return _load_pem(data, str(cert_path), key_data, str(key_path), password)
    if key_data is not None:
        raise CertificateError(
            f"{cert_path} is not PEM: --key goes with a PEM certificate",
            de=f"{cert_path} ist kein PEM: --key gehört zu einem PEM-Zertifikat",
        )
    return _load_pkcs12(data, str(cert_path), password)


def load_ca_certificates(path: Path) -> tuple[x509.Certificate, ...]:
    """CA certificates from a PEM bundle or a single DER certificate (`--ca FILE`)."""
    data = _read(path, CA_FILE)
    loaders: list[Callable[[bytes], list[x509.Certificate]]] = [
        x509.load_pem_x509_certificates,
        lambda d: [x509.load_der_x509_certificate(d)],
    ]
    for loader in loaders:
        try:
            return tuple(loader(data))
        except ValueError:
            continue
    raise CertificateError(
        f"{path} holds no PEM or DER certificate",
        de=f"{path} enthält kein PEM- oder DER-Zertifikat",
    )


def observe_identity(identity: ClientIdentity) -> ClientCertificateObservation:
    """The identity's certificates as facts for the diagnosis and the report."""
    is_complete, missing = issuer_chain(identity.certificate, identity.chain)
    return ClientCertificateObservation(
        source=identity.source,
        leaf=describe(identity.certificate),
        issuer_names_der=tuple(
            dict.fromkeys(c.issuer.public_bytes() for c in (identity.certificate, *identity.chain))
        ),
        chain=tuple(describe(c) for c in identity.chain),
        is_chain_complete=is_complete,
        missing_issuer=missing,
    )
