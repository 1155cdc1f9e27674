"""The interception rules' remaining decisions, each with its twin (issue 32, the surviving
mutants of `netdiag.diagnosis.interception`): what `PresentedChain.of` makes of a dialogue
(the session that died during or right after the handshake, and the alert that makes it no
silent death); the vendor's dance counts only when the server's list of acceptable client
CAs names the gateway's issuer; a `--ca` the chain does not reach is a sign next to an own
trait."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.diagnosis.interception import (
    FRESH_LEAF,
    SHORT_LIVED,
    PresentedChain,
    Signal,
    diagnose_interception,
    did_vendor_dance,
    own_signals,
    relational_signal,
)
from netdiag.report.model import Finding
from netdiag.report.observations import (
    CertificateFacts,
    Pop3Observation,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.trust.chains import describe_der
from netdiag.trust.model import TrustContext, judge_chain
from netdiag.trust.pin_commands import pin_for
from netdiag.trust.pins import Pin
from tests.servers.pki import DatedCa
from tests.unit.test_interception_rules import (
    ATLAS,
    FORGED_OLD,
    NOT_ASKED,
    PKI,
    POP3,
    RECORD,
    SMTP,
    VENDOR_FRESH,
    tls,
)

NOW = dt.datetime.now(dt.UTC)


def dialogue(
    observation: TlsObservation | None,
    stopped_at: ProtocolStage,
    failure: StageFailure = StageFailure.CLOSED,
) -> Pop3Observation:
    return Pop3Observation(
        service="pop3s",
        address="203.0.113.10",
        port=995,
        stopped_at=stopped_at,
        failure=failure,
        failure_detail="connection closed by the peer",
        tls=observation,
    )


@pytest.mark.parametrize(
    ("observation", "stopped_at", "completed", "died"),
    [
        # Reset or closed during the handshake, after the chain, without an alert.
        (tls(FORGED_OLD, outcome=TlsOutcome.RESET), ProtocolStage.TLS, False, True),
        (tls(FORGED_OLD, outcome=TlsOutcome.CLOSED), ProtocolStage.TLS, False, True),
        # The twin: the peer said why (its alert): no silent death.
        (
            tls(FORGED_OLD, outcome=TlsOutcome.CLOSED, alert="received: handshake_failure"),
            ProtocolStage.TLS,
            False,
            False,
        ),
        # A failed handshake of another kind (our own verification) is no death either.
        (tls(FORGED_OLD, outcome=TlsOutcome.FAILED), ProtocolStage.TLS, False, False),
        # Established, then no reply to the first step: died right after.
        (tls(FORGED_OLD), ProtocolStage.GREETING, False, True),
        # The twin: an alert after the handshake is the peer stating why.
        (
            tls(FORGED_OLD, post_handshake_alert="received: certificate_required"),
            ProtocolStage.GREETING,
            False,
            False,
        ),
        # The whole dialogue completed.
        (tls(FORGED_OLD), ProtocolStage.DONE, True, False),
    ],
)
def test_what_a_dialogue_makes_of_its_chain(
    observation: TlsObservation, stopped_at: ProtocolStage, completed: bool, died: bool
) -> None:
    chain = PresentedChain.of(POP3, dialogue(observation, stopped_at))
    assert chain == PresentedChain(POP3, observation, completed, died)


def test_no_chain_no_presented_chain() -> None:
    assert PresentedChain.of(POP3, dialogue(None, ProtocolStage.TLS)) is None
    assert PresentedChain.of(POP3, dialogue(tls(()), ProtocolStage.TLS)) is None


OURS, THEIRS = b"gateway issuer (DER name)", b"another CA (DER name)"


@pytest.mark.parametrize(
    ("listed", "ours", "danced"),
    [
        ((OURS, THEIRS), (OURS,), True),
        ((THEIRS,), (OURS,), False),  # asked, but for another CA's certificates
        ((), (OURS,), True),  # asked without a list: nothing to compare
        ((THEIRS,), (), True),  # the gateway's issuer unknown: nothing to compare
    ],
)
def test_the_dance_names_the_gateways_issuer(
    listed: tuple[bytes, ...], ours: tuple[bytes, ...], danced: bool
) -> None:
    chain = PresentedChain(SMTP, tls(VENDOR_FRESH, client_ca_der=listed), True)
    assert did_vendor_dance(chain, ours) is danced


def test_a_dance_for_another_ca_does_not_exempt_a_changed_server() -> None:
    """A renewed leaf and another TLS fingerprint (two points) from a server that asked for
    a certificate of some other CA: no exemption, convicted. Its twin, asking for the
    gateway's issuer, is the vendor's routine renewal."""
    verdicts = {}
    for listed in ((THEIRS,), (OURS,)):
        observation = tls(VENDOR_FRESH, cipher="TLS_AES_128_GCM_SHA256", client_ca_der=listed)
        chain = PresentedChain(SMTP, observation, True)
        facts = judge_chain(observation, SMTP.host, TrustContext(), (), NOW)
        findings = diagnose_interception(
            chain, facts, TrustContext(), record=RECORD, now=NOW, client_issuers=(OURS,)
        )
        verdicts[listed] = [f.code for f in findings]
    assert verdicts == {(THEIRS,): ["tls.intercepted"], (OURS,): ["tls.unpinned"]}


def test_a_ca_the_chain_does_not_reach_counts_next_to_an_own_trait() -> None:
    """--ca names the vendor's root; an old forged chain from a server that did not ask for
    the gateway's certificate: two points, convicted — the sign said in the summary."""
    trust = TrustContext(given_cas=(PKI.cert(PKI.vendor_root),), given_name="vendor-ca.pem")
    observation = tls(FORGED_OLD, **NOT_ASKED)
    chain = PresentedChain(SMTP, observation, False)
    facts = judge_chain(observation, SMTP.host, trust, (), NOW)
    [found] = diagnose_interception(chain, facts, trust, now=NOW)
    assert found.code == "tls.intercepted"
    assert found.summary.endswith(
        "(the server did not ask for a client certificate; the chain's signature path reaches "
        "none of the CA certificates given)"
    ), found.summary


# The other endpoints of a run, as relational_signal sees them: the judged chain itself, a
# port of the same host with the same hierarchy, with another one (genuine, asking for the
# gateway's issuer), a port with no chain, and the same genuine chain on another host.
JUDGED = PresentedChain(SMTP, tls(FORGED_OLD, **NOT_ASKED), False)
SAME_HIERARCHY = PresentedChain(POP3, tls(FORGED_OLD), True)
GENUINE = PresentedChain(POP3, tls(VENDOR_FRESH, client_ca_der=(OURS,)), True)
FOR_ANOTHER_CA = PresentedChain(POP3, tls(VENDOR_FRESH, client_ca_der=(THEIRS,)), True)
NO_CHAIN = PresentedChain(POP3, tls(()), True)
ELSEWHERE = PresentedChain(ATLAS, tls(VENDOR_FRESH, client_ca_der=(OURS,)), True)


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([JUDGED, SAME_HIERARCHY, GENUINE], GENUINE),  # found past itself and its own kind
        ([SAME_HIERARCHY], None),  # the same hierarchy on another port proves nothing
        ([NO_CHAIN], None),
        ([ELSEWHERE], None),  # another host's chain says nothing of this host's
        ([FOR_ANOTHER_CA], None),  # asked for another CA's certificate: no dance
    ],
    ids=["past itself", "same hierarchy", "no chain", "another host", "another CA's dance"],
)
def test_another_port_of_the_same_host_that_did_the_dance(
    others: list[PresentedChain], expected: PresentedChain | None
) -> None:
    found = relational_signal(JUDGED, others, (OURS,))
    if expected is None:
        assert found is None
    else:
        assert found == (Signal.OTHER_PORT_GENUINE, expected)


@pytest.mark.parametrize(("other", "code"), [(GENUINE, "tls.intercepted"),
                                             (FOR_ANOTHER_CA, "tls.unpinned")])  # fmt: skip
def test_the_gateways_issuer_decides_whether_the_other_port_counts(
    other: PresentedChain, code: str
) -> None:
    facts = judge_chain(JUDGED.tls, SMTP.host, TrustContext(), (), NOW)
    findings = diagnose_interception(
        JUDGED, facts, TrustContext(), others=[JUDGED, other], now=NOW, client_issuers=(OURS,)
    )
    assert [f.code for f in findings] == [code]
    said = any(":995 presents another chain" in line for line in findings[0].evidence)
    assert said is (code == "tls.intercepted")


def test_chains_are_told_apart_by_their_ca_keys_not_their_names() -> None:
    """An interceptor's CA named exactly like the vendor's: another hierarchy all the same."""
    day = dt.timedelta(days=1)
    genuine_ca = DatedCa("Vendor Issuing CA", NOW - 100 * day, NOW + 100 * day)
    lookalike_ca = DatedCa("Vendor Issuing CA", NOW - 100 * day, NOW + 100 * day)

    def chain_of(ca: DatedCa) -> tuple[bytes, ...]:
        leaf = ca.leaf(NOW - 30 * day, NOW + 300 * day)
        return tuple(c.public_bytes(Encoding.DER) for c in (leaf, ca.cert))

    judged_der, genuine_der = chain_of(lookalike_ca), chain_of(genuine_ca)
    judged = PresentedChain(SMTP, tls(judged_der, **NOT_ASKED), False)
    genuine = PresentedChain(POP3, tls(genuine_der), True)
    assert describe_der(judged_der[1]).subject == describe_der(genuine_der[1]).subject
    assert relational_signal(judged, [genuine]) == (Signal.OTHER_PORT_GENUINE, genuine)


def leaf_facts(not_before: dt.datetime | None, not_after: dt.datetime | None) -> TlsObservation:
    leaf = CertificateFacts(
        subject="CN=mail1.dicommail.com",
        issuer="O=Klinikum IT CA",
        serial="1",
        not_before=not_before.isoformat() if not_before else "",
        not_after=not_after.isoformat() if not_after else "",
        sha256="00",
        spki_sha256="11",
    )
    return TlsObservation(outcome=TlsOutcome.ESTABLISHED, chain=(leaf,))


YEAR = dt.timedelta(days=365)


@pytest.mark.parametrize(
    ("not_before", "not_after", "fresh"),
    [
        (NOW, NOW + YEAR, True),  # minted this very second
        (NOW - FRESH_LEAF + dt.timedelta(seconds=1), NOW + YEAR, True),
        (NOW - FRESH_LEAF, NOW + YEAR, False),  # exactly 48 h old: no longer fresh
        (NOW + dt.timedelta(seconds=1), NOW + YEAR, False),  # not yet valid: not "minted"
        (NOW - 100 * YEAR / 365, NOW - 100 * YEAR / 365 + SHORT_LIVED, False),  # exactly 14 days
        (NOW - 100 * YEAR / 365, NOW - 100 * YEAR / 365 + SHORT_LIVED / 2, True),  # short-lived
        (None, NOW + YEAR, False),  # a date that could not be read: no sign
        (NOW, None, False),
    ],
)
def test_a_fresh_leaf_at_the_boundaries(
    not_before: dt.datetime | None, not_after: dt.datetime | None, fresh: bool
) -> None:
    chain = PresentedChain(SMTP, leaf_facts(not_before, not_after), True)
    assert (Signal.FRESH_LEAF in own_signals(chain, None, NOW)) is fresh


def _dated_chain(
    host: str = "mail1.dicommail.com", *, days: tuple[int, int] = (-30, 300)
) -> tuple[DatedCa, tuple[bytes, ...]]:
    day = dt.timedelta(days=1)
    ca = DatedCa("Vendor Issuing CA", NOW - 700 * day, NOW + 700 * day)
    leaf = ca.leaf(NOW + days[0] * day, NOW + days[1] * day, host)
    return ca, tuple(c.public_bytes(Encoding.DER) for c in (leaf, ca.cert))


def _judged(
    chain_der: tuple[bytes, ...],
    pins: tuple[Pin, ...],
    trust: TrustContext,
    *,
    outcome: TlsOutcome = TlsOutcome.ESTABLISHED,
    servers_now: dt.datetime | None = None,
) -> list[Finding]:
    observation = tls(chain_der, outcome=outcome)
    chain = PresentedChain(SMTP, observation, outcome is TlsOutcome.ESTABLISHED)
    facts = judge_chain(observation, SMTP.host, trust, pins, NOW, servers_now)
    return diagnose_interception(chain, facts, trust, now=NOW)


WHERE = "TLS on mail1.dicommail.com:25"


def test_pinned_and_a_given_ca_that_does_not_verify_says_both() -> None:
    ca, chain_der = _dated_chain()
    pin = pin_for(ca.cert, ["*"], "test", NOW)
    other = TrustContext(given_cas=(PKI.cert(PKI.vendor_root),), given_name="vendor-ca.pem")
    findings = _judged(chain_der, (pin,), other)
    assert [f.code for f in findings] == ["tls.pinned", "tls.untrusted"]
    assert findings[1].summary.startswith(
        f"{WHERE}: the server's chain does not verify against vendor-ca.pem: "
    )


def test_a_pinned_chain_in_a_handshake_that_failed_proves_nothing() -> None:
    ca, chain_der = _dated_chain()
    pin = pin_for(ca.cert, ["*"], "test", NOW)
    [found] = _judged(chain_der, (pin,), TrustContext(), outcome=TlsOutcome.FAILED)
    assert found.code == "tls.chain_unproven"
    assert found.summary == (
        f"{WHERE}: the chain shown reaches the pinned 'O=Vendor Issuing CA', but the handshake "
        "did not complete: it proves nothing"
    )


def test_another_hosts_certificate_is_named_by_its_own_subject() -> None:
    ca, chain_der = _dated_chain("dicom-gw-77.other-hospital.example")
    pin = pin_for(ca.cert, ["*"], "test", NOW)
    [found] = _judged(chain_der, (pin,), TrustContext())
    assert found.code == "tls.not_the_server"
    assert found.subject == "CN=dicom-gw-77.other-hospital.example"


def test_an_expired_leaf_is_named_by_its_own_subject() -> None:
    ca, chain_der = _dated_chain(days=(-400, -1))
    pin = pin_for(ca.cert, ["*"], "test", NOW)
    [found] = _judged(chain_der, (pin,), TrustContext())
    assert found.code == "tls.server_cert_expired"
    assert found.subject == "CN=mail1.dicommail.com"


def test_valid_by_the_servers_clock_only_says_so_second_with_that_clocks_fact() -> None:
    ca, chain_der = _dated_chain(days=(-400, -10))
    pin = pin_for(ca.cert, ["*"], "test", NOW)
    [found] = _judged(chain_der, (pin,), TrustContext(), servers_now=NOW - 20 * dt.timedelta(1))
    assert found.code == "tls.pinned"
    assert found.evidence[0].startswith("path: the leaf's signature path reaches the pinned ")
    assert found.evidence[1].startswith("valid by the servers' clock, not by this machine's")
    assert any(line.startswith("validity by the servers' clock (") for line in found.evidence)
