"""TLS, SMTP and POP3 rules, table-driven with hand-built observations."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from netdiag.diagnosis.certificate import diagnose_client_certificate
from netdiag.diagnosis.protocol import diagnose_protocol
from netdiag.diagnosis.smtp import is_masked_banner
from netdiag.diagnosis.tls import diagnose_tls
from netdiag.report.model import Severity
from netdiag.report.observations import (
    CertificateFacts,
    ClientCertificateObservation,
    Pop3Observation,
    Pop3Reply,
    Pop3Status,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    SmtpObservation,
    StageFailure,
    TlsObservation,
    TlsOutcome,
    TlsPortObservation,
    TranscriptLine,
)
from netdiag.settings.config import LoginKind
from netdiag.settings.targets import Service, Target

SMTP = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
POP3 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S)
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS)

LEAF = CertificateFacts(
    subject="CN=gateway",
    issuer="CN=Vendor Issuing",
    serial="1",
    not_before="2026-01-01T00:00:00+00:00",
    not_after="2027-01-01T00:00:00+00:00",
    sha256="00",
    spki_sha256="11",
    ext_key_usage=("clientAuth",),
)
CLIENT = ClientCertificateObservation(
    source="c.p12", leaf=LEAF, issuer_names_der=(b"issuing", b"root"), is_chain_complete=True
)


def tls(**changes: object) -> TlsObservation:
    base: dict[str, object] = {
        "outcome": TlsOutcome.ESTABLISHED,
        "version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
        "was_client_cert_requested": True,
        "was_client_cert_sent": True,
        "client_ca_der": (b"root",),
        "timeout_s": 5,
    }
    return TlsObservation(**{**base, **changes})  # type: ignore[arg-type]


TLS_ROWS = [
    ("established", tls(), CLIENT, {"tls.established"}),
    ("stalled", tls(outcome=TlsOutcome.STALLED), CLIENT, {"tls.handshake_stalled"}),
    (
        "reset",
        tls(outcome=TlsOutcome.RESET, was_client_cert_requested=None),
        CLIENT,
        {"tls.handshake_failed"},
    ),
    (
        "not tls",
        tls(outcome=TlsOutcome.NOT_TLS, was_client_cert_requested=None),
        CLIENT,
        {"tls.handshake_failed"},
    ),
    (
        "alert unknown ca in handshake",
        tls(outcome=TlsOutcome.FAILED, alert="received fatal alert unknown_ca"),
        CLIENT,
        {"tls.client_cert_rejected"},
    ),
    (
        "handshake_failure without a certificate",
        tls(
            outcome=TlsOutcome.FAILED,
            alert="received fatal alert handshake_failure",
            was_client_cert_sent=False,
        ),
        None,
        {"tls.client_cert_required"},
    ),
    (
        "handshake_failure with a certificate",
        tls(outcome=TlsOutcome.FAILED, alert="received fatal alert handshake_failure"),
        CLIENT,
        {"tls.handshake_failed"},
    ),
    (
        "tls 1.3 alert after the handshake",
        tls(post_handshake_alert="tlsv13 alert certificate required"),
        CLIENT,
        {"tls.client_cert_rejected"},
    ),
    (
        "not requested",
        tls(was_client_cert_requested=False, client_ca_der=()),
        CLIENT,
        {"tls.client_cert_not_requested"},
    ),
    ("issuer not accepted", tls(client_ca_der=(b"foreign",)), CLIENT, {"cert.issuer_not_accepted"}),
    ("empty ca list accepts anything", tls(client_ca_der=()), CLIENT, {"tls.established"}),
    (
        "the server's downgrade marker refused by OpenSSL: TLS 1.3 removed on the way",
        tls(
            outcome=TlsOutcome.FAILED,
            error="inappropriate fallback",
            alert="sent fatal alert illegal_parameter",
            was_client_cert_requested=None,
        ),
        CLIENT,
        {"tls.downgraded"},
    ),
    (
        "the peer's own inappropriate_fallback alert is no marker of ours",
        tls(
            outcome=TlsOutcome.FAILED,
            error="tlsv1 alert inappropriate fallback",
            alert="received fatal alert inappropriate_fallback",
            was_client_cert_requested=None,
        ),
        CLIENT,
        {"tls.handshake_failed"},
    ),
]


@pytest.mark.parametrize(
    ("observation", "client", "expected"), [r[1:] for r in TLS_ROWS], ids=[r[0] for r in TLS_ROWS]
)
def test_tls_rules(
    observation: TlsObservation, client: ClientCertificateObservation | None, expected: set[str]
) -> None:
    assert {f.code for f in diagnose_tls(SMTP, observation, client)} == expected


# The last lines a dialogue said: every protocol finding quotes them as its evidence.
SAID = (
    TranscriptLine(direction="-", text="connected to 192.0.2.1:25", at_ms=0.0),
    TranscriptLine(direction="S", text="220 mail1 ESMTP", at_ms=12.5),
    TranscriptLine(direction="C", text="EHLO gateway", at_ms=13.0),
)

_SMTP_BASE = SmtpObservation(
    service="smtp-starttls",
    address="192.0.2.1",
    port=25,
    transcript=SAID,
    banner=Reply(code=220, lines=("mail1 ESMTP",)),
    banner_ms=50.0,
    banner_first_ms=50.0,
    ehlo=Reply(code=250, lines=("mail1", "STARTTLS")),
    is_starttls_advertised=True,
    starttls_reply=Reply(code=220, lines=("go ahead",)),
    tls=tls(),
    after_tls=Reply(code=250, lines=("mail1",)),
)


def smtp(**changes: Any) -> SmtpObservation:
    return dataclasses.replace(_SMTP_BASE, **changes)


SMTP_ROWS = [
    ("all good", smtp(), {"tls.established"}),
    (
        "slow banner",
        smtp(banner_ms=4000.0, banner_first_ms=4000.0),
        {"smtp.slow_banner", "tls.established"},
    ),
    # The first line at once, the last 6 s later: the server's pregreet test (postscreen).
    (
        "a greeting pause",
        smtp(banner_ms=6050.0, banner_first_ms=50.0),
        {"smtp.greeting_pause", "tls.established"},
    ),
    (
        "a late first line and a pause",
        smtp(banner_ms=10000.0, banner_first_ms=4000.0),
        {"smtp.slow_banner", "smtp.greeting_pause", "tls.established"},
    ),
    # The bounds of late: a first line at the limit is in time, a millisecond later late;
    # so is a pause before the last line.
    (
        "a banner at the limit",
        smtp(banner_ms=3000.0, banner_first_ms=3000.0),
        {"tls.established"},
    ),
    (
        "a banner a millisecond late",
        smtp(banner_ms=3001.0, banner_first_ms=3001.0),
        {"smtp.slow_banner", "tls.established"},
    ),
    (
        "a banner 3.95 s late",
        smtp(banner_ms=3950.0, banner_first_ms=3950.0),
        {"smtp.slow_banner", "tls.established"},
    ),
    (
        "a pause at the limit",
        smtp(banner_ms=3050.0, banner_first_ms=50.0),
        {"tls.established"},
    ),
    (
        "a pause a millisecond over the limit",
        smtp(banner_ms=3051.0, banner_first_ms=50.0),
        {"smtp.greeting_pause", "tls.established"},
    ),
    (
        "a multi-line banner at once",
        smtp(banner_ms=2950.0, banner_first_ms=10.0),
        {"tls.established"},
    ),
    (
        "no banner",
        smtp(
            banner=None,
            ehlo=None,
            banner_first_ms=0.0,
            stopped_at=ProtocolStage.BANNER,
            failure=StageFailure.TIMEOUT,
        ),
        {"smtp.slow_banner"},
    ),
    (
        "a greeting begun and never ended",
        smtp(
            banner=None,
            ehlo=None,
            banner_first_ms=12.0,
            stopped_at=ProtocolStage.BANNER,
            failure=StageFailure.TIMEOUT,
            failure_detail="the greeting began after 12 ms ('220-mail1') and did not end",
        ),
        {"smtp.slow_banner"},
    ),
    (
        "closed before banner",
        smtp(banner=None, ehlo=None, stopped_at=ProtocolStage.BANNER, failure=StageFailure.CLOSED),
        {"smtp.early_close"},
    ),
    (
        "masked banner",
        smtp(banner=Reply(code=220, lines=("*" * 30,))),
        {"smtp.banner_masked", "tls.established"},
    ),
    (
        "421 banner",
        smtp(banner=Reply(code=421, lines=("busy",)), stopped_at=ProtocolStage.BANNER),
        {"smtp.throttled"},
    ),
    (
        "554 banner",
        smtp(banner=Reply(code=554, lines=("go away",)), stopped_at=ProtocolStage.BANNER),
        {"smtp.rejected"},
    ),
    # The bounds of "not now": 400-499 is throttling, 500 a refusal.
    (
        "400 banner",
        smtp(banner=Reply(code=400, lines=("later",)), stopped_at=ProtocolStage.BANNER),
        {"smtp.throttled"},
    ),
    (
        "499 banner",
        smtp(banner=Reply(code=499, lines=("later",)), stopped_at=ProtocolStage.BANNER),
        {"smtp.throttled"},
    ),
    (
        "500 banner",
        smtp(banner=Reply(code=500, lines=("no",)), stopped_at=ProtocolStage.BANNER),
        {"smtp.rejected"},
    ),
    (
        "ehlo refused for now",
        smtp(
            ehlo=Reply(code=450, lines=("4.7.1 try again later",)),
            stopped_at=ProtocolStage.EHLO,
            failure=StageFailure.REFUSED,
            tls=None,
        ),
        {"smtp.throttled"},
    ),
    (
        "ehlo refused",
        smtp(
            ehlo=Reply(code=550, lines=("5.7.1 no",)),
            stopped_at=ProtocolStage.EHLO,
            failure=StageFailure.REFUSED,
            tls=None,
        ),
        {"smtp.rejected"},
    ),
    (
        "a pregreet pause, then ehlo refused",
        smtp(
            banner_ms=6050.0,
            banner_first_ms=50.0,
            ehlo=Reply(code=450, lines=("4.7.1 try again later",)),
            stopped_at=ProtocolStage.EHLO,
            failure=StageFailure.REFUSED,
            tls=None,
        ),
        {"smtp.greeting_pause", "smtp.throttled"},
    ),
    (
        "closed after ehlo",
        smtp(ehlo=None, stopped_at=ProtocolStage.EHLO, failure=StageFailure.CLOSED),
        {"smtp.early_close"},
    ),
    (
        "no answer to ehlo is no early close",
        smtp(
            ehlo=None,
            stopped_at=ProtocolStage.EHLO,
            failure=StageFailure.TIMEOUT,
            failure_detail="no complete answer within 5 s",
        ),
        {"smtp.no_reply"},
    ),
    (
        "no answer to starttls is no early close",
        smtp(
            starttls_reply=None,
            stopped_at=ProtocolStage.STARTTLS,
            failure=StageFailure.TIMEOUT,
            failure_detail="no complete answer within 5 s",
            tls=None,
        ),
        {"smtp.no_reply"},
    ),
    (
        "the run's deadline during the banner blames nobody",
        smtp(
            banner=None,
            ehlo=None,
            tls=None,
            stopped_at=ProtocolStage.BANNER,
            failure=StageFailure.DEADLINE,
            failure_detail="the run's deadline passed",
        ),
        set(),
    ),
    (
        "garbage",
        smtp(
            ehlo=None,
            stopped_at=ProtocolStage.EHLO,
            failure=StageFailure.GARBAGE,
            failure_detail="x",
        ),
        {"smtp.protocol_error"},
    ),
    (
        "stripped",
        smtp(
            ehlo=Reply(code=250, lines=("mail1",)),
            is_starttls_advertised=False,
            starttls_reply=Reply(code=502, lines=("no",)),
            stopped_at=ProtocolStage.STARTTLS,
            tls=None,
        ),
        {"smtp.starttls_missing"},
    ),
    (
        "stripped, starttls sent anyway and accepted",
        smtp(ehlo=Reply(code=250, lines=("mail1",)), is_starttls_advertised=False),
        {"smtp.starttls_missing", "tls.established"},
    ),
    (
        "stripped, and closed at starttls",
        smtp(
            ehlo=Reply(code=250, lines=("mail1",)),
            is_starttls_advertised=False,
            starttls_reply=None,
            stopped_at=ProtocolStage.STARTTLS,
            failure=StageFailure.CLOSED,
            tls=None,
        ),
        {"smtp.starttls_missing", "smtp.early_close"},
    ),
    (
        "closed at starttls",
        smtp(
            starttls_reply=None,
            stopped_at=ProtocolStage.STARTTLS,
            failure=StageFailure.CLOSED,
            tls=None,
        ),
        {"smtp.early_close"},
    ),
    (
        "masked, no answer to starttls",
        smtp(
            starttls_mask="XXXXXXXA",
            is_starttls_advertised=False,
            starttls_reply=None,
            stopped_at=ProtocolStage.STARTTLS,
            failure=StageFailure.TIMEOUT,
            failure_detail="no complete answer within 5 s",
            tls=None,
        ),
        {"smtp.starttls_masked", "smtp.no_reply"},
    ),
    (
        "reset right after the connect",
        smtp(
            banner=None,
            ehlo=None,
            starttls_reply=None,
            tls=None,
            after_tls=None,
            stopped_at=ProtocolStage.CONNECT,
            failure=StageFailure.CLOSED,
            transcript=SAID[:1],
            failure_detail="connection reset by the peer right after the handshake",
        ),
        {"smtp.early_close"},
    ),
    (
        "closed right after the connect, nothing said",
        smtp(
            banner=None,
            ehlo=None,
            starttls_reply=None,
            tls=None,
            after_tls=None,
            stopped_at=ProtocolStage.CONNECT,
            failure=StageFailure.CLOSED,
            transcript=SAID[:1],
        ),
        {"smtp.early_close"},
    ),
    (
        "the run's deadline after the handshake keeps the chain's verdicts only",
        smtp(
            after_tls=None,
            stopped_at=ProtocolStage.EHLO_TLS,
            failure=StageFailure.DEADLINE,
            failure_detail="the run's deadline passed",
        ),
        set(),
    ),
    (
        "masked",
        smtp(
            starttls_mask="XXXXXXXA",
            is_starttls_advertised=False,
            starttls_reply=Reply(code=500, lines=("#5.5.1",)),
            stopped_at=ProtocolStage.STARTTLS,
            tls=None,
        ),
        {"smtp.starttls_masked"},
    ),
    (
        "refused",
        smtp(
            starttls_reply=Reply(code=454, lines=("no tls",)),
            stopped_at=ProtocolStage.STARTTLS,
            tls=None,
        ),
        {"smtp.starttls_refused"},
    ),
    (
        "rejected after tls",
        smtp(
            after_tls=Reply(code=421, lines=("4.7.1 Client certificate not trusted",)),
            stopped_at=ProtocolStage.EHLO_TLS,
        ),
        {"tls.client_cert_rejected"},
    ),
    (
        "throttled after tls",
        smtp(
            after_tls=Reply(code=421, lines=("4.7.0 too many",)), stopped_at=ProtocolStage.EHLO_TLS
        ),
        {"smtp.throttled"},
    ),
    # A completed session whose EHLO reply names the certificate is no rejection.
    (
        "the EHLO after tls mentions the certificate, and the session completed",
        smtp(after_tls=Reply(code=250, lines=("mail1 Hello, client certificate verified",))),
        {"tls.established"},
    ),
    (
        "no answer after tls",
        smtp(
            after_tls=None,
            stopped_at=ProtocolStage.EHLO_TLS,
            failure=StageFailure.TIMEOUT,
            failure_detail="no complete answer within 5 s",
        ),
        {"smtp.protocol_error"},
    ),
    (
        "an odd reply after tls",
        smtp(
            after_tls=Reply(code=251, lines=("odd",)),
            stopped_at=ProtocolStage.EHLO_TLS,
            failure=StageFailure.REFUSED,
        ),
        {"smtp.rejected"},
    ),
    (
        "our issuer not among the server's acceptable CAs",
        smtp(tls=tls(client_ca_der=(b"another CA",))),
        {"cert.issuer_not_accepted"},
    ),
    (
        "the run's deadline after the handshake, our issuer not accepted",
        smtp(
            tls=tls(client_ca_der=(b"another CA",)),
            after_tls=None,
            stopped_at=ProtocolStage.EHLO_TLS,
            failure=StageFailure.DEADLINE,
            failure_detail="the run's deadline passed",
        ),
        {"cert.issuer_not_accepted"},
    ),
    (
        "the run's deadline during the handshake blames nobody",
        smtp(
            tls=tls(outcome=TlsOutcome.STALLED),
            after_tls=None,
            stopped_at=ProtocolStage.TLS,
            failure=StageFailure.DEADLINE,
            failure_detail="the run's deadline passed",
        ),
        set(),
    ),
    (
        "closed after tls",
        smtp(
            after_tls=None,
            stopped_at=ProtocolStage.EHLO_TLS,
            failure=StageFailure.CLOSED,
            failure_detail="closed",
        ),
        {"smtp.early_close"},
    ),
]


@pytest.mark.parametrize(
    ("observation", "expected"), [r[1:] for r in SMTP_ROWS], ids=[r[0] for r in SMTP_ROWS]
)
def test_smtp_rules(observation: ProtocolObservation, expected: set[str]) -> None:
    assert {f.code for f in diagnose_protocol(SMTP, observation, CLIENT)} == expected


_POP3_BASE = Pop3Observation(
    service="pop3s",
    address="192.0.2.1",
    port=995,
    tls=tls(),
    greeting=Pop3Reply(status=Pop3Status.OK, lines=("Dovecot ready.",)),
    capa=Pop3Reply(status=Pop3Status.OK, lines=("", "USER")),
)


def pop3_err(text: str) -> Pop3Reply:
    return Pop3Reply(status=Pop3Status.ERR, lines=(text,))


def pop3(**changes: Any) -> Pop3Observation:
    return dataclasses.replace(_POP3_BASE, **changes)


POP3_ROWS = [
    ("all good", pop3(), {"tls.established"}),
    # Reset before a byte of TLS: the service refused to talk (not an SMTP close).
    (
        "reset right after the connect",
        pop3(
            tls=None,
            greeting=None,
            capa=None,
            stopped_at=ProtocolStage.CONNECT,
            failure=StageFailure.CLOSED,
            transcript=(
                TranscriptLine(direction="-", text="connected to 192.0.2.1:995", at_ms=0.0),
            ),
        ),
        {"tls.handshake_failed"},
    ),
    (
        "garbage greeting",
        pop3(
            greeting=None,
            stopped_at=ProtocolStage.GREETING,
            failure=StageFailure.GARBAGE,
            failure_detail="x",
        ),
        {"pop3.protocol_error"},
    ),
    (
        "err greeting",
        pop3(
            greeting=Pop3Reply(status=Pop3Status.ERR, lines=("busy",)),
            stopped_at=ProtocolStage.GREETING,
        ),
        {"tls.established", "pop3.protocol_error"},
    ),
    (
        "cert rejected at login",
        pop3(
            login=Pop3Reply(
                status=Pop3Status.ERR, lines=("[AUTH] Client didn't present valid SSL certificate",)
            ),
            login_kind=LoginKind.PROBE,
        ),
        {"tls.client_cert_rejected"},
    ),
    (
        "probe login refused",
        pop3(
            login=Pop3Reply(status=Pop3Status.ERR, lines=("[AUTH] Authentication failed.",)),
            login_kind=LoginKind.PROBE,
        ),
        {"tls.established"},
    ),
    (
        "mailbox login refused",
        pop3(
            login=Pop3Reply(status=Pop3Status.ERR, lines=("[AUTH] Authentication failed.",)),
            login_kind=LoginKind.MAILBOX,
        ),
        {"tls.established", "pop3.login_failed"},
    ),
]


@pytest.mark.parametrize(
    ("observation", "expected"), [r[1:] for r in POP3_ROWS], ids=[r[0] for r in POP3_ROWS]
)
def test_pop3_rules(observation: ProtocolObservation, expected: set[str]) -> None:
    assert {f.code for f in diagnose_protocol(POP3, observation, CLIENT)} == expected


def test_http_rejection_on_the_tls_port() -> None:
    observation = TlsPortObservation(
        service="tls",
        address="192.0.2.2",
        port=8140,
        tls=tls(),
        first_bytes="HTTP/1.1 400 Bad Request",
        response=Reply(
            code=400,
            lines=("HTTP/1.1 400 Bad Request", "<title>400 No required SSL certificate was sent"),
        ),
    )
    # Without --cert nothing was rejected: the authentication was not checked.
    assert {f.code for f in diagnose_protocol(ATLAS, observation, None)} == {
        "tls.client_cert_required"
    }
    with_cert = diagnose_protocol(ATLAS, observation, CLIENT)
    assert {f.code for f in with_cert} == {"tls.client_cert_rejected"}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("*" * 20, True),
        ("**** ***** ****", True),
        ("mail1.dicommail.com ESMTP", False),
        ("***", False),
        ("", False),
        # The bounds: four stars are a mask, as many stars as spaces still one; a name
        # before the stars, or more spaces than stars, is not.
        ("****", True),
        ("**** a b c d", True),
        ("**** a b c d e", False),
        ("mail****", False),
    ],
)
def test_masked_banner(text: str, masked: bool) -> None:
    assert is_masked_banner(Reply(code=220, lines=(text,))) is masked


def test_a_banner_without_lines_is_not_masked() -> None:
    assert is_masked_banner(Reply(code=220, lines=())) is False


@pytest.mark.parametrize(
    ("days_left", "usages", "expected"),
    [
        (200, ("clientAuth",), set()),
        (10, ("clientAuth",), {"cert.expires_soon"}),
        (-1, ("clientAuth",), {"cert.expired"}),
        (200, ("serverAuth",), {"cert.no_client_auth"}),
        (200, None, set()),  # no extended key usage: any usage
        (200, ("anyExtendedKeyUsage",), set()),
    ],
)
def test_client_certificate_rules(
    days_left: int, usages: tuple[str, ...] | None, expected: set[str]
) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    leaf = CertificateFacts(
        subject="CN=gw",
        issuer="CN=ca",
        serial="1",
        not_before="2026-01-01T00:00:00+00:00",
        not_after=(now + dt.timedelta(days=days_left)).isoformat(),
        sha256="0",
        spki_sha256="1",
        ext_key_usage=usages,
    )
    observation = ClientCertificateObservation(source="x", leaf=leaf, is_chain_complete=True)
    assert {f.code for f in diagnose_client_certificate(observation, now)} == expected


def test_the_downgrade_says_what_openssl_refused() -> None:
    observation = tls(
        outcome=TlsOutcome.FAILED,
        error="inappropriate fallback",
        alert="sent fatal alert illegal_parameter",
    )
    [found] = diagnose_tls(SMTP, observation, CLIENT)
    assert found.code == "tls.downgraded"
    assert (
        found.evidence[-1] == "OpenSSL: inappropriate fallback (sent fatal alert illegal_parameter)"
    )
    assert found.summary.endswith("removed TLS 1.3 from the gateway's ClientHello")


def test_a_greeting_pause_is_said_as_the_servers_and_a_late_first_line_as_slow() -> None:
    paused = smtp(banner_ms=6050.0, banner_first_ms=50.0)
    [pause] = [f for f in diagnose_protocol(SMTP, paused, CLIENT) if f.code != "tls.established"]
    assert pause.code == "smtp.greeting_pause" and pause.severity is Severity.INFO
    assert "first line came after 0.1 s, its last 6.0 s later" in pause.summary
    assert "pregreet test" in pause.summary and "not the path" in pause.summary
    unfinished = smtp(
        banner=None, ehlo=None, banner_first_ms=12.0, stopped_at=ProtocolStage.BANNER,
        failure=StageFailure.TIMEOUT,
        failure_detail="the greeting began after 12 ms ('220-mail1') and did not end within 30 s",
    )  # fmt: skip
    [slow] = diagnose_protocol(SMTP, unfinished, CLIENT)
    assert slow.code == "smtp.slow_banner" and slow.severity is Severity.CRIT
    assert slow.summary.endswith(
        "the greeting began after 12 ms ('220-mail1') and did not end within 30 s"
    )
