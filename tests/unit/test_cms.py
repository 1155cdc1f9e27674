"""The bundle's signature, checked step by step (`netdiag.trust.cms`), as a table: each row
is a signature made or spoiled one way, and the step that must fail with what it says — or
the step that must hold. Real signatures from `cryptography`'s PKCS7 builder, real
certificates from a test PKI; no network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from netdiag.trust.cms import Step, sign_detached, verify_detached
from netdiag.trust.identity import ClientIdentity

MANIFEST = b'{"files": {"report.json": {"sha256": "00"}}}\n'


class Pki:
    """A vendor's client PKI: a root, an issuing CA, and gateway certificates under it."""

    def __init__(self, key_type: trustme.KeyType = trustme.KeyType.RSA) -> None:
        self.key_type = key_type
        self.root = trustme.CA(organization_name="Client Root", key_type=key_type)
        self.issuing = trustme.CA(
            parent_cert=self.root, organization_name="Client Issuing", key_type=key_type
        )

    def cert(self, ca: trustme.CA) -> x509.Certificate:
        return x509.load_pem_x509_certificate(ca.cert_pem.bytes())

    def gateway(self, **kwargs: object) -> ClientIdentity:
        leaf = self.issuing.issue_cert(
            "gw.hospital.example",
            key_type=self.key_type,
            **kwargs,  # type: ignore[arg-type]
        )
        key = load_pem_private_key(leaf.private_key_pem.bytes(), None)
        return ClientIdentity(
            certificate=x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()),
            key=key,  # type: ignore[arg-type]
            chain=(self.cert(self.issuing), self.cert(self.root)),
        )

    def gateway_with_usage(self, usage: list[x509.ObjectIdentifier]) -> ClientIdentity:
        """A gateway certificate with the extended key usage given (trustme's have both)."""
        key = ec.generate_private_key(ec.SECP256R1())
        issuer_key = load_pem_private_key(self.issuing.private_key_pem.bytes(), None)
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gw.example")]))
            .issuer_name(self.cert(self.issuing).subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return ClientIdentity(
            certificate=certificate, key=key, chain=(self.cert(self.issuing), self.cert(self.root))
        )


def signed(
    identity: ClientIdentity,
    data: bytes = MANIFEST,
    options: tuple[pkcs7.PKCS7Options, ...] = (
        pkcs7.PKCS7Options.DetachedSignature,
        pkcs7.PKCS7Options.Binary,
    ),
    digest: hashes.HashAlgorithm | None = None,
    extra_signer: ClientIdentity | None = None,
) -> bytes:
    """A signature made as `sign_detached` makes it, with one thing changed."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(
        identity.certificate,
        identity.key,  # type: ignore[arg-type]
        digest or hashes.SHA256(),
    )
    if extra_signer is not None:
        builder = builder.add_signer(
            extra_signer.certificate,
            extra_signer.key,  # type: ignore[arg-type]
            hashes.SHA256(),
        )
    for ca in identity.chain:
        builder = builder.add_certificate(ca)
    return builder.sign(serialization.Encoding.DER, list(options))


def flipped_last_byte(signature: bytes) -> bytes:
    """The signature value is the last field of the (only) SignerInfo: its last byte."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


@dataclass(frozen=True)
class Row:
    name: str
    make: Callable[[Pki], tuple[bytes, bytes, list[x509.Certificate]]]  # data, signature, CAs
    step: str  # the step that decides
    holds: bool
    says: str


def _genuine(pki: Pki) -> tuple[bytes, bytes, list[x509.Certificate]]:
    return MANIFEST, sign_detached(MANIFEST, pki.gateway()), [pki.cert(pki.root)]


def _without(options: tuple[pkcs7.PKCS7Options, ...]) -> Callable[[Pki], tuple[bytes, ...]]:
    def make(pki: Pki) -> tuple[bytes, bytes, list[x509.Certificate]]:
        return MANIFEST, signed(pki.gateway(), options=options), [pki.cert(pki.root)]

    return make  # type: ignore[return-value]


ROWS = [
    Row("genuine, the root given", _genuine, "chain", True, "for client authentication"),
    Row(
        "genuine, only the issuing CA given (the vendor's bundle as anchor)",
        lambda pki: (MANIFEST, sign_detached(MANIFEST, pki.gateway()), [pki.cert(pki.issuing)]),
        "chain",
        True,
        "chains to",
    ),
    Row(
        "one byte of the manifest changed",
        lambda pki: (
            MANIFEST.replace(b"00", b"01"),
            sign_detached(MANIFEST, pki.gateway()),
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "the manifest was changed",
    ),
    Row(
        "the signature value spoiled",
        lambda pki: (
            MANIFEST,
            flipped_last_byte(sign_detached(MANIFEST, pki.gateway())),
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "does not verify with the signer's key",
    ),
    Row(
        "a signer from another CA",
        lambda pki: (MANIFEST, sign_detached(MANIFEST, Pki().gateway()), [pki.cert(pki.root)]),
        "chain",
        False,
        "does not chain to the client CA",
    ),
    Row(
        "no client CA given",
        lambda pki: (MANIFEST, sign_detached(MANIFEST, pki.gateway()), []),
        "chain",
        False,
        "no client CA given",
    ),
    Row(
        "a gateway certificate for servers only",
        lambda pki: (
            MANIFEST,
            sign_detached(MANIFEST, pki.gateway_with_usage([ExtendedKeyUsageOID.SERVER_AUTH])),
            [pki.cert(pki.root)],
        ),
        "chain",
        False,
        "is not for client authentication",
    ),
    Row(
        "a gateway certificate for any purpose",
        lambda pki: (
            MANIFEST,
            sign_detached(
                MANIFEST, pki.gateway_with_usage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
            ),
            [pki.cert(pki.root)],
        ),
        "chain",
        True,
        "for client authentication",
    ),
    Row(
        "a gateway certificate expired before it signed",
        lambda pki: (
            MANIFEST,
            sign_detached(
                MANIFEST,
                pki.gateway(
                    not_before=datetime.now(UTC) - timedelta(days=30),
                    not_after=datetime.now(UTC) - timedelta(days=1),
                ),
            ),
            [pki.cert(pki.root)],
        ),
        "chain",
        False,
        "certificate has expired",
    ),
    Row(
        "the content inside the signature, not detached",
        _without((pkcs7.PKCS7Options.Binary,)),
        "signature",
        False,
        "not detached",
    ),
    Row(
        "no certificate in the signature",
        _without(
            (
                pkcs7.PKCS7Options.DetachedSignature,
                pkcs7.PKCS7Options.Binary,
                pkcs7.PKCS7Options.NoCerts,
            )
        ),
        "signature",
        False,
        "the signer's certificate is not in the signature",
    ),
    Row(
        "no signed attributes",
        _without(
            (
                pkcs7.PKCS7Options.DetachedSignature,
                pkcs7.PKCS7Options.Binary,
                pkcs7.PKCS7Options.NoAttributes,
            )
        ),
        "signature",
        False,
        "no signed attributes",
    ),
    Row(
        "a SHA-224 digest",
        lambda pki: (MANIFEST, signed(pki.gateway(), digest=hashes.SHA224()), [pki.cert(pki.root)]),
        "signature",
        False,
        "is not SHA-256, SHA-384 or SHA-512",
    ),
    Row(
        "two signers",
        lambda pki: (
            MANIFEST,
            signed(pki.gateway(), extra_signer=pki.gateway()),
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "2 signers, not one",
    ),
    Row(
        "half of the signature",
        lambda pki: (
            MANIFEST,
            sign_detached(MANIFEST, pki.gateway())[:200],
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "not a CMS signature",
    ),
    Row(
        "bytes after the signature",
        lambda pki: (
            MANIFEST,
            sign_detached(MANIFEST, pki.gateway()) + b"\x00",
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "bytes after the signature",
    ),
    Row(
        "a certificate where the signature belongs",
        lambda pki: (
            MANIFEST,
            pki.cert(pki.root).public_bytes(serialization.Encoding.DER),
            [pki.cert(pki.root)],
        ),
        "signature",
        False,
        "not a CMS signature",
    ),
    Row(
        "larger than any signature",
        lambda pki: (MANIFEST, b"\x30" * (300 * 1024), [pki.cert(pki.root)]),
        "signature",
        False,
        "larger than 256 KiB",
    ),
]


@pytest.fixture(scope="module", params=[trustme.KeyType.RSA, trustme.KeyType.ECDSA])
def pki(request: pytest.FixtureRequest) -> Pki:
    return Pki(request.param)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_step_says_what_it_saw(pki: Pki, row: Row) -> None:
    data, signature, cas = row.make(pki)
    result = verify_detached(data, signature, cas)
    decisive = [step for step in result.steps if step.name == row.step]
    assert decisive, result.steps
    assert decisive[-1].holds is row.holds, decisive[-1]
    assert row.says in decisive[-1].detail, decisive[-1].detail
    assert result.holds is row.holds
    # Nothing is checked after a failed signature: a chain is no proof of a manifest.
    if row.step == "signature" and not row.holds:
        assert [step.name for step in result.steps] == ["signature"]
        assert result.signer is None


def test_a_genuine_signature_names_its_signer_and_time(pki: Pki) -> None:
    gateway = pki.gateway()
    before = datetime.now(UTC).replace(microsecond=0)
    result = verify_detached(MANIFEST, sign_detached(MANIFEST, gateway), [pki.cert(pki.root)])
    assert result.holds
    assert result.signer is not None
    assert result.signer.subject == gateway.certificate.subject.rfc4514_string()
    assert result.signer.serial == format(gateway.certificate.serial_number, "x")
    assert result.signer.issuer == pki.cert(pki.issuing).subject.rfc4514_string()
    signed_at = datetime.fromisoformat(result.signing_time)
    assert before - timedelta(seconds=1) <= signed_at <= datetime.now(UTC) + timedelta(seconds=1)
    kind = "RSA" if pki.key_type is trustme.KeyType.RSA else "EC"
    assert result.steps[0].detail.endswith(f"(SHA256, {kind})")
    assert [step.name for step in result.steps] == ["signature", "chain"]


def test_a_key_that_cannot_sign_is_said_before_anything_is_made() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pki = Pki()
    gateway = pki.gateway()
    other = ClientIdentity(
        certificate=gateway.certificate, key=ed25519.Ed25519PrivateKey.generate()
    )
    with pytest.raises(ValueError, match="Ed25519PrivateKey key cannot sign"):
        sign_detached(MANIFEST, other)
    assert isinstance(gateway.key, rsa.RSAPrivateKey)


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "english"), ("de", "deutsch"), ("fr", "english")]
)
def test_a_step_speaks_the_runs_language(lang: str, said: str) -> None:
    assert Step("files", True, "english", "deutsch").said(lang) == said
    assert Step("files", True, "english").said("de") == "english"


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_step_is_said_in_german_too(pki: Pki, row: Row) -> None:
    """Every step's words are netdiag's own, so each has its German (the bundle's
    verification is printed in the run's language)."""
    data, signature, cas = row.make(pki)
    for step in verify_detached(data, signature, cas).steps:
        assert step.detail_de and step.detail_de != step.detail, step


def test_a_genuine_signature_in_full(pki: Pki) -> None:
    """The signature's own certificates, the signer's validity, the chain's anchor and the
    moment it was checked at — the signing time, not the moment of checking."""
    gateway = pki.gateway()
    signature = sign_detached(MANIFEST, gateway)
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert result.holds
    assert gateway.certificate in result.certificates
    assert set(result.certificates) <= {gateway.certificate, *gateway.chain}
    assert result.signer is not None
    assert result.signer.not_before == gateway.certificate.not_valid_before_utc.isoformat()
    assert result.signer.not_after == gateway.certificate.not_valid_after_utc.isoformat()
    kind = "RSA" if pki.key_type is trustme.KeyType.RSA else "EC"
    signature_step, chain_step = result.steps
    assert (
        signature_step.detail_de == f"die Signatur über manifest.json ist gültig (SHA256, {kind})"
    )
    moment = datetime.fromisoformat(result.signing_time).isoformat(timespec="seconds")
    root = pki.cert(pki.root).subject.rfc4514_string()
    assert chain_step.detail == (
        f"the signer chains to {root} for client authentication, valid at {moment}"
    )
    assert chain_step.detail_de == (
        f"der Unterzeichner führt zu {root} für die Client-Authentifizierung, gültig am {moment}"
    )


def test_the_parsers_own_refusals_word_for_word(pki: Pki) -> None:
    """What netdiag itself says of a signature it cannot parse, in both languages."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    trailing = verify_detached(MANIFEST, sign_detached(MANIFEST, pki.gateway()) + b"\x00", [])
    assert trailing.steps[0].detail == "not a CMS signature: bytes after the signature"
    assert trailing.steps[0].detail_de == "keine CMS-Signatur: bytes after the signature"
    # A CMS structure, but EnvelopedData rather than SignedData (to an RSA recipient).
    recipient = Pki(trustme.KeyType.RSA)
    enveloped = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(MANIFEST)
        .add_recipient(recipient.cert(recipient.root))
        .encrypt(serialization.Encoding.DER, [])
    )
    other = verify_detached(MANIFEST, enveloped, [])
    assert other.steps[0].detail == "not a CMS signature: not SignedData"


# Signatures changed inside and signed again with the gateway's key: what a hostile or a
# careless signer can make that cryptography's builder does not.
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


def _attribute(oid: str, value_der: bytes) -> object:
    from pyasn1.type import univ
    from pyasn1_modules import rfc5652

    attribute = rfc5652.Attribute()
    attribute["attrType"] = univ.ObjectIdentifier(oid)
    attribute["attrValues"].append(univ.Any(value_der))
    return attribute


def resigned(
    identity: ClientIdentity,
    *,
    attributes: Callable[[list[object]], list[object]] = lambda a: a,
    first_certificates: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """`sign_detached`'s signature with its signed attributes changed by `attributes` and
    `first_certificates` put before its own, signed again over the new attributes."""
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280, rfc5652

    info, _ = decoder.decode(sign_detached(MANIFEST, identity), asn1Spec=rfc5652.ContentInfo())
    signed_data, _ = decoder.decode(info["content"], asn1Spec=rfc5652.SignedData())
    signer_info = signed_data["signerInfos"][0]
    changed = attributes(list(signer_info["signedAttrs"]))
    signer_info["signedAttrs"].clear()
    for attribute in changed:
        signer_info["signedAttrs"].append(attribute)
    to_sign = univ.SetOf(componentType=rfc5652.Attribute())
    for attribute in changed:
        to_sign.append(attribute)
    key = identity.key
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(encoder.encode(to_sign), padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        value = key.sign(encoder.encode(to_sign), ec.ECDSA(hashes.SHA256()))
    signer_info["signature"] = value
    if first_certificates:
        own = list(signed_data["certificates"])
        signed_data["certificates"].clear()
        for certificate in first_certificates:
            choice = rfc5652.CertificateChoices()
            choice["certificate"], _ = decoder.decode(
                certificate.public_bytes(serialization.Encoding.DER), asn1Spec=rfc5280.Certificate()
            )
            signed_data["certificates"].append(choice)
        for choice in own:
            signed_data["certificates"].append(choice)
    info["content"] = encoder.encode(signed_data)
    return encoder.encode(info)


def _without(oid: str) -> Callable[[list[object]], list[object]]:
    return lambda attributes: [a for a in attributes if str(a["attrType"]) != oid]  # type: ignore[index]


def _replaced(oid: str, value_der: bytes) -> Callable[[list[object]], list[object]]:
    return lambda attributes: [*_without(oid)(attributes), _attribute(oid, value_der)]


def _signature_step(signature: bytes, pki: Pki) -> Step:
    return verify_detached(MANIFEST, signature, [pki.cert(pki.root)]).steps[0]


def test_the_same_signature_signed_again_holds(pki: Pki) -> None:
    """The helper's twin: unchanged attributes, signed again, verify."""
    result = verify_detached(MANIFEST, resigned(pki.gateway()), [pki.cert(pki.root)])
    assert result.holds, result.steps


def test_attributes_missing_or_of_another_type_are_said(pki: Pki) -> None:
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    gateway = pki.gateway()
    for oid in (_CONTENT_TYPE, _MESSAGE_DIGEST):
        step = _signature_step(resigned(gateway, attributes=_without(oid)), pki)
        assert not step.holds
        assert step.detail == "the content type or the message digest attribute is missing"
    wrong = encoder.encode(univ.OctetString(b"data"))
    step = _signature_step(resigned(gateway, attributes=_replaced(_CONTENT_TYPE, wrong)), pki)
    assert step.detail == "the content type or the message digest attribute is not of its type"
    assert step.detail_de == "das Attribut Inhaltstyp oder Prüfsumme hat nicht seinen Typ"
    oid = encoder.encode(univ.ObjectIdentifier("1.2.840.113549.1.7.1"))
    step = _signature_step(resigned(gateway, attributes=_replaced(_MESSAGE_DIGEST, oid)), pki)
    assert step.detail == "the content type or the message digest attribute is not of its type"
    other = encoder.encode(univ.ObjectIdentifier("1.2.840.113549.1.7.2"))
    step = _signature_step(resigned(gateway, attributes=_replaced(_CONTENT_TYPE, other)), pki)
    assert step.detail == "the signed content type is 1.2.840.113549.1.7.2, not data"


def _signed_at(moment: datetime) -> Callable[[list[object]], list[object]]:
    from pyasn1.codec.der import encoder
    from pyasn1.type import useful

    return _replaced(_SIGNING_TIME, encoder.encode(useful.UTCTime.fromDateTime(moment)))


def test_the_chain_is_judged_at_the_signing_time(pki: Pki) -> None:
    """A gateway certificate that has expired since it signed: valid at the signing time,
    which is what the chain step holds it to — and said as that moment."""
    now = datetime.now(UTC).replace(microsecond=0)
    expired_since = pki.gateway(
        not_before=now - timedelta(days=30), not_after=now - timedelta(days=2)
    )
    at = now - timedelta(days=5)
    result = verify_detached(
        MANIFEST, resigned(expired_since, attributes=_signed_at(at)), [pki.cert(pki.root)]
    )
    assert result.holds, result.steps
    assert result.signing_time == at.isoformat()
    assert result.steps[1].detail.endswith(f"valid at {at.isoformat(timespec='seconds')}")


def test_without_a_signing_time_the_chain_is_judged_now_in_utc(pki: Pki) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    signature = resigned(pki.gateway(), attributes=_without(_SIGNING_TIME))
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert result.holds, result.steps
    assert result.signing_time == ""
    moment = datetime.fromisoformat(result.steps[1].detail.rsplit("valid at ", 1)[1])
    assert moment.utcoffset() == timedelta(0)
    assert before <= moment <= datetime.now(UTC)


def test_the_signing_time_is_said_in_utc_whatever_the_machines_zone(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    at = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    gateway = pki.gateway(not_before=at - timedelta(days=1))
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        result = verify_detached(
            MANIFEST, resigned(gateway, attributes=_signed_at(at)), [pki.cert(pki.root)]
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert result.signing_time == "2026-11-30T09:15:00+00:00"


def test_the_signer_is_found_by_issuer_and_serial_both(pki: Pki) -> None:
    """Another gateway certificate of the same CA before the signer's in the signature:
    the same issuer is not the signer; the signature holds with the signer's own key."""
    gateway, sibling = pki.gateway(), pki.gateway()
    signature = resigned(gateway, first_certificates=(sibling.certificate,))
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert result.holds, result.steps
    assert result.signer is not None
    assert result.signer.serial == format(gateway.certificate.serial_number, "x")


def test_a_ca_of_the_signers_path_for_servers_only_is_said(pki: Pki) -> None:
    """A signer certificate without extended key usage (any use) under an issuing CA that
    is restricted to server authentication: the CA's restriction speaks for the path."""
    from cryptography.hazmat.primitives.asymmetric import ec as ec_keys

    now = datetime.now(UTC)
    root_key = load_pem_private_key(pki.root.private_key_pem.bytes(), None)
    ca_key = ec_keys.generate_private_key(ec_keys.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Servers Only CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(pki.cert(pki.root).subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(root_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    key = ec_keys.generate_private_key(ec_keys.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gw.example")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    signature = sign_detached(MANIFEST, ClientIdentity(certificate=leaf, key=key, chain=(ca,)))
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert not result.holds
    assert result.steps[1].detail == "O=Servers Only CA is not for client authentication"
    assert (
        result.steps[1].detail_de == "O=Servers Only CA ist nicht für die Client-Authentifizierung"
    )


def test_a_signature_of_exactly_the_largest_size_is_parsed_not_refused_by_size() -> None:
    from netdiag.trust.cms import MAX_SIGNATURE

    result = verify_detached(MANIFEST, b"\x30" * MAX_SIGNATURE, [])
    assert result.steps[0].detail.startswith("not a CMS signature: ")
    assert "larger than" not in result.steps[0].detail


def test_a_parsers_long_reason_is_cut_to_200_characters() -> None:
    """pyasn1's reasons print its schema objects: cut, never the whole of them."""
    garbage = b"\x05\x00"  # a NULL: no ContentInfo
    result = verify_detached(MANIFEST, garbage, [])
    reason = result.steps[0].detail.removeprefix("not a CMS signature: ")
    assert len(reason) == 200, reason


def test_a_certificate_that_cannot_be_read_in_the_signature_is_one_line(pki: Pki) -> None:
    """A certificate with a version number X.509 does not have (cryptography raises its own
    InvalidVersion): the signature is refused in one line, never a traceback."""
    der = pki.cert(pki.issuing).public_bytes(serialization.Encoding.DER)
    version = der.index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT INTEGER 2 (v3)
    spoiled = x509.load_der_x509_certificate(der)  # the certificate as it was, then spoiled
    assert spoiled.version is x509.Version.v3
    bad = der[: version + 4] + b"\x07" + der[version + 5 :]
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5280

    decoder.decode(bad, asn1Spec=rfc5280.Certificate())  # still valid ASN.1
    signature = _with_raw_certificate(pki.gateway(), bad)
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert not result.holds
    assert result.steps[0].detail.startswith(
        "not a CMS signature: a certificate in it cannot be read"
    )


def _with_raw_certificate(identity: ClientIdentity, der: bytes) -> bytes:
    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5280, rfc5652

    info, _ = decoder.decode(sign_detached(MANIFEST, identity), asn1Spec=rfc5652.ContentInfo())
    signed_data, _ = decoder.decode(info["content"], asn1Spec=rfc5652.SignedData())
    choice = rfc5652.CertificateChoices()
    choice["certificate"], _ = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    signed_data["certificates"].append(choice)
    info["content"] = encoder.encode(signed_data)
    return encoder.encode(info)


def test_an_unreadable_signing_time_is_none_and_the_chain_judged_now(pki: Pki) -> None:
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    unreadable = encoder.encode(univ.OctetString(b"yesterday"))
    signature = resigned(pki.gateway(), attributes=_replaced(_SIGNING_TIME, unreadable))
    result = verify_detached(MANIFEST, signature, [pki.cert(pki.root)])
    assert result.holds, result.steps
    assert result.signing_time == ""
