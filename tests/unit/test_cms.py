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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
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
