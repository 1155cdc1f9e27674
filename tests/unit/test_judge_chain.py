"""The dates a proof rests on, and the facts of odd chains (issue 32, the trust model's
surviving mutants): a proof's validity is judged over the path to what proves it (a pin,
`--ca`, the public roots) — a CA that is not presented counts with its own dates — and over
the presented path when nothing proves it; an unreadable leaf still names its product; a
sibling is looked for only when no pin is reached. Certificates are made here with their
dates chosen (trustme's are always valid now)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.report.observations import TlsObservation, TlsOutcome
from netdiag.trust.chains import describe_der
from netdiag.trust.model import (
    ChainFacts,
    TrustContext,
    chain_names,
    judge_chain,
    pinned_cas,
    sibling_pin,
)
from netdiag.trust.pin_commands import pin_for
from netdiag.trust.products import Product
from netdiag.trust.proof import Part
from tests.servers.pki import DatedCa as Ca

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
HOST = "mail1.dicommail.com"


def shown(*certificates: x509.Certificate) -> TlsObservation:
    chain = tuple(c.public_bytes(Encoding.DER) for c in certificates)
    return TlsObservation(
        outcome=TlsOutcome.ESTABLISHED,
        server_name=HOST,
        chain_der=chain,
        chain=tuple(describe_der(d) for d in chain),
        was_client_cert_requested=True,
    )


# A root that expired five days ago and an issuing CA under it that is valid now: the path
# through the root was valid twenty days ago (when the servers' clock says it is) and is
# not now; the presented part of it (leaf and issuing CA) is valid both times.
OLD_ROOT = Ca("Vendor Root CA", NOW - 800 * DAY, NOW - 5 * DAY)
ISSUING = Ca("Vendor Issuing CA", NOW - 700 * DAY, NOW + 300 * DAY, parent=OLD_ROOT)
LEAF = ISSUING.leaf(NOW - 30 * DAY, NOW + 300 * DAY)
PRESENTED = shown(LEAF, ISSUING.cert)
SERVERS_NOW = NOW - 20 * DAY
PIN_OLD_ROOT = pin_for(OLD_ROOT.cert, ["*"], "test", NOW)


def validity_here(facts: ChainFacts) -> tuple[bool, str]:
    check = facts.part(Part.VALIDITY)
    assert check is not None
    return check.holds, check.fact


def test_the_dates_of_a_pinned_root_that_was_not_presented_count() -> None:
    facts = judge_chain(PRESENTED, HOST, TrustContext(), (PIN_OLD_ROOT,), NOW)
    assert facts.pin == PIN_OLD_ROOT
    holds, fact = validity_here(facts)
    assert not holds and "Vendor Root CA expired" in fact, fact


def test_the_dates_of_a_given_ca_on_the_verified_path_count() -> None:
    trust = TrustContext(given_cas=(OLD_ROOT.cert,), given_name="vendor-ca.pem")
    facts = judge_chain(PRESENTED, HOST, trust, (), NOW, servers_now=SERVERS_NOW)
    # The path to --ca verifies at the servers' time, when the root was valid ...
    assert facts.given_ca is not None and facts.given_ca.is_trusted
    # ... and the root's dates are part of the validity, by either clock.
    holds, fact = validity_here(facts)
    assert not holds and "Vendor Root CA expired" in fact, fact
    assert facts.valid_by_servers is not None and facts.valid_by_servers.holds


def test_the_dates_of_a_public_root_on_the_verified_path_count() -> None:
    trust = TrustContext(public_roots=(OLD_ROOT.cert,))
    facts = judge_chain(PRESENTED, HOST, trust, (), NOW, servers_now=SERVERS_NOW)
    assert facts.public is not None and facts.public.is_trusted
    holds, fact = validity_here(facts)
    assert not holds and "Vendor Root CA expired" in fact, fact


def test_without_anything_that_proves_the_presented_path_is_judged() -> None:
    expired = ISSUING.leaf(NOW - 400 * DAY, NOW - DAY)
    facts = judge_chain(shown(expired, ISSUING.cert), HOST, TrustContext(), (), NOW)
    assert facts.path_by is None
    holds, fact = validity_here(facts)
    assert not holds and f"CN={HOST} expired" in fact, fact


def test_whose_clock_judged_is_said_exactly() -> None:
    facts = judge_chain(PRESENTED, HOST, TrustContext(), (), NOW, servers_now=SERVERS_NOW)
    _, fact = validity_here(facts)
    assert fact.startswith("validity by this machine's clock ("), fact
    assert facts.valid_by_servers is not None
    assert facts.valid_by_servers.fact.startswith("validity by the servers' clock (")


def test_no_public_verification_for_a_chain_the_public_roots_do_not_anchor() -> None:
    other_root = Ca("Public Root", NOW - 100 * DAY, NOW + 100 * DAY)
    facts = judge_chain(PRESENTED, HOST, TrustContext(public_roots=(other_root.cert,)), (), NOW)
    assert facts.public_anchor == "" and facts.public is None and facts.given_ca is None


def test_no_sibling_is_looked_for_once_a_pin_is_reached() -> None:
    """A second pin under the same root would read as a rotation's sibling; the chain
    reaches its own pin, so there is none."""
    other = Ca("Vendor Issuing CA 2", NOW - 100 * DAY, NOW + 300 * DAY, parent=OLD_ROOT)
    pins = (
        pin_for(ISSUING.cert, ["*"], "test", NOW, records_issuer=True),
        pin_for(other.cert, ["*"], "test", NOW, records_issuer=True),
    )
    facts = judge_chain(PRESENTED, HOST, TrustContext(), pins, NOW)
    assert facts.pin == pins[0] and facts.sibling_of is None
    # The twin: without its own pin, the other one is its sibling.
    alone = judge_chain(PRESENTED, HOST, TrustContext(), pins[1:], NOW)
    assert alone.pin is None and alone.sibling_of == pins[1]


def test_an_unreadable_leaf_still_names_the_product_of_the_ca_beside_it() -> None:
    inspection = Ca("Klinikum Inspection CA", NOW - 10 * DAY, NOW + 10 * DAY)
    broken_leaf = b"\x30\x03\x02\x01\x01"
    ca_der = inspection.cert.public_bytes(Encoding.DER)
    tls = TlsObservation(
        outcome=TlsOutcome.ESTABLISHED,
        server_name=HOST,
        chain_der=(broken_leaf, ca_der),
        chain=(describe_der(broken_leaf), describe_der(ca_der)),
    )
    import re

    product = Product("Klinikum", (re.compile("Klinikum"),), "Klinikum Inspection CA", "test")
    facts = judge_chain(tls, HOST, TrustContext(products=(product,)), (), NOW)
    # Nothing is judged on a chain without its leaf: not the CA beside it either.
    assert facts.path == () and facts.parts == ()
    assert facts.product is not None and facts.product[0] == product


def test_an_unreadable_ca_certificate_is_a_fact_beside_the_judged_path() -> None:
    tls = shown(LEAF, ISSUING.cert)
    tls = replace(
        tls,
        chain_der=(*tls.chain_der, b"\x30\x03\x02\x01\x01"),
        chain=(*tls.chain, describe_der(b"\x30\x03\x02\x01\x01")),
    )
    facts = judge_chain(tls, HOST, TrustContext(), (), NOW)
    assert len(facts.unreadable) == 1 and facts.unreadable[0].startswith("certificate 2 ")
    assert facts.path and facts.parts


def test_a_part_not_judged_is_none() -> None:
    assert ChainFacts().part(Part.NAME) is None


def test_chain_names_take_every_readable_ca_subject_and_no_unreadable_one() -> None:
    top = Ca("Upper CA", NOW - 10 * DAY, NOW + 10 * DAY)
    middle = Ca("Middle CA", NOW - 10 * DAY, NOW + 10 * DAY, parent=top)
    tls = shown(ISSUING.leaf(NOW - DAY, NOW + DAY), middle.cert)
    broken = describe_der(b"\x30\x03\x02\x01\x01")
    tls = replace(tls, chain=(*tls.chain, broken))
    assert chain_names(tls) == ["O=Vendor Issuing CA", "O=Upper CA", "O=Middle CA"]


def test_a_pin_whose_certificate_cannot_be_read_does_not_hide_the_next() -> None:
    unreadable = replace(PIN_OLD_ROOT, pem="-----BEGIN CERTIFICATE-----\nnot one\n")
    good = pin_for(ISSUING.cert, ["*"], "test", NOW)
    assert pinned_cas([unreadable, good]) == [ISSUING.cert]


def test_a_sibling_is_found_past_pins_that_do_not_qualify() -> None:
    """The topmost presented CA is the issuing CA of a three-level chain; pins whose issuer
    is another, whose issuer key differs, or that are that very CA are passed over."""
    upper = Ca("Vendor Upper CA", NOW - 100 * DAY, NOW + 300 * DAY, parent=OLD_ROOT)
    lower = Ca("Vendor Lower CA", NOW - 100 * DAY, NOW + 300 * DAY, parent=upper)
    chain = [lower.leaf(NOW - DAY, NOW + DAY), lower.cert, upper.cert]
    rotated = Ca("Vendor Upper CA 2", NOW - 10 * DAY, NOW + 300 * DAY, parent=OLD_ROOT)
    sibling = pin_for(rotated.cert, ["*"], "test", NOW, records_issuer=True)
    itself = pin_for(upper.cert, ["*"], "test", NOW, records_issuer=True)
    elsewhere = replace(sibling, issuer="O=Somebody Else", spki_sha256="00")
    other_key = replace(sibling, issuer_key_id="0011", spki_sha256="01")
    assert sibling_pin(chain, [elsewhere, itself, other_key, sibling]) == sibling
    # The twin: a pin that names the right issuer with another key proves no relation.
    assert sibling_pin(chain, [other_key]) is None
    # The middle of the chain is not its top.
    assert sibling_pin(chain[:2], [sibling]) is None
