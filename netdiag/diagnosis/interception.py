"""Interception: is the presented chain the vendor's, and if not, what proves it?

Judged per chain, as a decision list (README, "How interception is judged"):

1. With pins: the chain is the vendor's only if the leaf's signature path reaches a pinned
   key (`tls.pinned`); otherwise it is intercepted. Presence is not enough: a forged leaf
   followed by the genuine vendor intermediate is not pinned.
2. Strong evidence convicts alone: an issuer that the product catalogue names, or an
   anchor that only this machine's trust store holds.
3. Without pins, a chain anchored in the public PKI is never convicted by weak signals (an
   inspecting box cannot obtain such a chain), and neither is a chain whose server asked
   for our certificate (with a CA list that names our issuer, when we have one) and then
   completed the protocol with it: it did what only the vendor's server can do.
4. Otherwise weak signals are counted, one point each, and two convict:
   the server did not ask for a client certificate; its acceptable-CA list differs from
   the recorded genuine one; its TLS fingerprint differs from the recorded one; the session
   died right after the handshake (closed, reset or an alert before any protocol reply);
   and — relational, counted only for a chain that shows one of those traits itself —
   another port of the same host presents a chain of another hierarchy that did the
   vendor's client-certificate dance. A freshly minted or short-lived leaf counts too, but
   never alone and never with the relational point alone: vendors renew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from netdiag.chains import load_chain, signature_path, spki_sha256
from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.verification import TrustContext
from netdiag.observations import (
    AnchorCheck,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.pins import EndpointRecord, Pin
from netdiag.products import Product, identify
from netdiag.report import Finding
from netdiag.targets import Target
from netdiag.trust import check_anchors

FRESH_LEAF = timedelta(hours=48)
SHORT_LIVED = timedelta(days=14)
_DER, _SPKI = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
CONVICTING_POINTS = 2


@dataclass(frozen=True, slots=True)
class PresentedChain:
    """One endpoint's handshake as the interception rules see it: whose it is, what the
    server showed, and whether the protocol completed after it."""

    target: Target
    tls: TlsObservation
    is_completed: bool
    died_after_handshake: bool = False

    @classmethod
    def of(cls, target: Target, protocol: ProtocolObservation) -> PresentedChain | None:
        """The chain of a dialogue, if a handshake presented one."""
        tls = protocol.tls
        if tls is None or not tls.chain:
            return None
        is_completed = protocol.stopped_at is ProtocolStage.DONE
        # The first protocol step after the handshake got no reply at all: the session was
        # closed, reset or alerted — what an interceptor does when the upstream refuses it.
        no_reply = not protocol.was_answered_after_tls
        died_after = (
            tls.outcome is TlsOutcome.ESTABLISHED
            and protocol.stopped_at
            in (ProtocolStage.EHLO_TLS, ProtocolStage.GREETING, ProtocolStage.REQUEST)
            and protocol.failure in (StageFailure.CLOSED, StageFailure.TLS_ALERT)
            and no_reply
        )
        # The handshake closed or reset without an alert after the server had shown its
        # chain: what an interceptor does when its own upstream connection is refused.
        died_during = (
            tls.outcome in (TlsOutcome.CLOSED, TlsOutcome.RESET) and not tls.has_peer_alert
        )
        died = not is_completed and (died_after or died_during)
        return cls(target, tls, is_completed, died)


class Signal(StrEnum):
    """A weak sign of a middlebox; `CONVICTING_POINTS` of them convict a chain."""

    NOT_REQUESTED = "the server did not ask for a client certificate"
    CA_LIST_DIFFERS = "the acceptable client CAs differ from the genuine server's"
    FINGERPRINT_DIFFERS = "the server's TLS fingerprint differs from the genuine one"
    DIED_AFTER_HANDSHAKE = (
        "the session ended right after the server showed its chain, without an alert or a reply"
    )
    FRESH_LEAF = "the server certificate is freshly minted or short-lived"
    OTHER_PORT_GENUINE = (
        "another port of the same host presents another hierarchy and did the vendor's "
        "client-certificate dance"
    )


def _chain_names(tls: TlsObservation) -> list[str]:
    """Issuer and CA names of the chain, the way a product's CA would show up."""
    names = [c.issuer for c in tls.chain if c.issuer]
    names += [c.subject for c in tls.chain[1:] if not c.parse_error]
    return list(dict.fromkeys(names))


def _pinned_cas(pins: Sequence[Pin]) -> list[x509.Certificate]:
    cas = []
    for pin in pins:
        if pin.pem:
            try:
                cas.append(x509.load_pem_x509_certificate(pin.pem.encode("ascii")))
            except ValueError:
                continue
    return cas


def pinned_anchor(tls: TlsObservation, pins: Sequence[Pin]) -> Pin | None:
    """The pin that the leaf's signature path reaches — through the presented CA
    certificates and the pinned CA certificates themselves (a server may omit its
    issuer) — or None. A pinned certificate merely present in the chain does not count."""
    chain = load_chain(tls.chain_der)
    if not chain or not pins:
        return None
    by_hash = {p.spki_sha256: p for p in pins}
    for certificate in signature_path(chain, _pinned_cas(pins)):
        pin = by_hash.get(spki_sha256(certificate))
        if pin is not None:
            return pin
    return None


def is_pinned(tls: TlsObservation, pins: Sequence[Pin]) -> bool:
    """Whether the leaf's signature path reaches a pinned key (see `pinned_anchor`)."""
    return pinned_anchor(tls, pins) is not None


def anchors_of(tls: TlsObservation, trust: TrustContext) -> AnchorCheck:
    """Which trust store anchors the chain: this machine's own, the public one."""
    chain = load_chain(tls.chain_der)
    if not chain:
        return AnchorCheck()
    return check_anchors(chain, trust.local_roots, trust.public_roots)


def _top(tls: TlsObservation) -> str:
    top = tls.chain[-1]
    return top.subject if top.is_self_signed else top.issuer


def _is_fresh(tls: TlsObservation, now: datetime) -> bool:
    leaf = tls.chain[0]
    if not leaf.not_before or not leaf.not_after:
        return False
    not_before = datetime.fromisoformat(leaf.not_before)
    not_after = datetime.fromisoformat(leaf.not_after)
    return timedelta(0) <= now - not_before < FRESH_LEAF or not_after - not_before < SHORT_LIVED


def _hierarchy(tls: TlsObservation) -> frozenset[str]:
    """The issuing keys of a chain (its leaf's issuer name when it sent no CA)."""
    return frozenset(c.spki_sha256 for c in tls.chain[1:] if c.spki_sha256) or frozenset(
        {tls.chain[0].issuer}
    )


def did_vendor_dance(chain: PresentedChain, client_issuers: Sequence[bytes] = ()) -> bool:
    """The server asked for our certificate — naming our issuer, when we know it and the
    server sent a list — and the protocol completed after the handshake."""
    tls = chain.tls
    if not tls.was_client_cert_requested or not chain.is_completed:
        return False
    if client_issuers and tls.client_ca_der:
        return bool(set(client_issuers) & set(tls.client_ca_der))
    return True


def own_signals(
    chain: PresentedChain, record: EndpointRecord | None, now: datetime
) -> list[Signal]:
    """The traits of this chain itself that a genuine vendor server does not show."""
    tls = chain.tls
    signals = []
    if tls.was_client_cert_requested is False:
        signals.append(Signal.NOT_REQUESTED)
    if (
        record is not None
        and record.client_ca_names
        and tls.client_ca_names
        and set(record.client_ca_names) != set(tls.client_ca_names)
    ):
        signals.append(Signal.CA_LIST_DIFFERS)
    if (
        record is not None
        and record.fingerprint
        and tls.fingerprint
        and record.fingerprint != tls.fingerprint
    ):
        signals.append(Signal.FINGERPRINT_DIFFERS)
    if not chain.is_completed and (tls.post_handshake_alert or chain.died_after_handshake):
        signals.append(Signal.DIED_AFTER_HANDSHAKE)
    if _is_fresh(tls, now):
        signals.append(Signal.FRESH_LEAF)
    return signals


def relational_signal(
    chain: PresentedChain,
    others: Sequence[PresentedChain],
    client_issuers: Sequence[bytes] = (),
) -> tuple[Signal, PresentedChain] | None:
    """Another port of the same host with a chain of another hierarchy that did the
    vendor's dance: evidence against this chain, never against that one."""
    mine = _hierarchy(chain.tls)
    for other in others:
        if other.target == chain.target or other.target.host != chain.target.host:
            continue
        if not other.tls.chain or _hierarchy(other.tls) == mine:
            continue
        if did_vendor_dance(other, client_issuers):
            return Signal.OTHER_PORT_GENUINE, other
    return None


def weighed_signals(
    chain: PresentedChain,
    *,
    record: EndpointRecord | None,
    others: Sequence[PresentedChain],
    now: datetime,
    client_issuers: Sequence[bytes] = (),
) -> list[Signal]:
    """The signals that count for this chain under rule 4: the relational one only next
    to a trait of the chain's own other than a fresh leaf."""
    own = own_signals(chain, record, now)
    counted = list(own)
    has_own_trait = any(s is not Signal.FRESH_LEAF for s in own)
    relation = relational_signal(chain, others, client_issuers)
    if relation is not None and has_own_trait:
        counted.append(relation[0])
    if not has_own_trait:
        return []  # a fresh leaf alone (or with the relation alone) never convicts
    return counted


def evidence_lines(
    chain: PresentedChain,
    *,
    pins: Sequence[Pin],
    anchors: AnchorCheck,
    signals: Sequence[Signal],
    others: Sequence[PresentedChain],
    product: tuple[Product, str] | None,
    now: datetime,
    client_issuers: Sequence[bytes] = (),
) -> list[str]:
    tls = chain.tls
    leaf = tls.chain[0]
    lines = [f"presented: issuer {leaf.issuer!r}, root {_top(tls)!r}"]
    lines += [
        f"  certificate {i}: {c.subject} (SPKI SHA-256 {c.spki_sha256 or 'unknown'})"
        for i, c in enumerate(tls.chain)
    ]
    if pins:
        lines.append(
            "pinned: " + "; ".join(f"{p.subject} (SPKI SHA-256 {p.spki_sha256})" for p in pins)
        )
        lines.append("no certificate on the leaf's signature path is pinned")
    if product is not None:
        lines.append(
            f"the issuer {product[1]!r} is the inspection CA of {product[0].name} "
            f"({product[0].source})"
        )
    if anchors.local_anchor and not anchors.public_anchor:
        lines.append(
            f"the chain is anchored in {anchors.local_anchor!r}, trusted by this machine's "
            "trust store but not by the Mozilla root set: the classic anchor of enterprise "
            "TLS inspection"
        )
    for signal in signals:
        if signal is Signal.FRESH_LEAF:
            lines.append(f"{signal.value}: valid {leaf.not_before} to {leaf.not_after}")
        elif signal is Signal.OTHER_PORT_GENUINE:
            relation = relational_signal(chain, others, client_issuers)
            if relation is not None:
                other = relation[1]
                lines.append(
                    f"{other.target.label} presents another chain (issuer "
                    f"{other.tls.chain[0].issuer!r}), asked for our certificate and completed "
                    f"the protocol: the chain on {chain.target.label} is the odd one"
                )
        else:
            lines.append(signal.value)
    return lines


def diagnose_interception(
    chain: PresentedChain,
    trust: TrustContext,
    *,
    pins: Sequence[Pin],
    record: EndpointRecord | None = None,
    others: Sequence[PresentedChain] = (),
    now: datetime,
    exempt: Sequence[str] = (),
    products: Sequence[Product] | None = None,
    client_issuers: Sequence[bytes] = (),
) -> list[Finding]:
    """The interception verdict for one presented chain (see the module's decision list)."""
    tls = chain.tls
    if not tls.chain:
        return []
    where = f"TLS on {chain.target.label}"
    if pins:
        anchor = pinned_anchor(tls, pins)
        if anchor is not None:
            return [
                finding(
                    "tls.pinned",
                    f"{where}: the chain is anchored in the pinned {anchor.subject!r}",
                    [
                        f"presented: issuer {tls.chain[0].issuer!r}",
                        f"the leaf's signature path reaches the pinned {anchor.subject} "
                        f"(SPKI SHA-256 {anchor.spki_sha256})",
                    ],
                )
            ]
    product = identify(_chain_names(tls), products)
    anchors = anchors_of(tls, trust)
    local_only = bool(anchors.local_anchor) and not anchors.public_anchor
    signals: list[Signal] = []
    if not pins and not anchors.public_anchor and not did_vendor_dance(chain, client_issuers):
        signals = weighed_signals(
            chain, record=record, others=others, now=now, client_issuers=client_issuers
        )
    # Every sign is evidence, whether it counted for the verdict or not.
    relation = relational_signal(chain, others, client_issuers)
    shown = own_signals(chain, record, now) + ([relation[0]] if relation is not None else [])
    lines = evidence_lines(
        chain,
        pins=pins,
        anchors=anchors,
        signals=shown,
        others=others,
        product=product,
        now=now,
        client_issuers=client_issuers,
    )
    remedy = None
    if exempt:
        remedy = (
            "Exempt these destinations from TLS/SSL inspection (and from SMTP/ESMTP inspection) "
            f"on the firewall or proxy: {', '.join(exempt)}. Client-certificate authentication "
            "cannot work through inspection."
        )
    if pins or product is not None or local_only or len(signals) >= CONVICTING_POINTS:
        issuer = tls.chain[0].issuer
        by = f" by {product[0].name}" if product else ""
        reason = "" if pins else " (no pins; the evidence below)"
        summary = f"{where} is intercepted{by} (issuer {issuer!r}){reason}"
        subject = product[0].name if product else issuer
        return [finding("tls.intercepted", summary, lines, remedy=remedy, subject=subject)]
    return [
        finding(
            "tls.unpinned",
            f"{where}: no pinned issuer to compare the chain with (issuer {tls.chain[0].issuer!r})",
            lines,
        )
    ]


def died_without_a_word(attempt: ProtocolObservation) -> bool:
    """The session ended — closed or reset, no reply to our last command, no alert from the
    peer — before the server showed a chain."""
    tls = attempt.tls
    if tls is not None and tls.chain:
        return False
    if tls is not None and tls.outcome in (TlsOutcome.CLOSED, TlsOutcome.RESET):
        return not tls.has_peer_alert
    if attempt.stopped_at is ProtocolStage.CONNECT:
        # Refused or reset before a byte: nothing listening for a moment (a restart).
        return attempt.failure in (StageFailure.CLOSED, StageFailure.REFUSED)
    return attempt.failure is StageFailure.CLOSED and attempt.got_no_reply


def diagnose_likely_interception(
    target: Target,
    attempts: Sequence[ProtocolObservation],
    convicted: Sequence[tuple[Target, str]],
) -> list[Finding]:
    """An endpoint that showed no chain, whose every attempt ended without a word, while
    other endpoints on the same port and service were proven intercepted in the same run:
    the same device, most likely (an interceptor that drops or restarts under load cuts
    some sessions before its certificate is seen). Never for a stated refusal, another
    port, or without a proven interception."""
    same = [(t, issuer) for t, issuer in convicted if t != target]
    if not attempts or not same or not all(died_without_a_word(a) for a in attempts):
        return []
    issuers = sorted({issuer for _, issuer in same})
    evidence = [
        f"{len(same)} other endpoint(s) on port {target.port} were shown a forged chain in "
        f"this run: {', '.join(t.label for t, _ in same[:6])}",
        f"the device that showed them (product or issuer): {'; '.join(issuers)}",
        *(
            f"attempt {n}: ended at {a.stopped_at.value} without a word "
            f"({a.failure_detail or a.failure.value})"
            for n, a in enumerate(attempts, start=1)
        ),
    ]
    return [
        finding(
            "tls.intercepted",
            f"TLS on {target.label} is likely intercepted by the same device "
            f"({issuers[0]!r}): its sessions ended without a word before a chain was shown",
            evidence,
            subject=issuers[0],
            is_inferred=True,
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
