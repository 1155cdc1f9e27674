"""Where pins come from and how a chain stands to them: from the CA certificates of the
vendor's bundle (`pins import`), from chains presented on a clean path (`pins learn`), and
checking presented chains against them (`pins verify`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.errors import CertificateError
from netdiag.privacy.secret import Secret
from netdiag.report.model import Report, Status
from netdiag.report.observations import TlsOutcome
from netdiag.trust.chains import authority_key_id, signature_path, spki_sha256
from netdiag.trust.model import is_pinned, readable_chain
from netdiag.trust.pins import ALL, EndpointRecord, Pin, PinSet


def pin_for(
    certificate: x509.Certificate,
    applies_to: Sequence[str],
    source: str,
    now: datetime,
    *,
    records_issuer: bool = False,
) -> Pin:
    """A pin of `certificate`; with `records_issuer`, also the name and key identifier of
    its issuer (the root that was not presented), for recognising a rotation later."""
    is_root = certificate.subject == certificate.issuer
    return Pin(
        issuer=certificate.issuer.rfc4514_string() if records_issuer and not is_root else "",
        issuer_key_id=authority_key_id(certificate) if records_issuer and not is_root else "",
        spki_sha256=spki_sha256(certificate),
        subject=certificate.subject.rfc4514_string(),
        role="root" if is_root else "issuing",
        applies_to=tuple(applies_to) or (ALL,),
        source=source,
        added=now.isoformat(timespec="seconds"),
        pem=certificate.public_bytes(Encoding.PEM).decode("ascii"),
    )


@dataclass(frozen=True, slots=True)
class ImportCandidates:
    """The CA certificates of a file to pin, and whether the file is a client bundle: a
    bundle's CAs issued the gateway's certificate, which says nothing about who issues the
    servers' — they are pinned only where the user confirms that they do."""

    cas: tuple[x509.Certificate, ...]
    is_client_bundle: bool


def import_candidates(path: Path, password: Secret | None) -> ImportCandidates:
    """The CA certificates in a PKCS#12 client bundle, a PEM client file (with its key) or
    a PEM/DER CA file (leaves are left out)."""
    from netdiag.files import read_bounded
    from netdiag.trust.identity import CA_FILE, MAX_FILE_BYTES, load_ca_certificates

    data = read_bounded(path, MAX_FILE_BYTES, CA_FILE, CertificateError)
    is_bundle = b"PRIVATE KEY-----" in data
    if b"-----BEGIN" in data or not data.startswith(b"\x30"):
        certificates = load_ca_certificates(path)
    else:
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            certificates = load_ca_certificates(path)
        except CertificateError:
            try:
                bundle = pkcs12.load_pkcs12(data, password.reveal() if password else None)
            except ValueError:
                if password is None:
                    raise CertificateError(
                        f"{path} is protected by a password: give it with --cert-password-file "
                        "or NETDIAG_CERT_PASSWORD",
                        de=f"{path} ist mit einem Passwort geschützt: mit --cert-password-file "
                        "oder NETDIAG_CERT_PASSWORD angeben",
                    ) from None
                raise CertificateError(
                    f"cannot open {path}: wrong password (or a damaged PKCS#12 file)",
                    de=f"{path} lässt sich nicht öffnen: falsches Passwort (oder eine "
                    "beschädigte PKCS#12-Datei)",
                ) from None
            certificates = tuple(c.certificate for c in bundle.additional_certs)
            is_bundle = True
    cas = tuple(c for c in certificates if _is_ca(c))
    if not cas:
        raise CertificateError(
            f"{path} holds no CA certificate to pin",
            de=f"{path} enthält kein CA-Zertifikat zum Pinnen",
        )
    return ImportCandidates(cas, is_bundle)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return certificate.subject == certificate.issuer


def import_pins(
    path: Path,
    chosen: Sequence[x509.Certificate],
    *,
    is_client_bundle: bool,
    applies_to: Sequence[str],
    now: datetime,
) -> PinSet:
    """Pins of the `chosen` CA certificates of `path`, their source saying where they came
    from (and, for a client bundle, that the user confirmed them as the servers' issuers)."""
    source = f"imported from {path.name}"
    if is_client_bundle:
        source += " (client bundle; confirmed as an issuer of the servers' certificates)"
    return PinSet(tuple(pin_for(c, applies_to, source, now) for c in chosen))


@dataclass(frozen=True, slots=True)
class Learned:
    pins: PinSet
    skipped: tuple[str, ...]
    # The same lines in German, in the same order.
    skipped_de: tuple[str, ...] = ()


def learn_pins(report: Report, now: datetime) -> Learned:
    """Pins from the chains that the report's endpoints presented, unless a chain already
    looks intercepted (convicted, or showing a sign of inspection of its own handshake)."""
    pins: list[Pin] = []
    records: list[EndpointRecord] = []
    skipped: list[str] = []
    skipped_de: list[str] = []

    def skip(english: str, german: str) -> None:
        skipped.append(english)
        skipped_de.append(german)

    for endpoint in report.endpoints:
        target = endpoint.target
        tls = endpoint.protocol.tls if endpoint.protocol is not None else None
        if tls is None or not tls.chain_der:
            if target.service.value != "tcp":
                skip(
                    f"{target.label}: no TLS handshake to learn from",
                    f"{target.label}: kein TLS-Handshake, aus dem zu lernen wäre",
                )
            continue
        suspicious = [
            f
            for f in endpoint.findings
            if f.code in ("tls.intercepted", "tls.not_the_server", "tls.chain_unproven")
            or (f.code == "tls.unpinned" and "signs of inspection" in f.summary)
        ]
        if suspicious:
            skip(
                f"{target.label}: not learned, the chain is not the vendor's server's as "
                f"presented: {suspicious[0].summary}",
                f"{target.label}: nicht gelernt, die Kette ist nicht die des Servers des "
                f"Herstellers, wie sie gezeigt wurde: {suspicious[0].summary}",
            )
            continue
        if tls.outcome is not TlsOutcome.ESTABLISHED:
            # A chain shown in a handshake that did not complete was never proven to be
            # the server's own: nothing to learn from.
            skip(
                f"{target.label}: not learned, the handshake did not complete",
                f"{target.label}: nicht gelernt, der Handshake wurde nicht abgeschlossen",
            )
            continue
        chain, unreadable = readable_chain(tls)
        if unreadable:
            skip(
                f"{target.label}: {len(unreadable)} certificate(s) cannot be read",
                f"{target.label}: {len(unreadable)} Zertifikat(e) nicht lesbar",
            )
        if len(chain) < 2:
            skip(
                f"{target.label}: the server sent no CA certificate with its own",
                f"{target.label}: der Server schickte kein CA-Zertifikat mit seinem eigenen",
            )
            continue
        source = f"learned from {target.label} on {now.date().isoformat()}"
        # What the path proves, up to the topmost CA it reaches (not a certificate merely
        # sent along); that CA's issuer recorded where it was not presented, so that the
        # vendor's next intermediate under the same root reads as a rotation, not as an
        # interception. A host presents the same issuer on all its ports; a profile's
        # group on all hosts.
        path = signature_path(chain)[1:]
        pins += [
            pin_for(c, [target.group or target.host], source, now, records_issuer=c is path[-1])
            for c in path
        ]
        if not path:
            skip(
                f"{target.label}: no CA certificate of the chain signed the leaf",
                f"{target.label}: kein CA-Zertifikat der Kette hat das Serverzertifikat signiert",
            )
            continue
        records.append(
            EndpointRecord(
                endpoint=target.label,
                was_client_cert_requested=bool(tls.was_client_cert_requested),
                client_ca_names=tls.client_ca_names,
                fingerprint=tls.fingerprint,
            )
        )
    learned = PinSet().merged(PinSet(tuple(pins), tuple(records)))
    return Learned(learned, tuple(skipped), tuple(skipped_de))


class PinState(StrEnum):
    """How a presented chain stands to the pins; the value is what `pins verify` shows."""

    PINNED = "pinned"
    NOT_PINNED = "NOT pinned"
    NO_PINS = "no pins"
    NO_CHAIN = "no chain"

    @property
    def status(self) -> Status:
        if self is PinState.NOT_PINNED:
            return Status.CRIT
        return Status.OK if self is PinState.PINNED else Status.WARN


@dataclass(frozen=True, slots=True)
class PinVerdict:
    endpoint: str
    verdict: PinState
    issuer: str
    detail: str


def verify_pins(report: Report, pin_set: PinSet) -> list[PinVerdict]:
    """For every TLS endpoint: pinned, not pinned (the pins do not anchor the chain), no
    pins for it, or no chain seen."""
    verdicts = []
    for endpoint in report.endpoints:
        target = endpoint.target
        if target.service.value == "tcp":
            continue
        tls = endpoint.protocol.tls if endpoint.protocol is not None else None
        if tls is None or not tls.chain:
            verdicts.append(PinVerdict(target.label, PinState.NO_CHAIN, "", "no TLS handshake"))
            continue
        pins = pin_set.for_target(target)
        issuer = tls.chain[0].issuer
        if not pins:
            verdicts.append(
                PinVerdict(
                    target.label, PinState.NO_PINS, issuer, "no pin applies to this endpoint"
                )
            )
        elif is_pinned(tls, pins):
            verdicts.append(PinVerdict(target.label, PinState.PINNED, issuer, ""))
        else:
            detail = "pinned: " + "; ".join(p.subject for p in pins)
            verdicts.append(PinVerdict(target.label, PinState.NOT_PINNED, issuer, detail))
    return verdicts
