"""Detached CMS (PKCS #7) signatures over a bundle's manifest: made with the gateway's own
vendor-issued key (`cryptography`'s PKCS7 builder, detached and binary, SHA-256), checked
here step by step so that each step can be said (RFC 5652 5.4 and 5.6).

`cryptography` signs but has no public CMS verification; the SignedData structure is read
with `pyasn1-modules` (RFC 5652 definitions, maintained with pyasn1), and every
cryptographic check is `cryptography`'s (the digest, the signature) or OpenSSL's through
pyOpenSSL (the signer's chain to the vendor's client CA). The same signature verifies with
stock `openssl cms -verify -binary -inform DER … -purpose sslclient`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from netdiag.trust.identity import ClientIdentity

# RFC 5652 and RFC 5911 object identifiers.
_SIGNED_DATA = "1.2.840.113549.1.7.2"
_DATA = "1.2.840.113549.1.7.1"
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
}
MAX_SIGNATURE = 256 * 1024


def sign_detached(data: bytes, identity: ClientIdentity) -> bytes:
    """A detached CMS signature (DER) over `data`, by the identity's key (RSA or EC,
    SHA-256), carrying the signer's certificate and the CA certificates of its bundle.
    Raises ValueError for a key that cannot sign so."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    if not isinstance(identity.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"a {type(identity.key).__name__} key cannot sign a CMS signature here")
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(identity.certificate, identity.key, hashes.SHA256())
    for ca in identity.chain:
        builder = builder.add_certificate(ca)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


@dataclass(frozen=True, slots=True)
class Step:
    """One check of a verification: what was checked, whether it holds, and what was seen
    (in English, and in German where the words are netdiag's own)."""

    name: str
    holds: bool
    detail: str
    detail_de: str = ""

    def said(self, lang: str) -> str:
        return self.detail_de if lang == "de" and self.detail_de else self.detail


@dataclass(frozen=True, slots=True)
class Signer:
    subject: str
    serial: str
    issuer: str
    not_before: str
    not_after: str


@dataclass(frozen=True, slots=True)
class CmsVerification:
    """The signature's checks in order; the signer and the signing time as signed."""

    steps: tuple[Step, ...]
    signer: Signer | None = None
    signing_time: str = ""
    certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False)

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.holds for s in self.steps)


@dataclass(frozen=True, slots=True)
class BundleVerification:
    """Every step in order, what the manifest and the signature say, and which files differ."""

    steps: tuple[Step, ...]
    signer: Signer | None = None
    signing_time: str = ""
    created: str = ""
    version: str = ""
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    redactions: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.holds for s in self.steps)


def verify_detached(
    data: bytes, signature: bytes, client_cas: Sequence[x509.Certificate]
) -> CmsVerification:
    """Check a detached signature over `data`: the signature itself, then that its signer
    chains to `client_cas` for client authentication and was valid at the signing time."""
    steps: list[Step] = []
    try:
        parsed = _parse(signature)
    except ValueError as e:
        return CmsVerification(
            (Step("signature", False, f"not a CMS signature: {e}", f"keine CMS-Signatur: {e}"),)
        )
    signer_cert, signing_time, certificates, signature_step = _check_signature(data, parsed)
    steps.append(signature_step)
    signer = _signer(signer_cert) if signer_cert is not None else None
    if signer_cert is not None:  # the signer is returned only when the signature holds
        steps.append(_check_chain(signer_cert, certificates, client_cas, signing_time))
    when = signing_time.isoformat() if signing_time is not None else ""
    return CmsVerification(tuple(steps), signer, when, tuple(certificates))


@dataclass(frozen=True, slots=True)
class _Parsed:
    signer_info: object
    certificates: tuple[x509.Certificate, ...]
    has_content: bool


def _parse(signature: bytes) -> _Parsed:
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5652

    if len(signature) > MAX_SIGNATURE:
        raise ValueError(f"larger than {MAX_SIGNATURE // 1024} KiB")
    try:
        info, rest = decoder.decode(signature, asn1Spec=rfc5652.ContentInfo())
        if rest:
            raise ValueError("bytes after the signature")
        if str(info["contentType"]) != _SIGNED_DATA:
            raise ValueError("not SignedData")
        signed, _ = decoder.decode(info["content"], asn1Spec=rfc5652.SignedData())
        infos = list(signed["signerInfos"])
        if len(infos) != 1:
            raise ValueError(f"{len(infos)} signers, not one")
        certificates = []
        for choice in signed["certificates"] if signed["certificates"].isValue else ():
            if choice.getName() == "certificate":
                der = encoder.encode(choice["certificate"])
                try:
                    certificates.append(x509.load_der_x509_certificate(der))
                except Exception as e:  # noqa: BLE001 - cryptography's InvalidVersion, too
                    raise ValueError(f"a certificate in it cannot be read ({e})") from None
        content = signed["encapContentInfo"]["eContent"]
        return _Parsed(infos[0], tuple(certificates), bool(content.isValue))
    except (PyAsn1Error, ValueError, TypeError, KeyError, IndexError) as e:
        raise ValueError(str(e)[:200] or type(e).__name__) from None


def _check_signature(
    data: bytes, parsed: _Parsed
) -> tuple[x509.Certificate | None, datetime | None, list[x509.Certificate], Step]:
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import univ, useful
    from pyasn1_modules import rfc5652

    certificates = list(parsed.certificates)

    def failed(detail: str, de: str) -> tuple[None, None, list[x509.Certificate], Step]:
        return None, None, certificates, Step("signature", False, detail, de)

    if parsed.has_content:
        return failed(
            "the signature is not detached: it carries content of its own",
            "die Signatur ist nicht abgetrennt: sie trägt eigenen Inhalt",
        )
    info = parsed.signer_info
    sid = info["sid"]  # type: ignore[index]
    if sid.getName() != "issuerAndSerialNumber":
        return failed(
            "the signer is named by a key identifier, not by issuer and serial",
            "der Unterzeichner ist per Schlüsselkennung genannt, nicht per Aussteller und "
            "Seriennummer",
        )
    serial = int(sid["issuerAndSerialNumber"]["serialNumber"])
    issuer_der = encoder.encode(sid["issuerAndSerialNumber"]["issuer"])
    signer = next(
        (
            c
            for c in certificates
            if c.serial_number == serial and c.issuer.public_bytes() == issuer_der
        ),
        None,
    )
    if signer is None:
        return failed(
            "the signer's certificate is not in the signature",
            "das Zertifikat des Unterzeichners ist nicht in der Signatur",
        )
    algorithm = str(info["digestAlgorithm"]["algorithm"])  # type: ignore[index]
    if algorithm not in _DIGESTS:
        return failed(
            f"digest algorithm {algorithm} is not SHA-256, SHA-384 or SHA-512",
            f"das Hashverfahren {algorithm} ist nicht SHA-256, SHA-384 oder SHA-512",
        )
    digest_type = _DIGESTS[algorithm]
    attributes = info["signedAttrs"]  # type: ignore[index]
    if not attributes.isValue:
        return failed(
            "no signed attributes (RFC 5652 5.4 asks for them with detached content)",
            "keine signierten Attribute (RFC 5652 5.4 verlangt sie bei abgetrenntem Inhalt)",
        )
    values: dict[str, object] = {}
    for attribute in attributes:
        values[str(attribute["attrType"])] = attribute["attrValues"][0]
    if _MESSAGE_DIGEST not in values or _CONTENT_TYPE not in values:
        return failed(
            "the content type or the message digest attribute is missing",
            "das Attribut Inhaltstyp oder Prüfsumme fehlt",
        )
    try:
        content_type, _ = decoder.decode(values[_CONTENT_TYPE], asn1Spec=univ.ObjectIdentifier())
        digest, _ = decoder.decode(values[_MESSAGE_DIGEST], asn1Spec=univ.OctetString())
    except PyAsn1Error:
        return failed(
            "the content type or the message digest attribute is not of its type",
            "das Attribut Inhaltstyp oder Prüfsumme hat nicht seinen Typ",
        )
    if str(content_type) != _DATA:
        return failed(
            f"the signed content type is {content_type}, not data",
            f"der signierte Inhaltstyp ist {content_type}, nicht data",
        )
    computed = hashlib.new(digest_type.name, data).digest()
    if bytes(digest) != computed:
        return failed(
            "the manifest's digest is not the one signed: the manifest was changed",
            "die Prüfsumme des Manifests ist nicht die signierte: das Manifest wurde verändert",
        )
    signed_set = univ.SetOf(componentType=rfc5652.Attribute())
    for attribute in attributes:
        signed_set.append(attribute)
    to_verify = encoder.encode(signed_set)
    signature = bytes(info["signature"])  # type: ignore[index]
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, to_verify, padding.PKCS1v15(), digest_type)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, to_verify, ec.ECDSA(digest_type))
        else:
            return failed(
                f"a {type(key).__name__} key is not supported",
                f"ein {type(key).__name__}-Schlüssel wird nicht unterstützt",
            )
    except Exception:  # noqa: BLE001 - InvalidSignature, or a key that does not match
        return failed(
            "the signature does not verify with the signer's key",
            "die Signatur lässt sich mit dem Schlüssel des Unterzeichners nicht bestätigen",
        )
    signing_time = None
    if _SIGNING_TIME in values:
        try:
            when, _ = decoder.decode(values[_SIGNING_TIME], asn1Spec=rfc5652.Time())
            chosen = when.getComponent()
            if isinstance(chosen, useful.UTCTime | useful.GeneralizedTime):
                signing_time = chosen.asDateTime.astimezone(UTC)
        except Exception:  # noqa: BLE001 - an unreadable time is said below as "none"
            signing_time = None
    kind = f"{digest_type.name.upper()}, {'RSA' if isinstance(key, rsa.RSAPublicKey) else 'EC'}"
    detail = f"the signature over manifest.json verifies ({kind})"
    german = f"die Signatur über manifest.json ist gültig ({kind})"
    return signer, signing_time, certificates, Step("signature", True, detail, german)


def _check_chain(
    signer: x509.Certificate,
    certificates: Sequence[x509.Certificate],
    client_cas: Sequence[x509.Certificate],
    signing_time: datetime | None,
) -> Step:
    """The signer's certificate against the vendor's client CA: a path (OpenSSL's verifier,
    the signature's own CA certificates as intermediates), valid at the signing time, for
    client authentication (the leaf's and every CA's extended key usage, where present)."""
    from OpenSSL import crypto

    if not client_cas:
        return Step(
            "chain",
            False,
            "no client CA given to check the signer against",
            "keine Client-CA angegeben, gegen die der Unterzeichner geprüft würde",
        )
    at = signing_time or datetime.now(UTC)
    from netdiag.trust.chains import anchor_store

    store = anchor_store(client_cas, at)
    others = [crypto.X509.from_cryptography(c) for c in certificates if c != signer]
    context = crypto.X509StoreContext(store, crypto.X509.from_cryptography(signer), others)
    try:
        context.verify_certificate()
        verified = [c.to_cryptography() for c in context.get_verified_chain()]
    except crypto.X509StoreContextError as e:
        return Step(
            "chain",
            False,
            f"the signer does not chain to the client CA: {e}",
            f"der Unterzeichner führt nicht zur Client-CA: {e}",
        )
    for certificate in verified:
        try:
            usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if (
            ExtendedKeyUsageOID.CLIENT_AUTH not in usage
            and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usage
        ):
            subject = certificate.subject.rfc4514_string()
            return Step(
                "chain",
                False,
                f"{subject} is not for client authentication",
                f"{subject} ist nicht für die Client-Authentifizierung",
            )
    anchor = verified[-1].subject.rfc4514_string()
    moment = at.isoformat(timespec="seconds")
    return Step(
        "chain",
        True,
        f"the signer chains to {anchor} for client authentication, valid at {moment}",
        f"der Unterzeichner führt zu {anchor} für die Client-Authentifizierung, gültig am {moment}",
    )


def _signer(certificate: x509.Certificate) -> Signer:
    return Signer(
        subject=certificate.subject.rfc4514_string(),
        serial=format(certificate.serial_number, "x"),
        issuer=certificate.issuer.rfc4514_string(),
        not_before=certificate.not_valid_before_utc.isoformat(),
        not_after=certificate.not_valid_after_utc.isoformat(),
    )
