"""The trust model: what proves that a presented chain is the vendor's, and what is only
context — all facts about one chain, computed once (README, "Trust: what proves, what only
explains").

Proof that a chain is the vendor's (`Proof`):
- `PINNED`: the leaf's signature path reaches a pinned key — the pins are the user's word
  for the CAs that issue the vendor's *server* certificates;
- `GIVEN_CA`: the chain verifies, with dates and host name, against the CA certificates the
  user gave with `--ca` for the servers;
- `PUBLIC`: the chain verifies, with dates and host name, against the public root set — a
  chain an inspecting box cannot obtain.

Where pins apply, a chain whose signature path reaches none of them is not the vendor's:
that is proof of interception. Everything else is **context**: the CA certificates that
came with the client certificate (they issued *the gateway's* certificate; the servers'
may come from another CA of the vendor's or a public one), this machine's trust stores
(the vendor's own private root may be there, put there by an installer, and the Windows
Intermediate store anchors nothing), a product name in an issuer (names appear in
unrelated certificates), the leaf's age (vendors renew). Context names and explains; the
interception rules (`netdiag.diagnosis.interception`) let it count only next to a trait of
the chain's own handshake, never alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography import x509

from netdiag.report.observations import ChainVerification, TlsObservation
from netdiag.trust.chains import (
    authority_key_id,
    load_readable,
    signature_path,
    spki_sha256,
    verify_path,
)
from netdiag.trust.pins import Pin
from netdiag.trust.products import Product, identify
from netdiag.trust.proof import Part, PartCheck, name, possession, purpose, validity
from netdiag.trust.stores import MachineTrust, anchor_in

PUBLIC_ROOTS_NAME = "the public root set (Mozilla, certifi)"


class Proof(StrEnum):
    """What proved that a chain is the vendor's."""

    PINNED = "pinned"
    GIVEN_CA = "given_ca"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustContext:
    """Everything the presented chains are judged against, and where each part came from:
    the servers' CA certificates the user gave (`--ca`, proof), the CA certificates that
    came with the client certificate (context), this machine's stores (context) and the
    public root set (proof for a publicly issued chain with the right name)."""

    given_cas: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    given_name: str = ""
    client_cas: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    client_name: str = ""
    machine: MachineTrust = field(default_factory=MachineTrust)
    public_roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    products: tuple[Product, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainFacts:
    """One presented chain against everything netdiag knows, computed once."""

    # Certificates of the chain `cryptography` cannot read: facts, not a verdict.
    unreadable: tuple[str, ...] = ()
    # Subjects along the leaf's signature path (leaf first).
    path: tuple[str, ...] = ()
    # The pins that apply to the endpoint, and the one its signature path reaches.
    pins: tuple[Pin, ...] = ()
    pin: Pin | None = None
    # The signature path to `--ca` (None when none was given), dates and name aside, and
    # whether it reaches one of those certificates at all.
    given_ca: ChainVerification | None = None
    reaches_given_ca: bool = False
    # The signature path to the public roots, when the chain is anchored there.
    public: ChainVerification | None = None
    public_anchor: str = ""
    # The other parts of a proof (`netdiag.trust.proof`): possession, name, purpose, and
    # validity by this machine's clock; validity by the servers' where it is known.
    parts: tuple[PartCheck, ...] = ()
    valid_by_servers: PartCheck | None = None
    # The chain's topmost CA names the issuer a pin recorded for its own CA (a sibling
    # intermediate under the pinned hierarchy's root): the pin and what it says.
    sibling_of: Pin | None = None
    # Context.
    machine_anchor: str = ""
    machine_intermediate: str = ""
    client_bundle_ca: str = ""
    product: tuple[Product, str] | None = None

    @property
    def path_by(self) -> Proof | None:
        """What the leaf's signature path reaches, dates and name aside: a pinned key, the
        `--ca` certificates, the public roots — or nothing."""
        if self.pin is not None:
            return Proof.PINNED
        if self.given_ca is not None and self.given_ca.is_trusted:
            return Proof.GIVEN_CA
        if self.public is not None and self.public.is_trusted:
            return Proof.PUBLIC
        return None

    def part(self, which: Part) -> PartCheck | None:
        return next((p for p in self.parts if p.part is which), None)

    @property
    def failed(self) -> tuple[PartCheck, ...]:
        """The parts besides the path that do not hold (validity by this machine's clock
        among them even where the servers' clock holds it)."""
        return tuple(p for p in self.parts if not p.holds)

    @property
    def is_valid_only_by_servers(self) -> bool:
        """Valid by the servers' clock and not by this machine's: the clock's fault."""
        here = self.part(Part.VALIDITY)
        return (
            here is not None
            and not here.holds
            and self.valid_by_servers is not None
            and self.valid_by_servers.holds
        )

    @property
    def proof(self) -> Proof | None:
        """What proves the chain is the vendor's server, or None: a path, and every other
        part (validity by the servers' clock where this machine's clock is the one that
        is off)."""
        if self.path_by is None or not self.parts:
            return None
        for check in self.failed:
            if check.part is Part.VALIDITY and self.is_valid_only_by_servers:
                continue
            return None
        return self.path_by

    @property
    def is_anchored_only_here(self) -> bool:
        """Anchored in this machine's Root store but not in the public root set: where an
        enterprise inspection root lives — and a vendor's private root, too."""
        return bool(self.machine_anchor) and not self.public_anchor


def chain_names(tls: TlsObservation) -> list[str]:
    """Issuer and CA names of the chain, the way a product's CA would show up."""
    names = [c.issuer for c in tls.chain if c.issuer]
    names += [c.subject for c in tls.chain[1:] if not c.parse_error]
    return list(dict.fromkeys(names))


def pinned_cas(pins: Sequence[Pin]) -> list[x509.Certificate]:
    cas = []
    for pin in pins:
        if pin.pem:
            try:
                cas.append(x509.load_pem_x509_certificate(pin.pem.encode("ascii")))
            except ValueError:
                continue
    return cas


def pin_on_path(chain: Sequence[x509.Certificate], pins: Sequence[Pin]) -> Pin | None:
    """The pin that the leaf's signature path reaches — through the presented CA
    certificates and the pinned CA certificates themselves (a server may omit its
    issuer) — or None. A pinned certificate merely present in the chain does not count."""
    return pinned_path(chain, pins)[0]


def pinned_path(
    chain: Sequence[x509.Certificate], pins: Sequence[Pin]
) -> tuple[Pin | None, list[x509.Certificate]]:
    """The pin the signature path reaches and the path up to it (leaf first)."""
    if not chain or not pins:
        return None, []
    by_hash = {p.spki_sha256: p for p in pins}
    path = []
    for certificate in signature_path(chain, pinned_cas(pins)):
        path.append(certificate)
        pin = by_hash.get(spki_sha256(certificate))
        if pin is not None:
            return pin, path
    return None, []


def sibling_pin(chain: Sequence[x509.Certificate], pins: Sequence[Pin]) -> Pin | None:
    """A pin whose recorded issuer (the CA above the pinned one, not presented when it was
    learned) is the issuer of the topmost CA on this chain's path: a new intermediate under
    the same root, as a vendor's rotation brings. Names and key identifiers can be copied:
    this explains, it proves nothing."""
    path = signature_path(chain)
    if len(path) < 2:
        return None
    top = path[-1]
    issuer = top.issuer.rfc4514_string()
    key_id = authority_key_id(top)
    for pin in pins:
        if not pin.issuer or pin.issuer != issuer:
            continue
        if pin.issuer_key_id and key_id and pin.issuer_key_id != key_id:
            continue
        if spki_sha256(top) == pin.spki_sha256:
            continue
        return pin
    return None


def readable_chain(tls: TlsObservation) -> tuple[list[x509.Certificate], list[str]]:
    """The chain's certificates that can be read, starting with the leaf (nothing when the
    leaf itself cannot be read), and a line for each one that cannot."""
    readable, unreadable = load_readable(tls.chain_der)
    if unreadable and unreadable[0].startswith("certificate 0 "):
        return [], unreadable
    return readable, unreadable


def judge_chain(
    tls: TlsObservation,
    server_name: str,
    trust: TrustContext,
    pins: Sequence[Pin],
    now: datetime,
    servers_now: datetime | None = None,
) -> ChainFacts:
    """The facts of one presented chain: its path, the other parts of a proof (judged at
    this machine's time `now`, and at the servers' `servers_now` where a protocol stated
    it), and its context."""
    chain, unreadable = readable_chain(tls)
    product = identify(chain_names(tls), trust.products)
    if not chain:
        return ChainFacts(unreadable=tuple(unreadable), pins=tuple(pins), product=product)
    path = signature_path(chain)
    also_at = [servers_now] if servers_now is not None else []
    given = (
        verify_path(tls.chain_der, trust.given_cas, trust.given_name, server_name, now, also_at)
        if trust.given_cas
        else None
    )
    public_anchor = anchor_in(chain, trust.public_roots)
    public = (
        verify_path(tls.chain_der, trust.public_roots, PUBLIC_ROOTS_NAME, server_name, now, also_at)
        if public_anchor
        else None
    )
    pin, to_pin = pinned_path(chain, pins)
    # The certificates whose dates a proof rests on: the path to what proves it.
    proven_path: Sequence[x509.Certificate] = (
        to_pin
        if pin is not None
        else (given[1] if given is not None and given[0].is_trusted else ())
        or (public[1] if public is not None and public[0].is_trusted else ())
        or path
    )
    parts = (
        possession(tls),
        name(chain[0], server_name),
        purpose(chain[0]),
        validity(proven_path, now, "this machine's clock"),
    )
    return ChainFacts(
        unreadable=tuple(unreadable),
        path=tuple(c.subject.rfc4514_string() for c in path),
        pins=tuple(pins),
        pin=pin,
        given_ca=given[0] if given is not None else None,
        reaches_given_ca=bool(anchor_in(chain, trust.given_cas)),
        public=public[0] if public is not None else None,
        public_anchor=public_anchor,
        parts=parts,
        valid_by_servers=(
            validity(proven_path, servers_now, "the servers' clock")
            if servers_now is not None
            else None
        ),
        sibling_of=sibling_pin(chain, pins) if pin is None else None,
        machine_anchor=anchor_in(chain, trust.machine.roots),
        machine_intermediate=anchor_in(chain, trust.machine.intermediates),
        client_bundle_ca=anchor_in(chain, trust.client_cas),
        product=product,
    )


def context_lines(facts: ChainFacts, trust: TrustContext) -> list[str]:
    """What the context says about the chain, one line each; never a verdict."""
    lines = list(facts.unreadable)
    if trust.client_cas:
        if facts.client_bundle_ca:
            lines.append(
                f"the chain is issued by a CA of the client bundle ({trust.client_name}): "
                f"{facts.client_bundle_ca}"
            )
        else:
            lines.append(
                f"the chain is not issued by the CAs of the client bundle ({trust.client_name}): "
                "those issued the gateway's certificate; the vendor may issue its servers' "
                "certificates from another CA (context, not a verdict)"
            )
    if facts.machine_anchor:
        where = "and in" if facts.public_anchor else "but not in"
        lines.append(
            f"the chain is anchored in {facts.machine_anchor!r}, trusted by this machine "
            f"({trust.machine.name}) {where} the public root set"
        )
    if facts.machine_intermediate and not facts.machine_anchor:
        lines.append(
            f"its issuer {facts.machine_intermediate!r} is in this machine's intermediate CA "
            "store, which anchors nothing"
        )
    if facts.product is not None:
        product, name = facts.product
        lines.append(
            f"the name {name!r} matches the catalogue's {product.name} ({product.source}); "
            "a name alone proves nothing"
        )
    return lines


def is_pinned(tls: TlsObservation, pins: Sequence[Pin]) -> bool:
    """Whether the leaf's signature path, over the certificates that can be read, reaches a
    pinned key (see `pin_on_path`)."""
    chain, _ = readable_chain(tls)
    return pin_on_path(chain, pins) is not None
