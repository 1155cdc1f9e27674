"""The words of the interception verdicts, exactly where they carry a fact (issue 32, the
surviving mutants of `netdiag.diagnosis.interception`): the first evidence lines (what was
presented, its root, the pins and their files), the other port named in the evidence (the
one that asked for the gateway's issuer, not the first that asked at all), a suspicion
said only for the handshake's own signs, the remedies without destinations, and the
machine's own store read past roots that are no product's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace

import trustme
from cryptography import x509

from netdiag.diagnosis.catalogue import CATALOGUE
from netdiag.diagnosis.interception import (
    PresentedChain,
    diagnose_interception,
    diagnose_local_roots,
    local_remedy,
)
from netdiag.report.model import Finding
from netdiag.settings.targets import Service, Target
from netdiag.trust.model import TrustContext, judge_chain
from netdiag.trust.pins import Pin
from netdiag.trust.products import Product, product_named
from tests.unit.test_interception_rules import (
    FORGED_OLD,
    FORTI,
    NOT_ASKED,
    PKI,
    POP3,
    SMTP,
    VENDOR,
    tls,
)

NOW = dt.datetime.now(dt.UTC)
OURS, THEIRS = b"gateway issuer (DER name)", b"another CA (DER name)"
SUBMISSION = Target(host=SMTP.host, port=587, service=Service.SMTP_STARTTLS, group="dicommail")


def judged(
    chain: PresentedChain,
    *,
    pins: tuple[Pin, ...] = (),
    others: Sequence[PresentedChain] = (),
    exempt: Sequence[str] = (),
    client_issuers: Sequence[bytes] = (),
) -> list[Finding]:
    trust = TrustContext()
    facts = judge_chain(chain.tls, chain.target.host, trust, pins, NOW)
    return diagnose_interception(
        chain, facts, trust, others=others, now=NOW, exempt=exempt, client_issuers=client_issuers
    )


def test_the_first_evidence_lines_say_what_was_presented_and_what_was_pinned() -> None:
    forged = PresentedChain(SMTP, tls(FORGED_OLD, **NOT_ASKED), False)
    learned = replace(PKI.pin(PKI.vendor_issuing), file="", source="learned")
    from_file = replace(PKI.pin(PKI.vendor_root), file="pins.toml")
    unnamed = replace(PKI.pin(PKI.vendor_other), file="", source="")
    [found] = judged(forged, pins=(learned, from_file, unnamed))
    assert found.code == "tls.intercepted"
    assert found.summary.endswith(" (no pin on its signature path)"), found.summary
    [leaf] = forged.tls.chain  # the leaf alone, its CA not sent
    assert list(found.evidence[:5]) == [
        f"presented: issuer {leaf.issuer!r}, root {leaf.issuer!r}",
        f"  certificate 0: {leaf.subject} (SPKI SHA-256 {leaf.spki_sha256})",
        "pinned: "
        + "; ".join(
            f"{p.subject} (SPKI SHA-256 {p.spki_sha256})" for p in (learned, from_file, unnamed)
        ),
        "pin file(s): learned, pins.toml, ?",
        "no certificate on the leaf's signature path is pinned",
    ]


def test_the_root_of_a_chain_without_its_root_is_the_top_ca_s_issuer() -> None:
    """trustme's leaf chain is leaf -> issuing CA, the root not sent: the root named is the
    issuing CA's issuer, not the issuing CA itself."""
    chain = PresentedChain(SMTP, tls(VENDOR), True)
    [found] = judged(chain)
    issuing = x509.load_pem_x509_certificate(PKI.vendor_issuing.cert_pem.bytes())
    assert found.evidence[0].endswith(f", root {issuing.issuer.rfc4514_string()!r}")
    assert issuing.issuer != issuing.subject


def test_the_other_port_named_is_the_one_that_asked_for_the_gateways_issuer() -> None:
    forged = PresentedChain(SMTP, tls(FORGED_OLD, **NOT_ASKED), False)
    for_another_ca = PresentedChain(SUBMISSION, tls(VENDOR, client_ca_der=(THEIRS,)), True)
    genuine = PresentedChain(POP3, tls(VENDOR, client_ca_der=(OURS,)), True)
    [found] = judged(forged, others=[forged, for_another_ca, genuine], client_issuers=(OURS,))
    assert found.code == "tls.intercepted"
    named = [line for line in found.evidence if "presents another chain" in line]
    assert len(named) == 1 and named[0].startswith(f"{POP3.label} presents another chain")


def test_a_suspicion_is_said_only_for_the_handshakes_own_signs() -> None:
    """A FortiGate-named issuer alone (a name is context, not a sign of this handshake): no
    suspicion in the summary; a chain from a server that did not ask for the gateway's
    certificate says that sign."""
    asked = judged(PresentedChain(SMTP, tls(FORTI), False))
    assert [f.code for f in asked] == ["tls.unpinned"]
    assert "signs of inspection" not in asked[0].summary
    not_asked = judged(PresentedChain(SMTP, tls(FORGED_OLD, **NOT_ASKED), False))
    assert [f.code for f in not_asked] == ["tls.unpinned"]
    assert not_asked[0].summary.endswith(
        "; signs of inspection: the server did not ask for a client certificate"
    )


def test_an_interception_without_destinations_has_the_catalogues_remedy() -> None:
    forged = PresentedChain(SMTP, tls(FORGED_OLD, **NOT_ASKED), False)
    [found] = judged(forged, pins=(PKI.pin(PKI.vendor_issuing),), exempt=[])
    assert found.code == "tls.intercepted"
    assert found.remedy == CATALOGUE["tls.intercepted"].remedy


def test_the_local_remedy_names_its_destinations_or_none() -> None:
    eset = product_named("ESET")
    assert eset is not None
    alone = local_remedy(eset, [])
    assert alone.startswith("Security software on this gateway intercepts the connections: ")
    both = local_remedy(eset, ["mail1.dicommail.com:25 (smtp-starttls)", "atlas79.mydhp.de:8140"])
    assert both.startswith(
        "Security software on this gateway intercepts the connections for "
        "mail1.dicommail.com:25 (smtp-starttls), atlas79.mydhp.de:8140: the fix is in ESET"
    )


def test_the_machines_roots_are_read_past_those_of_no_product() -> None:
    def root(name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(trustme.CA(organization_name=name).cert_pem.bytes())

    plain, eset = root("Some Public Root"), root("ESET SSL Filter CA")
    found = diagnose_local_roots([plain, eset], [], "test store")
    assert [f.code for f in found] == ["local.inspection_root"]
    # Past a product root that the public set also holds, too.
    public_eset = root("ESET SSL Filter CA")
    found = diagnose_local_roots([public_eset, eset], [public_eset], "test store")
    assert len(found) == 1 and f"{eset.subject.rfc4514_string()!r}" in found[0].summary
    # The catalogue the run was given, not the built-in one.
    klinikum = Product("Klinikum", (re.compile("Klinikum"),), "Klinikum IT CA", "test")
    own = root("Klinikum IT CA")
    assert diagnose_local_roots([own], [], "test store") == []
    named = diagnose_local_roots([own], [], "test store", (klinikum,))
    assert [f.summary for f in named] == [
        f"this machine trusts the root {own.subject.rfc4514_string()!r} of Klinikum"
    ]
