"""The whole finding each trust verdict gives, not its code alone: severity, subject (what
makes findings of several endpoints one cause), the summary an administrator reads first,
the evidence and the remedy — for the decision list's branches, with the gateway's issuer
known (`client_issuers`) or not. A rule that keeps its code but says the wrong thing, names
the wrong device or loses the exemption fails here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.diagnosis.interception import (
    PresentedChain,
    diagnose_interception,
    diagnose_likely_interception,
    did_vendor_dance,
    died_without_a_word,
)
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    ProtocolObservation,
    ProtocolStage,
    SmtpObservation,
    StageFailure,
    TlsOutcome,
)
from netdiag.trust.model import TrustContext, judge_chain
from netdiag.trust.pins import Pin
from netdiag.trust.stores import MachineTrust
from tests.unit.test_interception_rules import (
    FORGED,
    FORGED_OLD,
    FORTI,
    NONE,
    NOT_ASKED,
    PKI,
    POP3,
    PUBLIC,
    SMTP,
    VENDOR,
    VENDOR_PIN,
    presented,
    tls,
)

OUR_ISSUER = x509.load_pem_x509_certificate(PKI.vendor_root.cert_pem.bytes()).subject
OUR_ISSUER_DER = OUR_ISSUER.public_bytes()
OTHER_ISSUER_DER = x509.load_pem_x509_certificate(
    PKI.klinikum.cert_pem.bytes()
).subject.public_bytes()
KLINIKUM = x509.load_pem_x509_certificate(PKI.klinikum.cert_pem.bytes()).subject.rfc4514_string()
GIVEN = TrustContext(
    given_cas=(PKI.cert(PKI.vendor_root),),
    given_name="vendor-ca.pem",
)
WHERE = "TLS on mail1.dicommail.com:25"
EXEMPT = ["mail1.dicommail.com:25 (smtp-starttls)"]


@dataclass(frozen=True)
class Expect:
    code: str
    severity: Severity
    subject: str = ""
    summary: tuple[str, ...] = ()  # in this order, the first at the start
    evidence: tuple[str, ...] = ()
    not_said: tuple[str, ...] = ()
    own_remedy: bool = False


@dataclass(frozen=True)
class Row:
    name: str
    chain: PresentedChain
    expect: Expect
    trust: TrustContext = NONE
    pins: tuple[Pin, ...] = ()
    client_issuers: tuple[bytes, ...] = ()
    others: tuple[PresentedChain, ...] = field(default=())


def asked_by(issuer_der: bytes, **changes: object) -> dict[str, object]:
    return {"client_ca_der": (issuer_der,), "was_client_cert_sent": True, **changes}


ROWS = [
    Row(
        "pinned: the pin named, its file, no remedy of its own",
        presented(SMTP, tls(VENDOR)),
        Expect(
            "tls.pinned",
            Severity.INFO,
            summary=(f"{WHERE}: the chain is anchored in the pinned ",),
            evidence=("path: the leaf's signature path reaches the pinned", "pin file test"),
        ),
        pins=(VENDOR_PIN,),
    ),
    Row(
        "forged against pins: the issuer is the subject, the exemption the remedy",
        presented(SMTP, tls(FORGED)),
        Expect(
            "tls.intercepted",
            Severity.CRIT,
            subject=KLINIKUM,
            summary=(f"{WHERE} is intercepted (issuer {KLINIKUM!r})", "(no pin on its signature"),
            evidence=("no certificate on the leaf's signature path is pinned", "pin file(s): "),
            own_remedy=True,
        ),
        pins=(VENDOR_PIN,),
    ),
    Row(
        "a product's chain against pins: the product is the subject and named in the summary",
        presented(SMTP, tls(FORTI)),
        Expect(
            "tls.intercepted",
            Severity.CRIT,
            subject="FortiGate",
            summary=(f"{WHERE} is intercepted by FortiGate (issuer ",),
            own_remedy=True,
        ),
        pins=(VENDOR_PIN,),
    ),
    Row(
        "no pins, two traits of its own: the traits are the reason",
        presented(SMTP, tls(FORGED, **NOT_ASKED), completed=False),
        Expect(
            "tls.intercepted",
            Severity.CRIT,
            subject=KLINIKUM,
            summary=(f"{WHERE} is intercepted (issuer", "did not ask for a client certificate"),
            own_remedy=True,
        ),
    ),
    Row(
        "no pins, the server asked for our issuer and completed: unverified, said as info",
        presented(SMTP, tls(FORGED_OLD, **asked_by(OUR_ISSUER_DER))),
        Expect(
            "tls.unpinned",
            Severity.INFO,
            summary=(f"{WHERE}: the chain is not verified, no pins and no --ca apply (issuer ",),
            evidence=(
                "the server asked for the gateway's certificate and completed the protocol with it",
            ),
            not_said=("signs of inspection",),
        ),
        client_issuers=(OUR_ISSUER_DER,),
    ),
    Row(
        "no pins, the server asked for another issuer: no vouching, a warning",
        presented(SMTP, tls(FORGED_OLD, **asked_by(OTHER_ISSUER_DER))),
        Expect(
            "tls.unpinned",
            Severity.WARN,
            summary=(f"{WHERE}: the chain is not verified",),
            not_said=("completed the protocol with it",),
        ),
        client_issuers=(OUR_ISSUER_DER,),
    ),
    Row(
        "no pins, asked and completed but the certificate not sent: a warning",
        presented(SMTP, tls(FORGED_OLD, client_ca_der=(OUR_ISSUER_DER,))),
        Expect("tls.unpinned", Severity.WARN, not_said=("completed the protocol with it",)),
        client_issuers=(OUR_ISSUER_DER,),
    ),
    Row(
        "no pins, the server did not ask: a sign of inspection said in the summary",
        presented(SMTP, tls(VENDOR, **NOT_ASKED), completed=False),
        Expect(
            "tls.unpinned",
            Severity.WARN,
            summary=("; signs of inspection: ", "did not ask for a client certificate"),
        ),
    ),
    Row(
        "--ca given, a stranger's chain: untrusted, what was checked said",
        presented(SMTP, tls(FORGED_OLD)),
        Expect(
            "tls.untrusted",
            Severity.CRIT,
            summary=(f"{WHERE}: the server's chain does not verify against vendor-ca.pem: ",),
            evidence=(
                "checked against: vendor-ca.pem",
                "name checked: mail1.dicommail.com",
                "reason: ",
            ),
        ),
        trust=GIVEN,
    ),
    Row(
        "--ca given, the vendor's chain: verified against the file named",
        presented(SMTP, tls(VENDOR)),
        Expect(
            "tls.verified",
            Severity.INFO,
            summary=(f"{WHERE}: the chain verifies against vendor-ca.pem",),
            evidence=("path: the chain verifies against vendor-ca.pem",),
        ),
        trust=GIVEN,
    ),
    Row(
        "--ca given and pins that are not on the path: the pins are out of date",
        presented(SMTP, tls(VENDOR)),
        Expect(
            "tls.pins_outdated",
            Severity.WARN,
            summary=(f"{WHERE}: the chain verifies against vendor-ca.pem, but no pin",),
            evidence=("pinned, and on no path of this chain: ",),
        ),
        trust=GIVEN,
        pins=(PKI.pin(PKI.vendor_other),),
    ),
    Row(
        "two traits, but a public chain for the name: exempt, verified by the public roots",
        presented(SMTP, tls(FORGED, **NOT_ASKED), completed=False),
        Expect(
            "tls.verified",
            Severity.INFO,
            summary=(f"{WHERE}: the chain verifies against the public root set",),
        ),
        trust=PUBLIC,
    ),
]


def judged(row: Row) -> list[Finding]:
    now = dt.datetime.now(dt.UTC)
    facts = judge_chain(row.chain.tls, "mail1.dicommail.com", row.trust, row.pins, now)
    return diagnose_interception(
        row.chain,
        facts,
        row.trust,
        others=[row.chain, *row.others],
        now=now,
        exempt=EXEMPT,
        client_issuers=row.client_issuers,
    )


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_the_whole_finding(row: Row) -> None:
    findings = judged(row)
    assert [f.code for f in findings] == [row.expect.code], findings
    [found] = findings
    expect = row.expect
    assert found.severity is expect.severity
    assert found.subject == expect.subject
    position = 0
    for part in expect.summary:
        at = found.summary.find(part, position)
        assert at >= 0, (part, found.summary)
        if position == 0 and part.startswith("TLS on"):
            assert at == 0, found.summary  # the place first, as the administrator reads it
        position = at + len(part)
    for line in expect.evidence:
        assert any(line in e for e in found.evidence), (line, found.evidence)
    for words in expect.not_said:
        assert words not in found.summary and not any(words in e for e in found.evidence)
    if expect.own_remedy:
        assert found.has_own_remedy and EXEMPT[0] in found.remedy
    else:
        assert not found.has_own_remedy or expect.code != "tls.intercepted"


def test_the_vendor_dance_needs_the_request_the_completion_and_our_issuer() -> None:
    asked = presented(SMTP, tls(VENDOR, client_ca_der=(OUR_ISSUER_DER,)))
    assert did_vendor_dance(asked, (OUR_ISSUER_DER,))
    assert did_vendor_dance(asked, ())  # our issuer unknown: the request and completion
    assert not did_vendor_dance(asked, (OTHER_ISSUER_DER,))
    no_list = presented(SMTP, tls(VENDOR, client_ca_der=()))
    assert did_vendor_dance(no_list, (OUR_ISSUER_DER,))  # a server may send no list
    assert not did_vendor_dance(presented(SMTP, tls(VENDOR), completed=False), ())
    assert not did_vendor_dance(presented(SMTP, tls(VENDOR, **NOT_ASKED)), ())


def _attempt(**changes: object) -> ProtocolObservation:
    base: dict[str, object] = {
        "service": "smtp-starttls",
        "address": "203.0.113.10",
        "port": 25,
        "stopped_at": ProtocolStage.EHLO,
        "failure": StageFailure.CLOSED,
        "failure_detail": "connection closed by the peer",
    }
    return SmtpObservation(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "attempt", "died"),
    [
        ("closed at the first command, no reply", _attempt(), True),
        ("a chain was shown", _attempt(tls=tls(VENDOR)), False),
        (
            "the handshake closed without an alert",
            _attempt(tls=tls(outcome=TlsOutcome.CLOSED), stopped_at=ProtocolStage.STARTTLS),
            True,
        ),
        (
            "the handshake reset without an alert",
            _attempt(tls=tls(outcome=TlsOutcome.RESET), stopped_at=ProtocolStage.STARTTLS),
            True,
        ),
        (
            "the handshake ended with the peer's alert",
            _attempt(
                tls=tls(outcome=TlsOutcome.CLOSED, alert="received alert: handshake failure"),
                stopped_at=ProtocolStage.STARTTLS,
            ),
            False,
        ),
        (
            "refused at connect (a restart)",
            _attempt(stopped_at=ProtocolStage.CONNECT, failure=StageFailure.REFUSED),
            True,
        ),
        (
            "timed out at connect",
            _attempt(stopped_at=ProtocolStage.CONNECT, failure=StageFailure.TIMEOUT),
            False,
        ),
        ("a timeout after the greeting", _attempt(failure=StageFailure.TIMEOUT), False),
    ],
)
def test_what_counts_as_a_death_without_a_word(
    name: str, attempt: ProtocolObservation, died: bool
) -> None:
    assert died_without_a_word(attempt) is died


def test_a_likely_interception_names_the_device_and_is_inferred() -> None:
    silent = [_attempt(), _attempt()]
    found = diagnose_likely_interception(POP3, silent, [(SMTP, "FortiGate")])
    [finding] = found
    assert finding.code == "tls.intercepted" and finding.is_inferred
    assert finding.subject == "FortiGate"
    assert finding.summary.startswith("TLS on mail1.dicommail.com:995 is likely")
    assert "attempt 2: ended at ehlo without a word" in "\n".join(finding.evidence)
    # Its twins: the endpoint itself convicted, nothing convicted, no attempt.
    assert diagnose_likely_interception(POP3, silent, [(POP3, "FortiGate")]) == []
    assert diagnose_likely_interception(POP3, silent, []) == []
    assert diagnose_likely_interception(POP3, [], [(SMTP, "FortiGate")]) == []
    answered = [_attempt(), dataclasses.replace(_attempt(), failure=StageFailure.TIMEOUT)]
    assert diagnose_likely_interception(POP3, answered, [(SMTP, "FortiGate")]) == []


def test_the_leaf_is_what_the_rules_read() -> None:
    """The subject of a convicted chain is its leaf's issuer, not a CA's."""
    chain = presented(SMTP, tls(FORGED + (PKI.der(PKI.vendor_root.cert_pem.bytes()),)))
    [found] = judged(Row("", chain, Expect("", Severity.INFO), pins=(VENDOR_PIN,)))
    assert found.subject == KLINIKUM
    assert OUR_ISSUER.rfc4514_string() not in found.summary
    assert Encoding.DER  # the chain above is DER, as the handshake gives it


# Where the interceptor sits ---------------------------------------------------------------

ESET = trustme.CA(organization_name="ESET, spol. s r. o.")
FORTI_ROOT = PKI.forti
ESET_CHAIN = PKI.chain(ESET)
ON_THIS_MACHINE = TrustContext(machine=MachineTrust(roots=(PKI.cert(ESET),), name="Windows Root"))


def _place(chain_der: tuple[bytes, ...], trust: TrustContext) -> Finding:
    [found] = judged(Row("", presented(SMTP, tls(chain_der)), Expect("", Severity.INFO),
                         trust=trust, pins=(VENDOR_PIN,)))  # fmt: skip
    return found


def test_endpoint_software_with_its_root_here_intercepts_on_this_machine() -> None:
    found = _place(ESET_CHAIN, ON_THIS_MACHINE)
    assert found.code == "tls.intercepted_locally" and found.severity is Severity.CRIT
    assert found.subject == "ESET"
    assert found.summary.startswith(f"{WHERE} is intercepted on this machine by ESET")
    assert "Excluded IPs" in found.remedy and "not in the firewall" in found.remedy
    assert EXEMPT[0] in found.remedy and "Exempt these destinations" not in found.remedy
    assert "How sure: documented by ESET" in found.remedy
    assert any(line.startswith("place: this machine — ESET") for line in found.evidence)


@pytest.mark.parametrize(
    ("name", "chain_der", "trust"),
    [
        ("the same product's chain, its root not in this machine's store", ESET_CHAIN, NONE),
        (
            "a firewall's CA deployed into this machine's store (network kind)",
            PKI.chain(FORTI_ROOT),
            TrustContext(machine=MachineTrust(roots=(PKI.cert(FORTI_ROOT),), name="Windows")),
        ),
        (
            "a root of no product in this machine's store",
            FORGED,
            TrustContext(machine=MachineTrust(roots=(PKI.cert(PKI.klinikum),), name="Windows")),
        ),
    ],
)
def test_a_device_on_the_path_stays_a_device(
    name: str, chain_der: tuple[bytes, ...], trust: TrustContext
) -> None:
    found = _place(chain_der, trust)
    assert found.code == "tls.intercepted", found
    assert "Exempt these destinations from TLS/SSL inspection" in found.remedy


def test_the_firewall_gets_nothing_for_software_on_this_machine() -> None:
    from netdiag.diagnosis.causes import find_causes
    from netdiag.diagnosis.remedy_plan import plan_remedies
    from netdiag.report.model import EndpointResult

    local = _place(ESET_CHAIN, ON_THIS_MACHINE)
    device = _place(PKI.chain(FORTI_ROOT), NONE)
    causes = find_causes(
        [
            EndpointResult(target=SMTP, findings=(local,)),
            EndpointResult(target=POP3, findings=(device,)),
        ]
    )
    plan = plan_remedies(causes)
    assert plan.exempt == (("mail1.dicommail.com", 995),)
    [here] = [c for c in causes if c.code == "tls.intercepted_locally"]
    assert "ESET" in here.remedy and "mail1.dicommail.com:25" in here.remedy


def test_the_german_remedy_is_the_products_german_path() -> None:
    from netdiag.report.messages import catalogue_text

    local = _place(ESET_CHAIN, ON_THIS_MACHINE)
    _, remedy = catalogue_text(
        local.code, "de", title=local.title, remedy=local.remedy,
        has_own_remedy=local.has_own_remedy, subject=local.subject,
    )  # fmt: skip
    assert "Ausgeschlossene IP-Adressen" in remedy and "Keine Firewall-Regel" in remedy


def test_software_on_this_machine_names_the_issuer_and_why_in_its_summary() -> None:
    found = _place(ESET_CHAIN, ON_THIS_MACHINE)
    issuer = PKI.cert(ESET).subject.rfc4514_string()
    assert found.summary == (
        f"{WHERE} is intercepted on this machine by ESET (issuer {issuer!r}, its root in this "
        "machine's own store) (no pin on its signature path): security software on the "
        "gateway, not a device on the path"
    )


def test_an_unpinned_chain_without_signs_ends_with_its_issuer() -> None:
    """No trait of inspection: nothing is added after the issuer (its twin, the server that
    did not ask, adds the sign)."""
    row = next(r for r in ROWS if r.name.startswith("no pins, the server asked for our issuer"))
    [found] = judged(row)
    assert found.summary.endswith("')"), found.summary
    assert "signs of inspection" not in found.summary
