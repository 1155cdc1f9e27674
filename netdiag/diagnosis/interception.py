"""Interception: is the presented chain the vendor's, and if not, what proves it?

The verdict rests on the pins (a chain not anchored in a pinned issuer is intercepted) and,
without pins, on evidence that only an inspecting middlebox produces: a known inspection
product as issuer, or an anchor that only this machine trusts. The product catalogue only
names the product. Everything else is evidence, each as its own line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from netdiag.chains import is_issued_by
from netdiag.diagnosis.catalogue import finding
from netdiag.observations import TlsObservation
from netdiag.pins import EndpointRecord, Pin
from netdiag.products import Product, identify
from netdiag.report import Finding
from netdiag.targets import Target

FRESH_LEAF = timedelta(hours=48)
_DER, _SPKI = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
SHORT_LIVED = timedelta(days=14)


def _chain_names(tls: TlsObservation) -> list[str]:
    """Issuer and CA names of the chain, the way a product's CA would show up."""
    names = [c.issuer for c in tls.chain]
    names += [c.subject for c in tls.chain[1:]]
    return list(dict.fromkeys(names))


def is_pinned(tls: TlsObservation, pins: Sequence[Pin]) -> bool:
    """Whether a presented certificate is a pinned CA, or is issued by one (when the pin
    carries the CA certificate and the server omitted it from the chain)."""
    hashes = {p.spki_sha256 for p in pins}
    if any(c.spki_sha256 in hashes for c in tls.chain):
        return True
    pinned_cas = []
    for pin in pins:
        if pin.pem:
            try:
                pinned_cas.append(x509.load_pem_x509_certificate(pin.pem.encode("ascii")))
            except ValueError:
                continue
    for der in tls.chain_der:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        if any(is_issued_by(certificate, ca) for ca in pinned_cas):
            return True
    return False


def _top(tls: TlsObservation) -> str:
    top = tls.chain[-1]
    return top.subject if top.is_self_signed else top.issuer


def evidence_lines(
    target: Target,
    tls: TlsObservation,
    *,
    pins: Sequence[Pin],
    record: EndpointRecord | None,
    others: Sequence[tuple[Target, TlsObservation]],
    now: datetime,
    product: tuple[Product, str] | None,
) -> list[str]:
    leaf = tls.chain[0]
    lines = [f"presented: issuer {leaf.issuer!r}, root {_top(tls)!r}"]
    lines += [
        f"  certificate {i}: {c.subject} (SPKI SHA-256 {c.spki_sha256})"
        for i, c in enumerate(tls.chain)
    ]
    if pins:
        lines.append(
            "pinned: " + "; ".join(f"{p.subject} (SPKI SHA-256 {p.spki_sha256})" for p in pins)
        )
    if product is not None:
        lines.append(
            f"the issuer {product[1]!r} is the inspection CA of {product[0].name} "
            f"({product[0].source})"
        )
    anchors = tls.anchors
    if anchors is not None and anchors.local_anchor and not anchors.public_anchor:
        lines.append(
            f"the chain is anchored in {anchors.local_anchor!r}, trusted by this machine's "
            "trust store "
            "but not by the Mozilla root set: the classic anchor of enterprise TLS inspection"
        )
    not_before = datetime.fromisoformat(leaf.not_before)
    not_after = datetime.fromisoformat(leaf.not_after)
    if timedelta(0) <= now - not_before < FRESH_LEAF:
        minutes = int((now - not_before).total_seconds() // 60)
        lines.append(f"the server certificate was minted {minutes} minutes ago ({leaf.not_before})")
    if not_after - not_before < SHORT_LIVED:
        lines.append(
            f"the server certificate is short-lived: {leaf.not_before} to {leaf.not_after}"
        )
    issuers = {c.spki_sha256 for c in tls.chain[1:]} or {leaf.issuer}
    for other_target, other in others:
        if not other.chain or other_target == target:
            continue
        other_issuers = {c.spki_sha256 for c in other.chain[1:]} or {other.chain[0].issuer}
        if other_target.host == target.host and other_issuers != issuers:
            lines.append(
                f"{other_target.label} presents a different chain "
                f"(issuer {other.chain[0].issuer!r}) "
                f"than {target.label} (issuer {leaf.issuer!r})"
            )
        elif other_target.host != target.host and other.chain[0].spki_sha256 == leaf.spki_sha256:
            lines.append(f"{other_target.label} presents the same server key as {target.label}")
    if record is not None:
        if record.was_client_cert_requested and tls.was_client_cert_requested is False:
            lines.append("the server did not ask for a client certificate; the genuine server does")
        elif (
            record.client_ca_names
            and tls.client_ca_names
            and set(record.client_ca_names) != set(tls.client_ca_names)
        ):
            lines.append(
                "the acceptable client CAs differ from the genuine server's: "
                f"{'; '.join(tls.client_ca_names)} instead of {'; '.join(record.client_ca_names)}"
            )
        if record.fingerprint and tls.fingerprint and record.fingerprint != tls.fingerprint:
            lines.append(
                f"the server's TLS fingerprint {tls.fingerprint} differs from the genuine "
                f"{record.fingerprint}"
            )
    elif tls.was_client_cert_requested is False:
        lines.append(
            "the server did not ask for a client certificate; the vendor's servers always do"
        )
    return lines


def weak_signals(
    target: Target,
    tls: TlsObservation,
    *,
    record: EndpointRecord | None,
    others: Sequence[tuple[Target, TlsObservation]],
    now: datetime,
) -> set[str]:
    """Signs of a middlebox that a genuine vendor server rarely shows, each alone weak:
    a server certificate minted hours ago or short-lived, no client-certificate request
    (the vendor's servers always ask), another chain on another port of the same host, a
    TLS fingerprint other than the recorded one."""
    leaf = tls.chain[0]
    not_before = datetime.fromisoformat(leaf.not_before)
    not_after = datetime.fromisoformat(leaf.not_after)
    signals = set()
    if timedelta(0) <= now - not_before < FRESH_LEAF or not_after - not_before < SHORT_LIVED:
        signals.add("fresh_leaf")
    if tls.was_client_cert_requested is False:
        signals.add("not_requested")
    issuers = {c.spki_sha256 for c in tls.chain[1:]} or {leaf.issuer}
    for other_target, other in others:
        if other_target.host == target.host and other_target != target and other.chain:
            if ({c.spki_sha256 for c in other.chain[1:]} or {other.chain[0].issuer}) != issuers:
                signals.add("other_port_differs")
    if (
        record is not None
        and record.fingerprint
        and tls.fingerprint
        and record.fingerprint != tls.fingerprint
    ):
        signals.add("fingerprint")
    return signals


def diagnose_interception(
    target: Target,
    tls: TlsObservation,
    *,
    pins: Sequence[Pin],
    record: EndpointRecord | None = None,
    others: Sequence[tuple[Target, TlsObservation]] = (),
    now: datetime,
    exempt: Sequence[str] = (),
    products: Sequence[Product] | None = None,
) -> list[Finding]:
    if not tls.chain:
        return []
    where = f"TLS on {target.label}"
    product = identify(_chain_names(tls), products)
    lines = evidence_lines(
        target, tls, pins=pins, record=record, others=others, now=now, product=product
    )
    remedy = None
    if exempt:
        remedy = (
            "Exempt these destinations from TLS/SSL inspection (and from SMTP/ESMTP inspection) "
            f"on the firewall or proxy: {', '.join(exempt)}. Client-certificate authentication "
            "cannot work through inspection."
        )
    if pins and is_pinned(tls, pins):
        presented = {c.spki_sha256 for c in tls.chain}
        anchor = next((p for p in pins if p.spki_sha256 in presented), pins[0])
        return [
            finding(
                "tls.pinned",
                f"{where}: the chain is anchored in the pinned {anchor.subject!r}",
                lines[:1],
            )
        ]
    local_only = (
        tls.anchors is not None and bool(tls.anchors.local_anchor) and not tls.anchors.public_anchor
    )
    weak = weak_signals(target, tls, record=record, others=others, now=now)
    publicly_anchored = tls.anchors is not None and bool(tls.anchors.public_anchor)
    # Without pins, signals that a genuine server rarely shows convict only together, and
    # never a chain from the public PKI, which an inspecting box cannot obtain.
    convicted_by_signals = len(weak) >= 2 and not publicly_anchored
    if pins or product is not None or local_only or convicted_by_signals:
        issuer = tls.chain[0].issuer
        by = f" by {product[0].name}" if product else ""
        reason = "" if pins else " (no pins; the evidence below)"
        summary = f"{where} is intercepted{by} (issuer {issuer!r}){reason}"
        return [finding("tls.intercepted", summary, lines, remedy=remedy)]
    return [
        finding(
            "tls.unpinned",
            f"{where}: no pinned issuer to compare the chain with (issuer {tls.chain[0].issuer!r})",
            lines,
        )
    ]


def diagnose_local_roots(
    local: Sequence[x509.Certificate],
    public: Sequence[x509.Certificate],
    store_name: str,
    products: Sequence[Product] | None = None,
) -> list[Finding]:
    """Roots of inspection products that this machine trusts and the Mozilla set does not:
    antivirus and parental-control software that intercept TLS on the machine itself."""
    public_keys = {c.public_key().public_bytes(_DER, _SPKI) for c in public}
    findings = []
    for root in local:
        if root.public_key().public_bytes(_DER, _SPKI) in public_keys:
            continue
        subject = root.subject.rfc4514_string()
        product = identify([subject, root.issuer.rfc4514_string()], products)
        if product is None:
            continue
        findings.append(
            finding(
                "local.inspection_root",
                f"this machine trusts the root {subject!r} of {product[0].name}",
                [
                    f"trust store: {store_name}",
                    f"root: {subject}",
                    f"valid until {root.not_valid_after_utc.isoformat()}",
                    f"catalogue: {product[0].source}",
                ],
            )
        )
    return findings
