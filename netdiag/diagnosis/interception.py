"""Interception: is the presented chain the vendor's, and if not, what proves it?

Judged per chain over the facts of `netdiag.trust.model` (computed once), as a decision
list (README, "How interception is judged"):

1. Pins apply: the chain is the vendor's only if the leaf's signature path reaches a pinned
   key (`tls.pinned`); otherwise it is intercepted. Presence is not enough: a forged leaf
   followed by the genuine vendor intermediate is not pinned.
2. The chain is proven the vendor's by the CA certificates given with `--ca` or by the
   public root set, each with dates and host name: `tls.verified`.
3. A chain whose server asked for our certificate (with a CA list that names our issuer,
   when we have one) and then completed the protocol with it is never convicted by signs:
   it did what only the vendor's server can do. (A chain the public roots verify was
   proven under 2; one whose signatures reach a public root but whose path fails — a leaf
   acting as a CA — has no public CA's word behind it, and its signs count.)
4. Otherwise signs are counted, one point each, and a chain is convicted by two points of
   which at least one is a trait of its own handshake:
   - its own: the server did not ask for a client certificate; its acceptable-CA list
     differs from the recorded genuine one; its TLS fingerprint differs from the recorded
     one; the session died right after the handshake (closed or reset before any protocol
     reply, without an alert — an alert is a stated refusal, not a silent death);
   - supporting, counted only next to one of those: a freshly minted or short-lived leaf
     (vendors renew); another port of the same host presents a chain of another hierarchy
     that did the vendor's client-certificate dance; the signature path reaches none of the
     `--ca` certificates; an issuer named like an inspection product; an anchor that only
     this machine's trust store holds (the vendor's own root may be there).
5. Otherwise: with `--ca` given and failed, `tls.untrusted`; else `tls.unpinned` (WARN),
   with every sign and every piece of context in the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.settings.targets import Target
from netdiag.trust.model import ChainFacts, Proof, TrustContext, context_lines
from netdiag.trust.pins import EndpointRecord, Pin
from netdiag.trust.products import Product, ProductKind, identify
from netdiag.trust.proof import Part

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
        # closed or reset — what an interceptor does when the upstream refuses it. An alert
        # is the peer stating why (a server refusing our certificate): not a silent death.
        died_after = (
            tls.outcome is TlsOutcome.ESTABLISHED
            and protocol.stopped_at
            in (ProtocolStage.EHLO_TLS, ProtocolStage.GREETING, ProtocolStage.REQUEST)
            and protocol.failure is StageFailure.CLOSED
            and not tls.post_handshake_alert
            and not protocol.was_answered_after_tls
        )
        # The handshake closed or reset without an alert after the server had shown its
        # chain: what an interceptor does when its own upstream connection is refused.
        died_during = (
            tls.outcome in (TlsOutcome.CLOSED, TlsOutcome.RESET) and not tls.has_peer_alert
        )
        died = not is_completed and (died_after or died_during)
        return cls(target, tls, is_completed, died)


class Signal(StrEnum):
    """A sign of a middlebox. The first four are traits of the chain's own handshake; the
    others count only next to one of those (`OWN_TRAITS`)."""

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
    MISSES_GIVEN_CA = "the chain's signature path reaches none of the CA certificates given"
    PRODUCT_NAME = "an issuer is named like an inspection product's CA"
    ANCHORED_ONLY_HERE = (
        "the chain is anchored only in this machine's trust store, not in the public root set"
    )


OWN_TRAITS = frozenset(
    {
        Signal.NOT_REQUESTED,
        Signal.CA_LIST_DIFFERS,
        Signal.FINGERPRINT_DIFFERS,
        Signal.DIED_AFTER_HANDSHAKE,
    }
)


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
    """The traits of this chain's own handshake that a genuine vendor server does not
    show, and its leaf's freshness."""
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
    if not chain.is_completed and chain.died_after_handshake:
        signals.append(Signal.DIED_AFTER_HANDSHAKE)
    if _is_fresh(tls, now):
        signals.append(Signal.FRESH_LEAF)
    return signals


def context_signals(facts: ChainFacts) -> list[Signal]:
    """What the context says against the chain: never a conviction alone."""
    signals = []
    if facts.given_ca is not None and not facts.reaches_given_ca:
        signals.append(Signal.MISSES_GIVEN_CA)
    if facts.product is not None:
        signals.append(Signal.PRODUCT_NAME)
    if facts.is_anchored_only_here:
        signals.append(Signal.ANCHORED_ONLY_HERE)
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


def all_signals(
    chain: PresentedChain,
    facts: ChainFacts,
    *,
    record: EndpointRecord | None,
    others: Sequence[PresentedChain],
    now: datetime,
    client_issuers: Sequence[bytes] = (),
) -> list[Signal]:
    """Every sign the chain shows, its own first."""
    relation = relational_signal(chain, others, client_issuers)
    return [
        *own_signals(chain, record, now),
        *([relation[0]] if relation is not None else []),
        *context_signals(facts),
    ]


def counted_signals(signals: Sequence[Signal]) -> list[Signal]:
    """The signs that count under rule 4: none unless the chain's own handshake shows a
    trait; then every sign."""
    if not any(s in OWN_TRAITS for s in signals):
        return []
    return list(signals)


def evidence_lines(
    chain: PresentedChain,
    facts: ChainFacts,
    trust: TrustContext,
    *,
    signals: Sequence[Signal],
    others: Sequence[PresentedChain],
    client_issuers: Sequence[bytes] = (),
) -> list[str]:
    tls = chain.tls
    leaf = tls.chain[0]
    lines = [f"presented: issuer {leaf.issuer!r}, root {_top(tls)!r}"]
    lines += [
        f"  certificate {i}: {c.subject} (SPKI SHA-256 {c.spki_sha256 or 'unknown'})"
        for i, c in enumerate(tls.chain)
    ]
    if facts.pins:
        lines.append(
            "pinned: "
            + "; ".join(f"{p.subject} (SPKI SHA-256 {p.spki_sha256})" for p in facts.pins)
        )
        lines.append(f"pin file(s): {', '.join(_pin_files(facts.pins))}")
        if facts.pin is None:
            lines.append("no certificate on the leaf's signature path is pinned")
    if facts.given_ca is not None:
        if facts.given_ca.is_trusted:
            lines.append(
                f"the chain verifies against {facts.given_ca.anchors} for {facts.given_ca.name}"
            )
        else:
            lines.append(
                f"checked against {facts.given_ca.anchors} for {facts.given_ca.name}: "
                f"{facts.given_ca.detail}"
            )
    if facts.public is not None and not facts.public.is_trusted:
        lines.append(
            f"anchored in the public root set ({facts.public_anchor}), but: {facts.public.detail}"
        )
    lines += context_lines(facts, trust)
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
        elif signal in OWN_TRAITS:
            lines.append(signal.value)
    return lines


def _pin_files(pins: Sequence[Pin]) -> list[str]:
    return list(dict.fromkeys(p.file or p.source or "?" for p in pins))


def diagnose_interception(
    chain: PresentedChain,
    facts: ChainFacts,
    trust: TrustContext,
    *,
    record: EndpointRecord | None = None,
    others: Sequence[PresentedChain] = (),
    now: datetime,
    exempt: Sequence[str] = (),
    client_issuers: Sequence[bytes] = (),
) -> list[Finding]:
    """The trust verdict for one presented chain (see the module's decision list):
    `tls.pinned`, `tls.verified`, `tls.intercepted`, `tls.untrusted` or `tls.unpinned`."""
    tls = chain.tls
    if not tls.chain:
        return []
    where = f"TLS on {chain.target.label}"
    signals = all_signals(
        chain, facts, record=record, others=others, now=now, client_issuers=client_issuers
    )
    lines = evidence_lines(
        chain, facts, trust, signals=signals, others=others, client_issuers=client_issuers
    )
    if facts.path_by is not None:
        return _with_a_path(where, chain, facts, lines)
    remedy = exemption_remedy(exempt) or None
    # A new intermediate under the pinned CA's own issuer, in a handshake with none of the
    # traits of an inspecting box (it asked for the gateway's certificate, as recorded):
    # the vendor's rotation is the likely reading, and --ca with its root would prove it.
    own_traits = [s for s in signals if s in OWN_TRAITS]
    if facts.pins and facts.sibling_of is not None and not own_traits:
        pin = facts.sibling_of
        return [
            finding(
                "tls.rotation_suspected",
                f"{where}: no pin on the chain's path, but its CA {tls.chain[-1].subject!r} is "
                f"issued by {pin.issuer!r}, the issuer of the pinned {pin.subject!r}, and the "
                "handshake shows no trait of an inspecting device: most likely the vendor "
                "rotated its intermediate",
                [
                    *lines,
                    f"the pin {pin.subject!r} recorded its issuer {pin.issuer!r} (key id "
                    f"{pin.issuer_key_id or 'not recorded'}) when it was learned",
                    "a name and a key identifier can be copied: this is a reading, not a "
                    "proof; --ca with the vendor's root proves it",
                ],
                subject=pin.issuer,
            )
        ]
    # A chain whose signatures reach a public root but whose path does not verify has no
    # public CA's word behind it (a leaf acting as a CA): its signs count like any other's.
    counted = [] if did_vendor_dance(chain, client_issuers) else counted_signals(signals)
    product = facts.product
    if facts.pins or len(counted) >= CONVICTING_POINTS:
        issuer = tls.chain[0].issuer
        by = f" by {product[0].name}" if product else ""
        if facts.pins:
            reason = " (no pin on its signature path)"
        else:
            reason = f" ({'; '.join(s.value for s in counted)})"
        local = on_this_machine(facts)
        if local is not None:
            return [_intercepted_here(where, local, facts, lines, issuer, reason, exempt)]
        summary = f"{where} is intercepted{by} (issuer {issuer!r}){reason}"
        subject = product[0].name if product else issuer
        return [finding("tls.intercepted", summary, lines, remedy=remedy, subject=subject)]
    if facts.given_ca is not None:
        return [_untrusted(where, facts, lines)]
    # The handshake's own traits raise the suspicion in the summary; context (a product
    # name, the machine's store, a leaf's age) stays in the evidence.
    signs = [s.value for s in signals if s in OWN_TRAITS or s is Signal.OTHER_PORT_GENUINE]
    suspicion = f"; signs of inspection: {'; '.join(signs)}" if signs else ""
    # A server that asked for the gateway's certificate (naming its issuer) and completed
    # the protocol with it did what only the vendor's server can: the chain is unverified,
    # which is worth saying, but nothing stands against it.
    vouched = tls.was_client_cert_sent and did_vendor_dance(chain, client_issuers)
    if vouched:
        lines.append(
            "the server asked for the gateway's certificate and completed the protocol with it"
        )
    return [
        finding(
            "tls.unpinned",
            f"{where}: the chain is not verified, no pins and no --ca apply "
            f"(issuer {tls.chain[0].issuer!r}){suspicion}",
            lines,
            severity=Severity.INFO if vouched and not signs else None,
        )
    ]


def on_this_machine(facts: ChainFacts) -> Product | None:
    """The security software on this machine that forged the chain: a product the
    catalogue knows as endpoint software, whose root anchors the chain in this machine's
    own store (where such software puts it, and no firewall's CA needs to be) and not in
    the public root set. None for anything else: a network device, or a name alone."""
    if facts.product is None or not facts.machine_anchor or facts.public_anchor:
        return None
    product = facts.product[0]
    return product if product.kind is ProductKind.ENDPOINT else None


def local_remedy(product: Product, exempt: Sequence[str]) -> str:
    """The product's own exclusion for the vendor's destinations; never a firewall rule."""
    where = f" for {', '.join(exempt)}" if exempt else ""
    return (
        f"Security software on this gateway intercepts the connections{where}: the fix is "
        f"in {product.name}, not in the firewall. {product.exclusion} (How sure: "
        f"{product.how_sure}.) Then run netdiag again."
    )


def _intercepted_here(
    where: str,
    product: Product,
    facts: ChainFacts,
    lines: list[str],
    issuer: str,
    reason: str,
    exempt: Sequence[str],
) -> Finding:
    return finding(
        "tls.intercepted_locally",
        f"{where} is intercepted on this machine by {product.name} (issuer {issuer!r}, its "
        f"root in this machine's own store){reason}: security software on the gateway, not "
        "a device on the path",
        [
            *lines,
            f"place: this machine — {product.name} is security software on the gateway "
            f"({product.source}), and the chain is anchored in {facts.machine_anchor!r} of "
            "this machine's store, not in the public root set",
        ],
        remedy=local_remedy(product, exempt),
        subject=product.name,
    )


def exemption_remedy(exempt: Sequence[str]) -> str:
    """What the firewall team must exempt from inspection, naming the destinations."""
    if not exempt:
        return ""
    return (
        "Exempt these destinations from TLS/SSL inspection (and from SMTP/ESMTP inspection) "
        f"on the firewall or proxy: {', '.join(exempt)}. Client-certificate authentication "
        "cannot work through inspection."
    )


def _with_a_path(
    where: str, chain: PresentedChain, facts: ChainFacts, lines: list[str]
) -> list[Finding]:
    """The verdict for a chain whose signature path reaches what proves (a pin, `--ca`, the
    public roots): proven when every other part holds; otherwise the part that fails says
    what the server is — and who must act (`netdiag.trust.proof`)."""
    parts = [p.fact for p in facts.parts]
    if facts.valid_by_servers is not None:
        parts.append(facts.valid_by_servers.fact)
    evidence = [_path_line(facts), *parts, *lines]
    failed = {p.part: p for p in facts.failed}
    if Part.POSSESSION in failed:
        return [
            finding(
                "tls.chain_unproven",
                f"{where}: the chain shown reaches {_path_name(facts)}, but the handshake did "
                "not complete: it proves nothing",
                evidence,
            )
        ]
    wrong = [failed[p] for p in (Part.NAME, Part.PURPOSE) if p in failed]
    if wrong:
        leaf = chain.tls.chain[0]
        return [
            finding(
                "tls.not_the_server",
                f"{where}: the chain reaches {_path_name(facts)}, but the certificate is not "
                f"this server's: {'; '.join(w.fact for w in wrong)}",
                evidence,
                subject=leaf.subject,
            )
        ]
    if Part.VALIDITY in failed and not facts.is_valid_only_by_servers:
        fact = failed[Part.VALIDITY].fact
        code = (
            "tls.server_cert_not_yet_valid"
            if "not valid before" in fact
            else ("tls.server_cert_expired")
        )
        servers = (
            "and by the servers' clock"
            if facts.valid_by_servers is not None
            else "(no server stated its time)"
        )
        return [
            finding(
                code,
                f"{where}: the chain reaches {_path_name(facts)}, but {fact.split(': ', 1)[1]} "
                f"— by this machine's clock {servers}",
                evidence,
                subject=chain.tls.chain[0].subject,
            )
        ]
    if facts.is_valid_only_by_servers:
        evidence.insert(
            1,
            "valid by the servers' clock, not by this machine's: this machine's clock is off "
            "(clock.offset), not the vendor's certificate",
        )
    proof = facts.path_by
    if facts.pins and proof is not Proof.PINNED:
        return [
            finding(
                "tls.pins_outdated",
                f"{where}: the chain verifies against {_path_name(facts)}, but no pin is on its "
                "path: the pins are out of date",
                [
                    *evidence,
                    "pinned, and on no path of this chain: "
                    + "; ".join(p.subject for p in facts.pins),
                ],
            )
        ]
    code = "tls.pinned" if proof is Proof.PINNED else "tls.verified"
    summary = (
        f"{where}: the chain is anchored in the pinned {facts.pin.subject!r}"
        if proof is Proof.PINNED and facts.pin is not None
        else f"{where}: the chain verifies against {_path_name(facts)}"
    )
    verdict = [finding(code, summary, evidence)]
    if facts.given_ca is not None and not facts.given_ca.is_trusted:
        verdict.append(_untrusted(where, facts, lines))
    return verdict


def _path_name(facts: ChainFacts) -> str:
    if facts.path_by is Proof.PINNED and facts.pin is not None:
        return f"the pinned {facts.pin.subject!r}"
    verification = facts.given_ca if facts.path_by is Proof.GIVEN_CA else facts.public
    return verification.anchors if verification is not None else "nothing"


def _path_line(facts: ChainFacts) -> str:
    if facts.path_by is Proof.PINNED and facts.pin is not None:
        return (
            f"path: the leaf's signature path reaches the pinned {facts.pin.subject} "
            f"(SPKI SHA-256 {facts.pin.spki_sha256}; pin file {facts.pin.file or facts.pin.source})"
        )
    return (
        f"path: the chain verifies against {_path_name(facts)} (its signatures; the dates "
        "and the name are parts of their own)"
    )


def _untrusted(where: str, facts: ChainFacts, lines: list[str]) -> Finding:
    assert facts.given_ca is not None
    verification = facts.given_ca
    return finding(
        "tls.untrusted",
        f"{where}: the server's chain does not verify against {verification.anchors}: "
        f"{verification.detail}",
        [
            f"checked against: {verification.anchors}",
            f"name checked: {verification.name}",
            f"reason: {verification.detail}",
            *lines,
        ],
    )


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
    public_keys: set[bytes] | None = None
    findings = []
    for root in local:
        subject = root.subject.rfc4514_string()
        product = identify([subject, root.issuer.rfc4514_string()], products)
        if product is None:
            continue
        # The public set's keys only once a root is named like a product (rarely).
        if public_keys is None:
            public_keys = {c.public_key().public_bytes(_DER, _SPKI) for c in public}
        if root.public_key().public_bytes(_DER, _SPKI) in public_keys:
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
