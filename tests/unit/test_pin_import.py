"""`netdiag pins import` without the command line: which certificates of a file become
candidates (CAs only, in every form the vendor delivers: a PEM or DER CA file, a PEM client
file with its key, a PKCS#12 client bundle with or without a password), whether the file is
a client bundle (whose CAs the user must confirm), every refusal in both languages, and the
pins made of the chosen ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    load_pem_private_key,
    pkcs12,
)

from netdiag.privacy.secret import Secret
from netdiag.trust.chains import spki_sha256
from netdiag.trust.identity import CertificateError
from netdiag.trust.pin_commands import import_candidates, import_pins
from netdiag.trust.pins import ALL

ROOT = trustme.CA(organization_name="Vendor Root")
ISSUING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Issuing")
LEAF = ISSUING.issue_cert("gw.hospital.example")
PASSWORD = b"Bundle-Pass-1"


def cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


ROOT_CERT, ISSUING_CERT = cert(ROOT.cert_pem.bytes()), cert(ISSUING.cert_pem.bytes())
LEAF_CERT = cert(LEAF.cert_chain_pems[0].bytes())
KEY = load_pem_private_key(LEAF.private_key_pem.bytes(), None)


def bundle(password: bytes | None, cas: list[x509.Certificate]) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"gw", KEY, LEAF_CERT, cas or None,  # type: ignore[arg-type]
        BestAvailableEncryption(password) if password else NoEncryption(),
    )  # fmt: skip


ROWS = [
    ("a PEM CA file", ROOT.cert_pem.bytes() + ISSUING.cert_pem.bytes(), None,
     [ROOT_CERT, ISSUING_CERT], False),
    ("one DER CA certificate", ROOT_CERT.public_bytes(Encoding.DER), None, [ROOT_CERT], False),
    ("a PEM client file: the leaf is left out", LEAF.cert_chain_pems[0].bytes()
     + LEAF.private_key_pem.bytes() + ISSUING.cert_pem.bytes(), None, [ISSUING_CERT], True),
    ("a PKCS#12 bundle without a password", bundle(None, [ISSUING_CERT, ROOT_CERT]), None,
     [ISSUING_CERT, ROOT_CERT], True),
    ("a PKCS#12 bundle with its password", bundle(PASSWORD, [ROOT_CERT]), PASSWORD,
     [ROOT_CERT], True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "password", "cas", "is_bundle"), ROWS, ids=[r[0] for r in ROWS]
)
def test_the_cas_of_each_form(
    name: str,
    data: bytes,
    password: bytes | None,
    cas: list[x509.Certificate],
    is_bundle: bool,
    tmp_path: Path,
) -> None:
    path = tmp_path / "vendor.file"
    path.write_bytes(data)
    found = import_candidates(path, Secret(password) if password else None)
    assert list(found.cas) == cas
    assert found.is_client_bundle is is_bundle


REFUSED = [
    ("a bundle whose password was not given", bundle(PASSWORD, [ROOT_CERT]), None,
     "{path} is protected by a password: give it with --cert-password-file or "
     "NETDIAG_CERT_PASSWORD",
     "{path} ist mit einem Passwort geschützt: mit --cert-password-file oder "
     "NETDIAG_CERT_PASSWORD angeben"),
    ("a bundle with the wrong password", bundle(PASSWORD, [ROOT_CERT]), b"wrong",
     "cannot open {path}: wrong password (or a damaged PKCS#12 file)",
     "{path} lässt sich nicht öffnen: falsches Passwort (oder eine beschädigte PKCS#12-Datei)"),
    ("a leaf alone", LEAF.cert_chain_pems[0].bytes(), None,
     "{path} holds no CA certificate to pin", "{path} enthält kein CA-Zertifikat zum Pinnen"),
    # Text that starts with "0" (as `openssl s_client -showcerts` lines do) is PEM, never
    # a PKCS#12 bundle that wants a password.
    ("a damaged PEM block after a line that starts with 0",
     b"0 s:CN=mail1\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", None,
     "{path} holds no PEM or DER certificate", "{path} enthält kein PEM- oder DER-Zertifikat"),
    ("a bundle without CAs", bundle(None, []), None,
     "{path} holds no CA certificate to pin", "{path} enthält kein CA-Zertifikat zum Pinnen"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "password", "english", "german"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_each_refusal_in_both_languages(
    name: str, data: bytes, password: bytes | None, english: str, german: str, tmp_path: Path
) -> None:
    path = tmp_path / "vendor.p12"
    path.write_bytes(data)
    with pytest.raises(CertificateError) as raised:
        import_candidates(path, Secret(password) if password else None)
    assert str(raised.value) == english.format(path=path)
    assert raised.value.text("de") == german.format(path=path)
    assert "Bundle-Pass-1" not in str(raised.value) + raised.value.text("de")


def test_a_ca_without_basic_constraints_counts_when_it_is_self_signed(tmp_path: Path) -> None:
    """Old roots carry no basicConstraints: self-signed is what makes them a CA then; a
    certificate issued by another without the extension is no CA."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())

    def made(subject: str, issuer: str) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
            .sign(key, hashes.SHA256())
        )

    old_root, plain = made("Old Root", "Old Root"), made("Someone", "Old Root")
    path = tmp_path / "old.pem"
    path.write_bytes(old_root.public_bytes(Encoding.PEM) + plain.public_bytes(Encoding.PEM))
    assert list(import_candidates(path, None).cas) == [old_root]


@pytest.mark.parametrize(
    ("is_bundle", "applies_to", "source", "scope"),
    [
        (False, [], "imported from vendor-ca.pem", (ALL,)),
        (True, ["dicommail"], "imported from vendor-ca.pem (client bundle; confirmed as an "
         "issuer of the servers' certificates)", ("dicommail",)),
    ],
)  # fmt: skip
def test_the_pins_of_the_chosen_cas(
    is_bundle: bool, applies_to: list[str], source: str, scope: tuple[str, ...]
) -> None:
    now = dt.datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)
    pins = import_pins(
        Path("/x/vendor-ca.pem"), [ISSUING_CERT, ROOT_CERT],
        is_client_bundle=is_bundle, applies_to=applies_to, now=now,
    )  # fmt: skip
    assert [(p.subject, p.role, p.spki_sha256) for p in pins.pins] == [
        (ISSUING_CERT.subject.rfc4514_string(), "issuing", spki_sha256(ISSUING_CERT)),
        (ROOT_CERT.subject.rfc4514_string(), "root", spki_sha256(ROOT_CERT)),
    ]
    for pin in pins.pins:
        assert (pin.source, pin.applies_to, pin.added) == (
            source,
            scope,
            "2026-12-02T09:30:15+00:00",
        )
        assert (pin.issuer, pin.issuer_key_id) == ("", "")
        assert cert(pin.pem.encode()) in (ISSUING_CERT, ROOT_CERT)


def test_a_file_that_is_no_certificate_or_is_missing_says_so(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"the vendor's CA is attached to the e-mail\n")
    with pytest.raises(CertificateError) as raised:
        import_candidates(text, None)
    assert str(raised.value) == f"{text} holds no PEM or DER certificate"
    missing = tmp_path / "missing.pem"
    with pytest.raises(CertificateError) as raised:
        import_candidates(missing, None)
    assert str(raised.value).startswith(f"cannot read CA file {missing}: ")
    assert raised.value.text("de").startswith(f"CA-Datei {missing} ist nicht lesbar: ")
