"""Every fact `judge_chain` states about one presented chain, and the context lines said
from them, in a table of worlds: where the vendor's CA is (the client bundle, this
machine's Root or Intermediate store, the public roots, `--ca`, pins) and what the chain
is (the vendor's, a sibling's, a stranger's). Each fact is asserted whole, so that a rule
that reads the wrong store or drops a fact fails here, without a network."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.report.observations import ChainVerification, TlsObservation, TlsOutcome
from netdiag.trust.chains import describe_der
from netdiag.trust.model import (
    PUBLIC_ROOTS_NAME,
    ChainFacts,
    TrustContext,
    chain_names,
    context_lines,
    judge_chain,
    pinned_cas,
    pinned_path,
    readable_chain,
    sibling_pin,
)
from netdiag.trust.pin_commands import pin_for
from netdiag.trust.pins import Pin
from netdiag.trust.products import Product
from netdiag.trust.proof import Part
from netdiag.trust.stores import MachineTrust
from tests.servers.pki import leaf_cert

NOW = dt.datetime.now(dt.UTC)
HOST = "atlas79.mydhp.de"
ROOT = trustme.CA(organization_name="Vendor Root CA")
ISSUING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Issuing CA")
SIBLING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Issuing CA 2")
STRANGER = trustme.CA(organization_name="Klinikum Inspection CA")


def cert(ca: trustme.CA) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.cert_pem.bytes())


def name_of(ca: trustme.CA) -> str:
    return cert(ca).subject.rfc4514_string()


def presented(issuer: trustme.CA, *cas: trustme.CA, host: str = HOST) -> TlsObservation:
    leaf = leaf_cert(issuer, host, common_name=host, not_before=NOW - dt.timedelta(days=30))
    chain = (
        x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(Encoding.DER),
        *(cert(ca).public_bytes(Encoding.DER) for ca in cas),
    )
    return TlsObservation(
        outcome=TlsOutcome.ESTABLISHED,
        server_name=host,
        chain_der=chain,
        chain=tuple(describe_der(d) for d in chain),
        was_client_cert_requested=True,
    )


PIN_ISSUING = pin_for(cert(ISSUING), ["*"], "test", NOW, records_issuer=True)
PIN_ROOT = pin_for(cert(ROOT), ["*"], "test", NOW)
PRODUCT = Product("Klinikum", (re.compile("Klinikum"),), "Klinikum Inspection CA", "test")


@dataclass(frozen=True)
class World:
    name: str
    tls: TlsObservation
    trust: TrustContext
    pins: tuple[Pin, ...] = ()
    # The facts expected, by name; every other context fact must be empty.
    facts: dict[str, object] = field(default_factory=dict)
    lines: tuple[str, ...] = ()


VENDOR = presented(ISSUING, ISSUING)
WORLDS = [
    World(
        "the vendor's chain, its root in the client bundle and in this machine's Root store",
        VENDOR,
        TrustContext(
            client_cas=(cert(ROOT),),
            client_name="gateway.p12",
            machine=MachineTrust(roots=(cert(ROOT),), name="Windows Root"),
        ),
        facts={"client_bundle_ca": name_of(ROOT), "machine_anchor": name_of(ROOT)},
        lines=(
            f"the chain is issued by a CA of the client bundle (gateway.p12): {name_of(ROOT)}",
            f"the chain is anchored in {name_of(ROOT)!r}, trusted by this machine "
            "(Windows Root) but not in the public root set",
        ),
    ),
    World(
        "the vendor's chain, its issuing CA only in the Intermediate store",
        VENDOR,
        TrustContext(machine=MachineTrust(intermediates=(cert(ISSUING),), name="Windows")),
        facts={"machine_intermediate": name_of(ISSUING)},
        lines=(
            f"its issuer {name_of(ISSUING)!r} is in this machine's intermediate CA store, "
            "which anchors nothing",
        ),
    ),
    World(
        "the vendor's chain, anchored both here and in the public roots",
        VENDOR,
        TrustContext(
            machine=MachineTrust(
                roots=(cert(ROOT),), intermediates=(cert(ISSUING),), name="Windows Root"
            ),
            public_roots=(cert(ROOT),),
        ),
        facts={
            "machine_anchor": name_of(ROOT),
            "machine_intermediate": name_of(ISSUING),
            "public_anchor": name_of(ROOT),
            "public": ChainVerification(is_trusted=True, anchors=PUBLIC_ROOTS_NAME, name=HOST),
        },
        lines=(
            f"the chain is anchored in {name_of(ROOT)!r}, trusted by this machine "
            "(Windows Root) and in the public root set",
        ),
    ),
    World(
        "a stranger's chain: the client bundle's CA is not its issuer",
        presented(STRANGER),
        TrustContext(client_cas=(cert(ROOT),), client_name="gateway.p12"),
        facts={"product": (PRODUCT, name_of(STRANGER))},
        lines=(
            "the chain is not issued by the CAs of the client bundle (gateway.p12): those "
            "issued the gateway's certificate; the vendor may issue its servers' "
            "certificates from another CA (context, not a verdict)",
            f"the name {name_of(STRANGER)!r} matches the catalogue's Klinikum (test); a name "
            "alone proves nothing",
        ),
    ),
    World(
        "the vendor's chain against --ca",
        VENDOR,
        TrustContext(given_cas=(cert(ROOT),), given_name="vendor-ca.pem"),
        facts={
            "given_ca": ChainVerification(is_trusted=True, anchors="vendor-ca.pem", name=HOST),
            "reaches_given_ca": True,
        },
    ),
    World(
        "the vendor's chain pinned at its issuing CA",
        VENDOR,
        TrustContext(),
        pins=(PIN_ISSUING,),
        facts={"pin": PIN_ISSUING},
    ),
    World(
        "a sibling intermediate of the pinned one",
        presented(SIBLING, SIBLING),
        TrustContext(),
        pins=(PIN_ISSUING,),
        facts={"sibling_of": PIN_ISSUING},
    ),
]
CONTEXT = (
    "machine_anchor",
    "machine_intermediate",
    "client_bundle_ca",
    "public_anchor",
    "public",
    "given_ca",
    "reaches_given_ca",
    "pin",
    "sibling_of",
    "product",
)
EMPTY: dict[str, object] = {
    "public": None,
    "given_ca": None,
    "reaches_given_ca": False,
    "pin": None,
    "sibling_of": None,
    "product": None,
}


@pytest.mark.parametrize("world", WORLDS, ids=[w.name for w in WORLDS])
def test_every_fact_of_a_chain(world: World) -> None:
    trust = TrustContext(
        given_cas=world.trust.given_cas,
        given_name=world.trust.given_name,
        client_cas=world.trust.client_cas,
        client_name=world.trust.client_name,
        machine=world.trust.machine,
        public_roots=world.trust.public_roots,
        products=(PRODUCT,),
    )
    facts = judge_chain(world.tls, HOST, trust, world.pins, NOW)
    for fact in CONTEXT:
        expected = world.facts.get(fact, EMPTY.get(fact, ""))
        assert getattr(facts, fact) == expected, fact
    assert facts.pins == world.pins
    assert facts.path == tuple(c.subject for c in world.tls.chain)
    assert [p.part for p in facts.parts] == [
        Part.POSSESSION,
        Part.NAME,
        Part.PURPOSE,
        Part.VALIDITY,
    ]
    assert all(p.holds for p in facts.parts), facts.parts
    assert "this machine's clock" in facts.parts[-1].fact
    assert facts.valid_by_servers is None
    assert context_lines(facts, trust) == list(world.lines)


def test_the_servers_clock_is_a_second_judgement_of_the_same_path() -> None:
    """A chain expired by this machine's clock (a year ahead) and valid by the servers'."""
    ahead = NOW + dt.timedelta(days=400)
    trust = TrustContext(given_cas=(cert(ROOT),), given_name="vendor-ca.pem")
    facts = judge_chain(VENDOR, HOST, trust, (), ahead, servers_now=NOW)
    here, servers = facts.part(Part.VALIDITY), facts.valid_by_servers
    assert here is not None and not here.holds and "this machine's clock" in here.fact
    assert servers is not None and servers.holds and "the servers' clock" in servers.fact
    assert facts.is_valid_only_by_servers
    assert facts.given_ca == ChainVerification(is_trusted=True, anchors="vendor-ca.pem", name=HOST)


def test_an_unreadable_leaf_is_a_fact_and_nothing_else() -> None:
    broken = TlsObservation(
        outcome=TlsOutcome.ESTABLISHED,
        server_name=HOST,
        chain_der=(b"\x30\x03\x02\x01\x01",),
        chain=(describe_der(b"\x30\x03\x02\x01\x01"),),
    )
    facts = judge_chain(broken, HOST, TrustContext(), (PIN_ROOT,), NOW)
    assert facts.unreadable and facts.unreadable[0].startswith("certificate 0 ")
    assert facts.pins == (PIN_ROOT,) and facts.path == () and facts.parts == ()
    assert facts == ChainFacts(unreadable=facts.unreadable, pins=(PIN_ROOT,), product=None)
    assert readable_chain(broken) == ([], list(facts.unreadable))


def test_chain_names_are_issuers_then_ca_subjects_once_each() -> None:
    names = chain_names(presented(ISSUING, ISSUING, ROOT))
    assert names == [name_of(ISSUING), name_of(ROOT)]
    leaf_subject = VENDOR.chain[0].subject
    assert leaf_subject not in names


def test_pinned_cas_skip_a_pin_without_a_certificate() -> None:
    from dataclasses import replace

    broken = replace(PIN_ROOT, pem="")
    assert pinned_cas([broken, PIN_ISSUING, PIN_ROOT]) == [cert(ISSUING), cert(ROOT)]


def test_pinned_path_and_siblings() -> None:
    chain = [x509.load_der_x509_certificate(d) for d in presented(SIBLING, SIBLING, ROOT).chain_der]
    for nothing in (pinned_path([], [PIN_ROOT]), pinned_path(chain, [])):
        assert nothing[0] is None and not nothing[1]
    pin, path = pinned_path(chain, [PIN_ISSUING, PIN_ROOT])
    assert pin == PIN_ROOT and path[-1] == cert(ROOT)
    # The sibling check looks at the topmost CA of the chain as presented, past any pin
    # whose issuer is another.
    sibling_only = chain[:2]
    assert sibling_pin(sibling_only, [PIN_ROOT, PIN_ISSUING]) == PIN_ISSUING
    assert sibling_pin(sibling_only, []) is None
