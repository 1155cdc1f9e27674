"""An SMTP port that sends no banner, and the TLS hello sent at once that names what waits
there (`netdiag.diagnosis.smtp`, `netdiag.diagnosis.round`): a device that inspects TLS on
the port waits for the client's hello and so holds the server's banner back. The forged
chain it answers with convicts (`tls.intercepted`, with how the chain was got first in its
evidence); its twins do not: the vendor's own chain at once (the port speaks implicit TLS),
a hello cut or unanswered, and an attempt that got a banner (no hello at once at all)."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis.round import RoundRules, diagnose_round
from netdiag.diagnosis.smtp import hello_at_once_line, is_banner_withheld
from netdiag.report.observations import (
    EndpointObservation,
    HelloAnswer,
    Pop3Observation,
    ProbeStep,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    SmtpObservation,
    StageFailure,
    TlsOutcome,
    TlsPortObservation,
)
from netdiag.settings.targets import Service, Target
from netdiag.trust.pins import PinSet
from tests.unit.test_interception_rules import (
    FORGED,
    NONE,
    NOT_ASKED,
    NOW,
    POP3,
    SMTP,
    VENDOR,
    VENDOR_PIN,
    tls,
)

SILENT = SmtpObservation(
    service="smtp-starttls",
    address="203.0.113.10",
    port=25,
    stopped_at=ProtocolStage.BANNER,
    failure=StageFailure.TIMEOUT,
    failure_detail="no complete answer within 5 s",
)


def at_once(
    tls_observation: object, failure: StageFailure = StageFailure.NONE
) -> TlsPortObservation:
    return TlsPortObservation(
        service="tls",
        address="203.0.113.10",
        port=25,
        stopped_at=ProtocolStage.TLS,
        failure=failure,
        tls=tls_observation,  # type: ignore[arg-type]
    )


FORGED_AT_ONCE = at_once(tls(FORGED, server_name=SMTP.host, **NOT_ASKED))
VENDOR_AT_ONCE = at_once(tls(VENDOR, server_name=SMTP.host))
CUT_AT_ONCE = at_once(
    tls((), outcome=TlsOutcome.CLOSED, error="connection closed during the handshake"),
    StageFailure.TLS_FAILED,
)
UNANSWERED_AT_ONCE = at_once(tls((), outcome=TlsOutcome.STALLED), StageFailure.TLS_FAILED)


def judged(observation: EndpointObservation) -> dict[str, tuple[str, ...]]:
    rules = RoundRules(targets=(SMTP,), pins=PinSet((VENDOR_PIN,)), trust=NONE)
    findings = diagnose_round(rules, {SMTP: observation}, None, NOW)[SMTP]
    return {f.code: f.evidence for f in findings}


def endpoint(
    *attempts: ProtocolObservation, hello: ProtocolObservation | None = None
) -> EndpointObservation:
    return EndpointObservation(attempts=attempts, reached=ProbeStep.PROTOCOL, hello_at_once=hello)


@pytest.mark.parametrize(
    ("name", "hello", "convicted", "said"),
    [
        ("forged chain at once", FORGED_AT_ONCE, True, "answered with a certificate chain"),
        ("the vendor's chain at once", VENDOR_AT_ONCE, False, "the vendor's own chain"),
        ("cut at once", CUT_AT_ONCE, False, "cut without a chain"),
        ("unanswered at once", UNANSWERED_AT_ONCE, False, "got no answer either"),
    ],
)
def test_the_hello_at_once_convicts_by_its_chain_only(
    name: str, hello: TlsPortObservation, convicted: bool, said: str
) -> None:
    codes = judged(endpoint(SILENT, hello=hello))
    assert "smtp.slow_banner" in codes, name
    assert said in codes["smtp.slow_banner"][-1], name
    assert ("tls.intercepted" in codes) is convicted, name
    # The vendor's chain got at once is no verdict on this endpoint: it did not work.
    assert "tls.pinned" not in codes and "tls.established" not in codes, name
    if convicted:
        first = codes["tls.intercepted"][0]
        assert first.startswith("no SMTP banner within the timeout; a TLS ClientHello"), first


def test_a_chain_the_dialogue_got_is_judged_not_the_hello_at_once() -> None:
    """The hello at once stands in only where no attempt got a chain."""
    healthy = dataclasses.replace(
        SILENT,
        stopped_at=ProtocolStage.DONE,
        failure=StageFailure.NONE,
        failure_detail="",
        banner=Reply(code=220, lines=("220 mail1.dicommail.com ESMTP",)),
        tls=tls(VENDOR, server_name=SMTP.host),
    )
    observation = endpoint(healthy, hello=FORGED_AT_ONCE)
    assert observation.chain_shown_in is healthy
    codes = judged(observation)
    assert "tls.pinned" in codes and "tls.intercepted" not in codes


@pytest.mark.parametrize(
    ("name", "attempts", "withheld"),
    [
        ("no byte of a banner", (SILENT,), True),
        ("no byte, twice", (SILENT, SILENT), True),
        ("nothing", (), False),
        (
            "the first line came, then a pause",
            (dataclasses.replace(SILENT, banner_first_ms=12.0),),
            False,
        ),
        (
            "closed before the banner",
            (dataclasses.replace(SILENT, failure=StageFailure.CLOSED),),
            False,
        ),
        (
            "the run's deadline",
            (dataclasses.replace(SILENT, failure=StageFailure.DEADLINE),),
            False,
        ),
        (
            "a banner, then no EHLO reply",
            (
                dataclasses.replace(
                    SILENT,
                    stopped_at=ProtocolStage.EHLO,
                    banner=Reply(code=220, lines=("220 mail1",)),
                ),
            ),
            False,
        ),
        (
            "not SMTP",
            (
                ProtocolObservation(
                    service="tls",
                    address="203.0.113.10",
                    port=25,
                    stopped_at=ProtocolStage.BANNER,
                    failure=StageFailure.TIMEOUT,
                ),
            ),
            False,
        ),
    ],
)
def test_only_a_banner_withheld_calls_for_the_hello_at_once(
    name: str, attempts: tuple[ProtocolObservation, ...], withheld: bool
) -> None:
    assert is_banner_withheld(attempts) is withheld, name


@pytest.mark.parametrize(
    ("name", "hello", "is_vendors", "said"),
    [
        ("forged", FORGED_AT_ONCE, False, "answered with a certificate chain (issuer "),
        ("the vendor's", VENDOR_AT_ONCE, True, "the vendor's own chain"),
        ("closed", CUT_AT_ONCE, False, "was cut without a chain (connection closed"),
        (
            "reset",
            at_once(tls((), outcome=TlsOutcome.RESET, error="reset"), StageFailure.TLS_FAILED),
            False,
            "was cut without a chain (reset)",
        ),
        (
            "refused",
            at_once(
                tls((), outcome=TlsOutcome.FAILED, alert="received: handshake_failure"),
                StageFailure.TLS_ALERT,
            ),
            False,
            "refused with the alert 'received: handshake_failure'",
        ),
        ("unanswered", UNANSWERED_AT_ONCE, False, "got no answer either"),
        (
            "no connection",
            dataclasses.replace(
                at_once(None, StageFailure.REFUSED),
                stopped_at=ProtocolStage.CONNECT,
                failure_detail="connection refused",
            ),
            False,
            "port 25: connection refused",
        ),
    ],
)
def test_what_the_hello_at_once_got_is_said(
    name: str, hello: TlsPortObservation, is_vendors: bool, said: str
) -> None:
    line = hello_at_once_line(hello, is_vendors)
    assert line.startswith("a TLS ClientHello sent at once on a new connection to port 25")
    assert said in line, (name, line)


def forged_pop3(target: Target) -> EndpointObservation:
    """A POP3S endpoint shown a forged chain: proven intercepted."""
    protocol = Pop3Observation(
        service="pop3s",
        address="203.0.113.10",
        port=target.port,
        tls=tls(FORGED, server_name=target.host, **NOT_ASKED),
    )
    return EndpointObservation(attempts=(protocol,), reached=ProbeStep.DONE)


OTHER_HOST_POP3 = Target(
    host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail"
)


@pytest.mark.parametrize(
    ("name", "hello", "convicted", "likely"),
    [
        ("cut at once, 995 of the host intercepted", CUT_AT_ONCE, POP3, True),
        (
            "reset at once, 995 of the host intercepted",
            at_once(tls((), outcome=TlsOutcome.RESET, error="reset"), StageFailure.TLS_FAILED),
            POP3,
            True,
        ),
        # The twins: silence is a tarpit's as well; an alert is a peer saying why; no
        # interception on this host proves nothing here.
        ("unanswered at once, 995 intercepted", UNANSWERED_AT_ONCE, POP3, False),
        (
            "refused at once, 995 intercepted",
            at_once(
                tls((), outcome=TlsOutcome.CLOSED, alert="received: handshake_failure"),
                StageFailure.TLS_ALERT,
            ),
            POP3,
            False,
        ),
        ("cut at once, another host's 995 intercepted", CUT_AT_ONCE, OTHER_HOST_POP3, False),
    ],
)
def test_a_hello_cut_at_once_is_likely_the_device_proven_on_the_hosts_other_ports(
    name: str, hello: TlsPortObservation, convicted: Target, likely: bool
) -> None:
    rules = RoundRules(targets=(SMTP, convicted), pins=PinSet((VENDOR_PIN,)), trust=NONE)
    observations = {SMTP: endpoint(SILENT, hello=hello), convicted: forged_pop3(convicted)}
    judged_round = diagnose_round(rules, observations, None, NOW)
    assert "tls.intercepted" in {f.code for f in judged_round[convicted]}, name
    found = [f for f in judged_round[SMTP] if f.code == "tls.intercepted"]
    assert bool(found) is likely, (name, judged_round[SMTP])
    if likely:
        assert found[0].is_inferred and "likely intercepted by the same device" in found[0].summary
        assert found[0].evidence[0].startswith("no SMTP banner within the timeout; a TLS")
        # The device is named as the convicted port's chain named it.
        assert found[0].subject and found[0].subject in found[0].summary, found[0]


def test_a_chain_at_once_is_said_though_a_raw_answer_is_at_hand() -> None:
    """A raw answer of the same hello speaks only for a hello at once answered in another
    protocol: one answered with a chain is said by its chain."""
    from tests.unit.test_not_tls import control

    raw = control(HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 400 Bad Request'")[0]
    line = hello_at_once_line(VENDOR_AT_ONCE, True, raw)
    assert "the vendor's own chain" in line and "read raw" not in line, line
