"""Loading the gateway's identity (`netdiag.trust.identity`) as a table of files: every form
the vendor delivers (PKCS#12 with and without a password, PEM with the key inside or
beside it, an encrypted PEM key) and every way such a file is wrong, each with the one line
that names the file and the problem — and which certificate becomes the leaf."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
    pkcs12,
)

from netdiag.privacy.secret import Secret
from netdiag.trust.chains import describe
from netdiag.trust.identity import (
    CertificateError,
    PasswordNeeded,
    PasswordNotNeeded,
    _is_der_sequence,
    key_matches,
    load_ca_certificates,
    load_identity,
    observe_identity,
)
from tests.golden import GOLDEN

ROOT = trustme.CA(organization_name="Vendor Client Root")
ISSUING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Client Issuing")
LEAF = ISSUING.issue_cert("gw.hospital.example", common_name="gw.hospital.example")
PASSWORD = b"Gateway-Pass-1"


def certificate(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


LEAF_CERT = certificate(LEAF.cert_chain_pems[0].bytes())
ISSUING_NAME = LEAF_CERT.issuer.public_bytes()
ROOT_NAME = certificate(ISSUING.cert_pem.bytes()).issuer.public_bytes()
KEY = load_pem_private_key(LEAF.private_key_pem.bytes(), None)
CAS = [certificate(ISSUING.cert_pem.bytes()), certificate(ROOT.cert_pem.bytes())]
CA_PEMS = ISSUING.cert_pem.bytes() + ROOT.cert_pem.bytes()
KEY_PEM = LEAF.private_key_pem.bytes()
ENCRYPTED_KEY = KEY.private_bytes(  # type: ignore[union-attr]
    Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(PASSWORD)
)
OTHER_KEY_PEM = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
)


def p12(password: bytes | None, *, key: bool = True, cas: bool = True) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"gateway",
        KEY if key else None,  # type: ignore[arg-type]
        LEAF_CERT,
        CAS if cas else None,
        BestAvailableEncryption(password) if password else NoEncryption(),
    )


@dataclass(frozen=True)
class Files:
    cert: bytes
    key: bytes | None = None
    password: bytes | None = None


@dataclass(frozen=True)
class Loaded:
    """A file that loads: the leaf must be the gateway's, the chain its CAs."""

    chain: int


@dataclass(frozen=True)
class Refused:
    error: type[CertificateError]
    says: str


ROWS: list[tuple[str, Files, Loaded | Refused]] = [
    ("PKCS#12 with a password", Files(p12(PASSWORD), password=PASSWORD), Loaded(2)),
    ("PKCS#12 without a password", Files(p12(None)), Loaded(2)),
    ("PKCS#12 without its CAs", Files(p12(None, cas=False)), Loaded(0)),
    (
        "PKCS#12 whose password was not given",
        Files(p12(PASSWORD)),
        Refused(PasswordNeeded, "is protected by a password: give it with --cert-password-file"),
    ),
    (
        "PKCS#12 with the wrong password",
        Files(p12(PASSWORD), password=b"wrong-password"),
        Refused(CertificateError, "wrong password (or a damaged PKCS#12 file)"),
    ),
    (
        "PKCS#12 without a password, but one given",
        Files(p12(None), password=PASSWORD),
        Refused(PasswordNotNeeded, "is not protected by a password, but one was given"),
    ),
    (
        "PKCS#12 without a key",
        Files(p12(None, key=False)),
        Refused(CertificateError, "the PKCS#12 bundle holds no private key"),
    ),
    (
        "PEM: certificate, key and CAs in one file",
        Files(LEAF.cert_chain_pems[0].bytes() + KEY_PEM + CA_PEMS),
        Loaded(2),
    ),
    (
        "PEM: the CAs first, the leaf found by its key",
        Files(CA_PEMS + LEAF.cert_chain_pems[0].bytes() + KEY_PEM),
        Loaded(2),
    ),
    (
        "PEM with the key beside it",
        Files(LEAF.cert_chain_pems[0].bytes(), key=KEY_PEM),
        Loaded(0),
    ),
    (
        "PEM with an encrypted key and its password",
        Files(LEAF.cert_chain_pems[0].bytes(), key=ENCRYPTED_KEY, password=PASSWORD),
        Loaded(0),
    ),
    (
        "PEM with an encrypted key, no password",
        Files(LEAF.cert_chain_pems[0].bytes(), key=ENCRYPTED_KEY),
        Refused(PasswordNeeded, "is encrypted: give its password with --cert-password-file"),
    ),
    (
        "PEM with an encrypted key, the wrong password",
        Files(LEAF.cert_chain_pems[0].bytes(), key=ENCRYPTED_KEY, password=b"wrong-password"),
        Refused(CertificateError, "cannot decrypt the key in key.pem: wrong password"),
    ),
    (
        "PEM with a plain key, but a password given",
        Files(LEAF.cert_chain_pems[0].bytes(), key=KEY_PEM, password=PASSWORD),
        Refused(PasswordNotNeeded, "the key in key.pem is not encrypted, but a password"),
    ),
    (
        "PEM without a key",
        Files(LEAF.cert_chain_pems[0].bytes()),
        Refused(CertificateError, "no private key in cert: give it with --key FILE"),
    ),
    (
        "PEM with another key",
        Files(LEAF.cert_chain_pems[0].bytes(), key=OTHER_KEY_PEM),
        Refused(CertificateError, "the private key does not belong to the certificate"),
    ),
    (
        "PEM with a damaged key",
        Files(
            LEAF.cert_chain_pems[0].bytes(),
            key=b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
        Refused(CertificateError, "the key in key.pem is damaged or of an unsupported type"),
    ),
    (
        "PEM whose certificate is damaged",
        Files(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + KEY_PEM),
        Refused(CertificateError, "the PEM certificate is damaged"),
    ),
    (
        "DER certificate with --key",
        Files(LEAF_CERT.public_bytes(Encoding.DER), key=KEY_PEM),
        Refused(CertificateError, "is not PEM: --key goes with a PEM certificate"),
    ),
    (
        "a DER certificate alone is no PKCS#12",
        Files(LEAF_CERT.public_bytes(Encoding.DER)),
        Refused(CertificateError, "is neither PEM nor PKCS#12"),
    ),
    (
        "five bytes of DER",
        Files(b"\x30\x03\x02\x01\x03"),
        Refused(CertificateError, "is neither PEM nor PKCS#12"),
    ),
    ("garbage", Files(b"not a certificate at all"), Refused(CertificateError, "neither PEM")),
    (
        "PKCS#12 with a key and no certificate",
        Files(pkcs12.serialize_key_and_certificates(b"gw", KEY, None, None, NoEncryption())),  # type: ignore[arg-type]
        Refused(CertificateError, "the PKCS#12 bundle holds no certificate"),
    ),
    (
        # Under 128 bytes, so its length is one byte: a PFX's start (version 3, a SEQUENCE)
        # in a short DER sequence is taken for a bundle that will not open without a password.
        "a short sequence that starts like PKCS#12",
        Files(b"\x30\x06\x02\x01\x03\x30\x01\x00"),
        Refused(PasswordNeeded, "is protected by a password"),
    ),
    ("an empty certificate file", Files(b" \n"), Refused(CertificateError, "is empty")),
    (
        # Made with `openssl genpkey -algorithm SM2` and `openssl pkcs12 -export` (password
        # "pw"): a bundle that opens, with a key cryptography does not support.
        "PKCS#12 with a key of an unsupported curve (SM2)",
        Files((Path(__file__).parent / "data" / "sm2-gateway.p12").read_bytes(), password=b"pw"),
        Refused(CertificateError, "the PKCS#12 bundle uses an unsupported format"),
    ),
    (
        # PKCS#8 of an algorithm no one knows (OID 1.2.3.4): cryptography's own error type.
        "PEM with a key of an unknown algorithm",
        Files(
            LEAF.cert_chain_pems[0].bytes(),
            key=b"-----BEGIN PRIVATE KEY-----\nMA4CAQAwBQYDKgMEBAIEAA==\n"
            b"-----END PRIVATE KEY-----\n",
        ),
        Refused(CertificateError, "the key in key.pem cannot be loaded"),
    ),
    (
        "PEM with an encrypted key inside, no password",
        Files(LEAF.cert_chain_pems[0].bytes() + ENCRYPTED_KEY),
        Refused(PasswordNeeded, "is encrypted: give its password"),
    ),
    (
        "a key file without a key",
        Files(LEAF.cert_chain_pems[0].bytes(), key=b"no key in here"),
        Refused(CertificateError, "no private key in key.pem"),
    ),
    (
        "an empty key file",
        Files(LEAF.cert_chain_pems[0].bytes(), key=b"\n"),
        Refused(CertificateError, "is empty"),
    ),
]


def written(files: Files, folder: Path) -> tuple[Path, Path | None, Secret | None]:
    cert = folder / "cert"
    cert.write_bytes(files.cert)
    key = None
    if files.key is not None:
        key = folder / "key.pem"
        key.write_bytes(files.key)
    return cert, key, Secret(files.password) if files.password is not None else None


@pytest.mark.parametrize(("name", "files", "outcome"), ROWS, ids=[r[0] for r in ROWS])
def test_each_file_loads_or_says_why_not(
    name: str, files: Files, outcome: Loaded | Refused, tmp_path: Path
) -> None:
    cert, key, password = written(files, tmp_path)
    if isinstance(outcome, Loaded):
        identity = load_identity(cert, key, password)
        assert identity.certificate == LEAF_CERT
        assert len(identity.chain) == outcome.chain
        assert all(c in CAS for c in identity.chain)
        assert identity.source == str(cert)
        assert key_matches(identity.certificate, identity.key)
        # What the report and the diagnosis get of it: every certificate described, the
        # issuers' names once each, and whether the chain reaches a self-signed root.
        seen = observe_identity(identity)
        assert seen.source == str(cert)
        assert seen.leaf == describe(LEAF_CERT)
        assert seen.chain == tuple(describe(c) for c in identity.chain)
        issuers = [ISSUING_NAME, ROOT_NAME] if outcome.chain else [ISSUING_NAME]
        assert list(seen.issuer_names_der) == issuers
        assert seen.is_chain_complete is bool(outcome.chain)
        assert seen.missing_issuer == ("" if outcome.chain else LEAF_CERT.issuer.rfc4514_string())
        return
    with pytest.raises(outcome.error) as raised:
        load_identity(cert, key, password)
    error = raised.value
    assert type(error) is outcome.error
    said = str(error)
    assert (
        outcome.says.replace("key.pem", str(tmp_path / "key.pem")).replace(
            "in cert:", f"in {cert}:"
        )
        in said
        or outcome.says in said
    ), said
    assert error.text("de") != said and error.text("de")  # German, like every output
    if files.password is not None:
        assert files.password.decode() not in said and files.password.decode() not in (
            error.text("de")
        )


@pytest.mark.parametrize(
    ("data", "is_sequence"),
    [
        (b"\x30\x00", True),
        (b"\x30\x03\x02\x01\x03", True),
        (b"\x30\x03\x02\x01", False),
        (b"\x31\x03\x02\x01\x03", False),
        (b"\x30", False),
        (b"\x30\x81\x03\x02\x01\x03", True),
        (b"\x30\x82\x00\x03\x02\x01\x03", True),
        (b"\x30\x80\x02\x01\x03", False),  # indefinite length: not DER
        (b"\x30\x85" + b"\x00" * 5, False),  # a length of more than four bytes
        (b"\x30\x82\x00", False),
    ],
)
def test_a_der_sequence_fills_the_file(data: bytes, is_sequence: bool) -> None:
    assert _is_der_sequence(data) is is_sequence


@pytest.mark.parametrize(
    ("name", "data", "count"),
    [
        ("a PEM bundle", CA_PEMS, 2),
        ("one DER certificate", CAS[1].public_bytes(Encoding.DER), 1),
    ],
)
def test_ca_files_in_both_forms(name: str, data: bytes, count: int, tmp_path: Path) -> None:
    path = tmp_path / "ca"
    path.write_bytes(data)
    assert len(load_ca_certificates(path)) == count


def test_a_ca_file_without_a_certificate_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ca"
    path.write_bytes(b"no certificate here")
    with pytest.raises(CertificateError) as raised:
        load_ca_certificates(path)
    assert str(raised.value) == f"{path} holds no PEM or DER certificate"
    assert raised.value.text("de") == f"{path} enthält kein PEM- oder DER-Zertifikat"


@pytest.mark.parametrize(
    ("data", "is_sequence"),
    [
        (b"\x30\x81\x00", True),  # a long-form length of zero (one length byte)
        (b"\x30\x84\x00\x00\x00\x03\x02\x01\x03", True),  # four length bytes: the most
        (b"\x30\x7f" + b"\x00" * 127, True),  # the longest short form
        (b"\x30\x80" + b"\x00" * 128, False),  # 0x80 is indefinite, not a length of 128
        (b"\x30\x81\x80" + b"\x00" * 128, True),
        (b"\x30\x82\x01\x00" + b"\x00" * 256, True),  # the length is big-endian
        (b"\x30\x82\x00\x01" + b"\x00" * 256, False),
    ],
)
def test_der_lengths_at_their_edges(data: bytes, is_sequence: bool) -> None:
    assert _is_der_sequence(data) is is_sequence


IDENTITY_ERRORS = GOLDEN / "identity_errors.txt"


def said_in_both(name: str, files: Files, folder: Path) -> str:
    """A refused file's one line in English and German, the folder left out."""
    cert, key, password = written(files, folder)
    try:
        load_identity(cert, key, password)
    except CertificateError as error:
        text = f"{type(error).__name__}\n  en: {error}\n  de: {error.text('de')}"
        return f"=== {name}\n{text.replace(str(folder), '<folder>')}\n"
    return f"=== {name}\nloaded\n"


def identity_errors_text() -> str:
    """The golden file of every row's words (`python -m tests.golden`)."""
    import tempfile

    parts = []
    for name, files, _ in ROWS:
        with tempfile.TemporaryDirectory() as folder:
            parts.append(said_in_both(name, files, Path(folder)))
    return "\n".join(parts)


@pytest.mark.parametrize(("name", "files", "outcome"), ROWS, ids=[r[0] for r in ROWS])
def test_each_files_words_in_both_languages(
    name: str, files: Files, outcome: Loaded | Refused, tmp_path: Path
) -> None:
    said = said_in_both(name, files, tmp_path)
    golden = IDENTITY_ERRORS.read_text("utf-8")
    assert said in golden.split("\n\n") or said.rstrip("\n") in golden.split("\n\n"), (
        f"{name!r} differs from {IDENTITY_ERRORS.name}: review and run `python -m tests.golden`"
    )


def test_a_file_larger_than_any_certificate_is_refused_by_its_kind(tmp_path: Path) -> None:
    from netdiag.trust.identity import MAX_FILE_BYTES

    big = tmp_path / "big"
    big.write_bytes(b"\x00" * (MAX_FILE_BYTES + 1))
    with pytest.raises(CertificateError) as raised:
        load_identity(big)
    assert str(raised.value).startswith(f"certificate file {big} ")
    assert raised.value.text("de").startswith(f"Zertifikatsdatei {big} ")
    with pytest.raises(CertificateError) as raised:
        load_identity(tmp_path / "missing", big)
    assert "certificate file" in str(raised.value)
    cert = tmp_path / "cert"
    cert.write_bytes(LEAF.cert_chain_pems[0].bytes())
    with pytest.raises(CertificateError) as raised:
        load_identity(cert, big)
    assert str(raised.value).startswith(f"key file {big} ")
    with pytest.raises(CertificateError) as raised:
        load_ca_certificates(big)
    assert str(raised.value).startswith(f"CA file {big} ")
    assert raised.value.text("de").startswith(f"CA-Datei {big} ")
