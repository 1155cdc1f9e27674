"""What netdiag reads from a certificate (`netdiag.trust.chains.describe`), field by field,
for certificates built to carry each field or to lack it; a certificate cryptography will
not parse, described by its fingerprint and the parser's reason (cut at 200 characters);
and whether a client's own certificates complete its chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from netdiag.report.observations import CertificateFacts
from netdiag.trust.chains import describe, describe_der, issuer_chain, spki_sha256

KEY = ec.generate_private_key(ec.SECP256R1())
START = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
END = dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def name(common: str, org: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    parts += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name(parts)


def certificate(
    subject: x509.Name, issuer: x509.Name, *extensions: x509.ExtensionType
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(KEY.public_key())
        .serial_number(0xABCDEF0123)
        .not_valid_before(START)
        .not_valid_after(END)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(KEY, hashes.SHA256())


def test_a_server_certificate_with_every_field() -> None:
    leaf = certificate(
        name("mail1.example", "Vendor"),
        name("Vendor CA"),
        x509.SubjectAlternativeName(
            [x509.DNSName("mail1.example"), x509.IPAddress(ipaddress.ip_address("192.0.2.1"))]
        ),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, x509.ObjectIdentifier("1.2.3.4")]),
        x509.BasicConstraints(ca=False, path_length=None),
    )
    assert describe(leaf) == CertificateFacts(
        subject="O=Vendor,CN=mail1.example",
        issuer="CN=Vendor CA",
        serial="abcdef0123",
        not_before="2026-01-02T03:04:05+00:00",
        not_after="2027-01-02T03:04:05+00:00",
        sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        spki_sha256=spki_sha256(leaf),
        san=("mail1.example", "192.0.2.1"),
        ext_key_usage=("serverAuth", "1.2.3.4"),
        is_ca=False,
        is_self_signed=False,
    )


def test_a_root_without_names_or_purposes() -> None:
    root = certificate(
        name("Vendor Root"), name("Vendor Root"), x509.BasicConstraints(ca=True, path_length=1)
    )
    facts = describe(root)
    assert (facts.san, facts.ext_key_usage, facts.is_ca, facts.is_self_signed) == (
        (),
        None,
        True,
        True,
    )


def test_a_certificate_without_basic_constraints_is_no_ca() -> None:
    assert describe(certificate(name("old"), name("old"))).is_ca is False


def test_a_certificate_that_cannot_be_parsed_keeps_its_fingerprint_and_the_reason() -> None:
    der = x509.load_pem_x509_certificate(
        trustme.CA().issue_cert("a.example").cert_chain_pems[0].bytes()
    ).public_bytes(Encoding.DER)
    broken = der[:8] + b"\x00" + der[9:]  # the serial's tag: a parse error with a location
    facts = describe_der(broken)
    assert facts.parse_error.startswith("ValueError: error parsing asn1 value: ")
    assert len(facts.parse_error) == 200  # the reason is longer; it is cut
    assert facts == CertificateFacts(
        subject=f"(a certificate that cannot be parsed: {facts.parse_error})",
        issuer="",
        serial="",
        not_before="",
        not_after="",
        sha256=hashlib.sha256(broken).hexdigest(),
        spki_sha256="",
        parse_error=facts.parse_error,
    )


ROOT = certificate(name("Root"), name("Root"), x509.BasicConstraints(ca=True, path_length=None))
ISSUING = certificate(name("Issuing"), name("Root"))
LEAF = certificate(name("gw"), name("Issuing"))


@pytest.mark.parametrize(
    ("others", "depth", "expected"),
    [
        ([ISSUING, ROOT], 8, (True, "")),
        ([ROOT, ISSUING], 8, (True, "")),  # in any order
        ([ISSUING], 8, (False, "CN=Root")),
        ([], 8, (False, "CN=Issuing")),
        ([ISSUING, ROOT], 1, (False, "CN=Root")),  # deeper than allowed: where it stopped
        ([ISSUING, ROOT], 2, (False, "CN=Root")),
        ([ISSUING, ROOT], 3, (True, "")),
    ],
)
def test_whether_the_clients_certificates_complete_its_chain(
    others: list[x509.Certificate], depth: int, expected: tuple[bool, str]
) -> None:
    assert issuer_chain(LEAF, others, max_depth=depth) == expected
    assert issuer_chain(ROOT, [], max_depth=depth) == (True, "")


def test_key_identifiers_where_the_extensions_say_them_and_empty_where_not() -> None:
    from netdiag.trust.chains import authority_key_id, subject_key_id

    ski = x509.SubjectKeyIdentifier.from_public_key(KEY.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    both = certificate(name("with ids"), name("with ids"), ski, aki)
    assert subject_key_id(both) == ski.digest.hex() != ""
    assert authority_key_id(both) == ski.digest.hex()
    bare = certificate(name("bare"), name("bare"))
    assert (subject_key_id(bare), authority_key_id(bare)) == ("", "")
    by_name_only = certificate(
        name("old"),
        name("old"),
        x509.AuthorityKeyIdentifier(
            key_identifier=None,
            authority_cert_issuer=[x509.DirectoryName(name("old"))],
            authority_cert_serial_number=1,
        ),
    )
    assert authority_key_id(by_name_only) == ""


def test_issued_by_means_the_key_signed_it_not_only_the_name() -> None:
    from netdiag.trust.chains import is_issued_by, signature_path

    other_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate(name("Root"), name("Root"))
    impostor = (
        x509.CertificateBuilder()
        .subject_name(name("Root"))
        .issuer_name(name("Root"))
        .public_key(other_key.public_key())
        .serial_number(2)
        .not_valid_before(START)
        .not_valid_after(END)
        .sign(other_key, hashes.SHA256())
    )
    leaf = certificate(name("leaf"), name("Root"))  # signed with KEY: the root's
    assert is_issued_by(leaf, root) and not is_issued_by(leaf, impostor)
    assert not is_issued_by(root, leaf)  # names differ
    # The path follows signatures: the impostor root of the same name is not on it, and a
    # self-signed root ends it.
    assert signature_path([leaf, impostor, root]) == [leaf, root]
    assert signature_path([leaf, impostor]) == [leaf]


def test_a_chain_with_an_unreadable_certificate_is_no_chain() -> None:
    from netdiag.trust.chains import load_chain, load_readable

    good = certificate(name("a"), name("a")).public_bytes(Encoding.DER)
    junk = b"\x30\x03\x02\x01\x00"
    assert [c.public_bytes(Encoding.DER) for c in load_chain([good, good]) or []] == [good, good]
    assert load_chain([good, junk]) is None
    readable, unreadable = load_readable([good, junk])
    assert len(readable) == 1 and len(unreadable) == 1
    digest = hashlib.sha256(junk).hexdigest()
    assert unreadable[0].startswith(f"certificate 1 (SHA-256 {digest}): parse_error: ValueError: ")


def test_a_name_ending_in_a_capital_x_matches_its_certificate() -> None:
    from netdiag.trust.chains import name_matches

    leaf = certificate(
        name("box"), name("ca"), x509.SubjectAlternativeName([x509.DNSName("mail.boxx")])
    )
    assert name_matches(leaf, "MAIL.BOXX")
    assert name_matches(leaf, "mail.boxx.")
    assert not name_matches(leaf, "mail.box")
