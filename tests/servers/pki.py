"""Test PKIs made with trustme: the vendor's root and issuing CA with server and client
certificates, a foreign CA, and helpers for odd client certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = (
    *(f"mail{n}.dicommail.com" for n in range(1, 7)),
    "atlas79.mydhp.de",
    "localhost",
    "127.0.0.1",
    "::1",
)


@dataclass
class Pki:
    root: trustme.CA
    issuing: trustme.CA
    server: trustme.LeafCert
    client: trustme.LeafCert

    def client_pem(self, directory: Path, name: str = "client.pem") -> Path:
        """Certificate, key and the CA chain in one PEM file."""
        path = directory / name
        path.write_bytes(
            self.client.cert_chain_pems[0].bytes()
            + self.client.private_key_pem.bytes()
            + self.issuing.cert_pem.bytes()
            + self.root.cert_pem.bytes()
        )
        return path

    def client_p12(self, directory: Path, password: bytes | None, name: str = "client.p12") -> Path:
        path = directory / name
        path.write_bytes(to_pkcs12(self.client, [self.issuing, self.root], password))
        return path

    def ca_pem(self, directory: Path) -> Path:
        path = directory / "vendor-ca.pem"
        path.write_bytes(self.issuing.cert_pem.bytes() + self.root.cert_pem.bytes())
        return path


def make_pki(organization: str = "Vendor") -> Pki:
    root = trustme.CA(organization_name=f"{organization} Root CA")
    issuing = trustme.CA(parent_cert=root, organization_name=f"{organization} Issuing CA")
    server = issuing.issue_cert(*SERVER_NAMES, common_name="mail1.dicommail.com")
    client = issuing.issue_cert("gateway.hospital.example", common_name="gateway.hospital.example")
    return Pki(root=root, issuing=issuing, server=server, client=client)


def to_pkcs12(leaf: trustme.LeafCert, cas: list[trustme.CA], password: bytes | None) -> bytes:
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    others = [x509.load_pem_x509_certificate(ca.cert_pem.bytes()) for ca in cas]
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"gateway", key, cert, others, encryption)  # type: ignore[arg-type]


def custom_client_cert(
    issuing: trustme.CA,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    usages: list[x509.ObjectIdentifier] | None = None,
) -> bytes:
    """A client certificate PEM (certificate + key) signed by `issuing` with chosen dates
    and extended key usages."""
    ca_key = serialization.load_pem_private_key(issuing.private_key_pem.bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(issuing.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway.hospital.example")])
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


SERVER_AUTH_ONLY = [ExtendedKeyUsageOID.SERVER_AUTH]


def leaf_cert(
    issuing: trustme.CA,
    *names: str,
    common_name: str,
    usages: list[x509.ObjectIdentifier] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> trustme.LeafCert:
    """A leaf certificate `issuing` signs, with the names, extended key usages and dates
    given: another hospital's gateway certificate (clientAuth only), a leaf that expired,
    one that is not valid yet. trustme's own leaves always carry every purpose."""
    ca_key = serialization.load_pem_private_key(issuing.private_key_pem.bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(issuing.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=30))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return trustme.LeafCert(
        key_pem, cert.public_bytes(serialization.Encoding.PEM), [issuing.cert_pem.bytes()]
    )


class DatedCa:
    """A CA with the dates it is given (trustme's are always valid now), and what it
    issues."""

    def __init__(
        self, name: str, start: dt.datetime, end: dt.datetime, parent: DatedCa | None = None
    ) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
        signer = parent or self
        builder = (
            _builder(self.name, signer.name, self.key.public_key(), start, end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
                critical=False,
            )
        )
        self.cert = builder.sign(signer.key, hashes.SHA256())

    def leaf(
        self,
        start: dt.datetime,
        end: dt.datetime,
        host: str = "mail1.dicommail.com",
        *,
        names: Sequence[x509.GeneralName] | None = None,
        usage: x509.ExtensionType | None = None,
    ) -> x509.Certificate:
        """A leaf for `host` (or the subjectAltName `names`), serverAuth (or `usage` as its
        extended key usage extension, which may be any extension type: a damaged one too)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        alt = list(names) if names is not None else [x509.DNSName(host)]
        builder = _builder(subject, self.name, key.public_key(), start, end)
        if alt:  # no names: no subjectAltName at all
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        builder = builder.add_extension(
            usage or x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
            critical=False,
        )
        return builder.sign(self.key, hashes.SHA256())


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePublicKey,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )
