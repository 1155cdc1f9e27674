"""The parts of a proof and the verdicts they decide, table-driven and without a network:
possession, path, name, purpose, validity at two clocks — each missing part its own
verdict, each with its twin that stays proven."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from netdiag.diagnosis.interception import PresentedChain, diagnose_interception
from netdiag.report.observations import TlsObservation, TlsOutcome
from netdiag.settings.targets import Service, Target
from netdiag.trust.chains import describe_der
from netdiag.trust.model import TrustContext, judge_chain
from netdiag.trust.pin_commands import pin_for
from netdiag.trust.proof import Part, name, possession, purpose, validity
from tests.servers.pki import leaf_cert

NOW = dt.datetime.now(dt.UTC)
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS, group="mydhp")
ROOT = trustme.CA(organization_name="Vendor Root CA")
ISSUING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Issuing CA")
SIBLING = trustme.CA(parent_cert=ROOT, organization_name="Vendor Issuing CA 2")
FOREIGN = trustme.CA(organization_name="Klinikum Inspection CA")


def cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def der(pem: bytes) -> bytes:
    return cert(pem).public_bytes(Encoding.DER)


def chain_of(leaf: trustme.LeafCert, ca: trustme.CA) -> tuple[bytes, ...]:
    return (der(leaf.cert_chain_pems[0].bytes()), der(ca.cert_pem.bytes()))


def observed(
    chain: tuple[bytes, ...], outcome: TlsOutcome = TlsOutcome.ESTABLISHED
) -> TlsObservation:
    return TlsObservation(
        outcome=outcome,
        server_name=ATLAS.host,
        chain_der=chain,
        chain=tuple(describe_der(d) for d in chain),
        was_client_cert_requested=True,
        client_ca_names=("O=Vendor Root CA",),
        error="" if outcome is TlsOutcome.ESTABLISHED else "bad signature",
    )


def leaf(
    issuer: trustme.CA = ISSUING,
    host: str = ATLAS.host,
    usages: list[x509.ObjectIdentifier] | None = None,
    days: tuple[int, int] = (-30, 365),
) -> trustme.LeafCert:
    return leaf_cert(
        issuer, host, common_name=host, usages=usages,
        not_before=NOW + dt.timedelta(days=days[0]), not_after=NOW + dt.timedelta(days=days[1]),
    )  # fmt: skip


GENUINE = chain_of(leaf(), ISSUING)
PIN_ISSUING = pin_for(cert(ISSUING.cert_pem.bytes()), ["*"], "test", NOW, records_issuer=True)
PIN_ROOT = pin_for(cert(ROOT.cert_pem.bytes()), ["*"], "test", NOW)
GIVEN = TrustContext(given_cas=(cert(ROOT.cert_pem.bytes()),), given_name="vendor-ca.pem")
NONE = TrustContext()


def test_possession_is_a_completed_handshake() -> None:
    assert possession(observed(GENUINE)).holds
    for outcome in (TlsOutcome.FAILED, TlsOutcome.CLOSED, TlsOutcome.RESET, TlsOutcome.STALLED):
        check = possession(observed(GENUINE, outcome))
        assert not check.holds and "did not complete" in check.fact


@pytest.mark.parametrize(
    ("usages", "holds"),
    [
        (None, True),
        ([ExtendedKeyUsageOID.SERVER_AUTH], True),
        ([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH], True),
        ([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE], True),
        ([ExtendedKeyUsageOID.CLIENT_AUTH], False),
        ([ExtendedKeyUsageOID.EMAIL_PROTECTION], False),
    ],
)
def test_purpose(usages: list[x509.ObjectIdentifier] | None, holds: bool) -> None:
    check = purpose(cert(leaf(usages=usages).cert_chain_pems[0].bytes()))
    assert check.holds is holds, check.fact
    assert check.part is Part.PURPOSE


@pytest.mark.parametrize(
    ("host", "asked", "holds"),
    [
        (ATLAS.host, ATLAS.host, True),
        (ATLAS.host, "ATLAS79.MYDHP.DE", True),
        ("dicom-gw-77.other-hospital.example", ATLAS.host, False),
        ("*.mydhp.de", ATLAS.host, True),
        ("*.mydhp.de", "a.b.mydhp.de", False),
    ],
)
def test_name(host: str, asked: str, holds: bool) -> None:
    assert name(cert(leaf(host=host).cert_chain_pems[0].bytes()), asked).holds is holds


@pytest.mark.parametrize(
    ("days", "at", "holds"),
    [
        ((-30, 365), NOW, True),
        ((-30, -1), NOW, False),
        ((1, 30), NOW, False),
        ((-30, -1), NOW - dt.timedelta(days=10), True),
    ],
)
def test_validity(days: tuple[int, int], at: dt.datetime, holds: bool) -> None:
    path = [cert(leaf(days=days).cert_chain_pems[0].bytes()), cert(ISSUING.cert_pem.bytes())]
    assert validity(path, at, "a clock").holds is holds


# (id, chain, handshake outcome, pins, trust, the servers' time or None, what the server
# did after the handshake: asked for our certificate and finished ("dance"), asked but no
# certificate was there to finish with ("no cert"), did not ask ("not requested"), verdict)
ROWS = [
    ("pinned", GENUINE, TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "dance", "tls.pinned"),
    ("verified by --ca", GENUINE, TlsOutcome.ESTABLISHED, [], GIVEN, None, "dance", "tls.verified"),
    (
        "a replayed chain: the path, no possession",
        GENUINE, TlsOutcome.FAILED, [PIN_ISSUING], NONE, None, "no cert", "tls.chain_unproven",
    ),
    (
        "another gateway's certificate: path, wrong name and purpose",
        chain_of(
            leaf(host="gw-77.other.example", usages=[ExtendedKeyUsageOID.CLIENT_AUTH]), ISSUING
        ),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "dance", "tls.not_the_server",
    ),
    (
        "a server certificate for another name, --ca",
        chain_of(leaf(host="relay.hospital.example"), ISSUING),
        TlsOutcome.ESTABLISHED, [], GIVEN, None, "dance", "tls.not_the_server",
    ),
    (
        "expired by both clocks",
        chain_of(leaf(days=(-400, -30)), ISSUING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, NOW, "dance", "tls.server_cert_expired",
    ),
    (
        "expired, no server stated its time",
        chain_of(leaf(days=(-400, -30)), ISSUING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "dance", "tls.server_cert_expired",
    ),
    (
        "expired, --ca, no server stated its time",
        chain_of(leaf(days=(-400, -30)), ISSUING),
        TlsOutcome.ESTABLISHED, [], GIVEN, None, "dance", "tls.server_cert_expired",
    ),
    (
        "not valid yet by both clocks",
        chain_of(leaf(days=(2, 400)), ISSUING),
        TlsOutcome.ESTABLISHED, [], GIVEN, NOW, "dance", "tls.server_cert_not_yet_valid",
    ),
    (
        "expired by this machine's clock only: still pinned (the clock is the cause)",
        chain_of(leaf(days=(-400, -30)), ISSUING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, NOW - dt.timedelta(days=60), "dance",
        "tls.pinned",
    ),
    (
        "a sibling intermediate, --ca proves it, pins old: out of date",
        chain_of(leaf(issuer=SIBLING), SIBLING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], GIVEN, None, "dance", "tls.pins_outdated",
    ),
    (
        "a sibling intermediate, no other proof, the server asked for our certificate",
        chain_of(leaf(issuer=SIBLING), SIBLING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "dance", "tls.rotation_suspected",
    ),
    (
        "a sibling intermediate, no --cert (the protocol did not finish), asked for one",
        chain_of(leaf(issuer=SIBLING), SIBLING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "no cert", "tls.rotation_suspected",
    ),
    (
        "a sibling intermediate whose server did not ask for a client certificate",
        chain_of(leaf(issuer=SIBLING), SIBLING),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], NONE, None, "not requested", "tls.intercepted",
    ),
    (
        "a sibling intermediate under a pinned root: pinned",
        chain_of(leaf(issuer=SIBLING), SIBLING),
        TlsOutcome.ESTABLISHED, [PIN_ROOT], NONE, None, "dance", "tls.pinned",
    ),
    (
        "a foreign chain against pins, another proof fails too: intercepted",
        chain_of(leaf(issuer=FOREIGN), FOREIGN),
        TlsOutcome.ESTABLISHED, [PIN_ISSUING], GIVEN, None, "dance", "tls.intercepted",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("chain", "outcome", "pins", "trust", "servers_now", "handshake", "code"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_what_each_missing_part_makes_of_the_chain(
    chain: tuple[bytes, ...],
    outcome: TlsOutcome,
    pins: list[object],
    trust: TrustContext,
    servers_now: dt.datetime | None,
    handshake: str,
    code: str,
) -> None:
    tls = observed(chain, outcome)
    if handshake == "not requested":
        tls = dataclasses.replace(tls, was_client_cert_requested=False, client_ca_names=())
    facts = judge_chain(tls, ATLAS.host, trust, pins, NOW, servers_now)  # type: ignore[arg-type]
    completed = outcome is TlsOutcome.ESTABLISHED and handshake == "dance"
    presented = PresentedChain(ATLAS, tls, completed)
    findings = diagnose_interception(presented, facts, trust, now=NOW, exempt=[ATLAS.label])
    assert [f.code for f in findings][:1] == [code], [f.summary for f in findings]
    verdict = findings[0]
    if facts.path_by is not None:
        # A verdict on a path says first what the path reaches, then each part's fact.
        assert verdict.evidence[0].startswith("path: "), verdict.evidence
        for part in facts.parts:
            assert part.fact in verdict.evidence
    if code == "tls.rotation_suspected":
        assert verdict.subject == PIN_ISSUING.issuer  # who rotated: the pinned CA's issuer


def test_valid_by_the_servers_clock_only_is_said_in_the_evidence() -> None:
    tls = observed(chain_of(leaf(days=(-400, -30)), ISSUING))
    facts = judge_chain(tls, ATLAS.host, NONE, [PIN_ISSUING], NOW, NOW - dt.timedelta(days=60))
    assert facts.is_valid_only_by_servers and facts.proof is not None
    facts_here = judge_chain(tls, ATLAS.host, NONE, [PIN_ISSUING], NOW, NOW)
    assert not facts_here.is_valid_only_by_servers and facts_here.proof is None


def test_learning_records_the_issuer_of_the_topmost_ca_it_reaches() -> None:
    assert PIN_ISSUING.issuer == cert(ROOT.cert_pem.bytes()).subject.rfc4514_string()
    assert PIN_ISSUING.issuer_key_id
    assert PIN_ROOT.issuer == "" and PIN_ROOT.issuer_key_id == ""
