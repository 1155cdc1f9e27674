"""A hello answered in another protocol than TLS (`Symptom.NOT_TLS`): the same hello read raw
names what answers (`netdiag.probes.hello.read_answer`), and an HTTP answer is a web proxy in
the server's place (`trace.transparent_proxy`, detail "http"). The twins: another protocol's
greeting (a port forwarded to the wrong service) is said, not convicted; the control
answered in TLS is a failure that passed; a control that could not run proves nothing. And
what a peer sends is quoted, never interpreted: a hostile Server header stays text."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.hypotheses import (
    HTTP_ANSWER,
    Symptom,
    conclude,
    experiments_for,
    undecided_lines,
)
from netdiag.diagnosis.smtp import (
    answered_at_once_in_http,
    hello_at_once_line,
    with_hello_at_once,
)
from netdiag.probes.hello import final_answer, read_answer
from netdiag.report.messages import cause_sentence
from netdiag.report.model import Cause, DevicePlace, Severity
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
    TlsPortObservation,
)
from netdiag.settings.targets import Service, Target

POP3 = Target(host="mail3.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
SMTP = Target(host="mail3.dicommail.com", port=25, service=Service.SMTP_STARTTLS, group="dicommail")
SQUID_400 = b"HTTP/1.1 400 Bad Request\r\nServer: squid/5.7\r\nMime-Version: 1.0\r\n\r\n<html>"


def control(answer: HelloAnswer, detail: str) -> tuple[ExperimentResult, ...]:
    return (
        ExperimentResult(
            kind=Experiment.SAME_HELLO,
            address="198.51.100.3",
            port=995,
            server_name=POP3.host,
            versions="TLS 1.2-1.3",
            hello_bytes=391,
            answer=answer,
            detail=detail,
            elapsed_ms=2.0,
        ),
    )


def test_the_plan_is_the_control_alone() -> None:
    assert experiments_for(Symptom.NOT_TLS, POP3, "mail1.dicommail.com") == [
        (Experiment.SAME_HELLO, POP3.host)
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            SQUID_400,
            (HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'squid/5.7'"),
        ),
        (
            b"HTTP/1.0 403 Forbidden\r\n\r\n",
            (HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.0 403 Forbidden'"),
        ),
        # The header is not complete yet: more is read.
        (b"HTTP/1.1 400 Bad Re", None),
        (b"HTT", None),
        (
            b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n",
            (HelloAnswer.NOT_TLS, "the answer starts with 'SSH-2.0-OpenSSH_9.2p1 Debian'"),
        ),
        (
            b"220 mail3.dicommail.com ESMTP\r\n",
            (HelloAnswer.NOT_TLS, "the answer starts with '220 mail3.dicommail.com ESMTP'"),
        ),
    ],
)
def test_what_answers_in_another_protocol_is_read(
    data: bytes, expected: tuple[HelloAnswer, str] | None
) -> None:
    assert read_answer(data) == expected


def test_an_http_answer_cut_short_is_still_http() -> None:
    assert final_answer(b"HTTP/1.1 400 Bad Request\r\nServer: sq") == (
        HelloAnswer.HTTP_REPLY,
        "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'sq'",
    )
    assert final_answer(b"\x00\x01garbage")[0] is HelloAnswer.NOT_TLS


@given(st.binary(max_size=200))
def test_a_peers_words_are_quoted_never_passed_on(server: bytes) -> None:
    """Whatever a Server header holds, the detail is printable text without control
    characters (terminal escapes, CR/LF that would forge a report line)."""
    data = b"HTTP/1.1 400 Bad Request\r\nServer: " + server.replace(b"\r\n", b"") + b"\r\n\r\n"
    answer = read_answer(data)
    assert answer is not None
    assert all(c.isprintable() for c in answer[1]), answer


@pytest.mark.parametrize(
    ("name", "results", "code", "subject"),
    [
        (
            "Squid answers in HTTP",
            control(
                HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'squid/5.7'"
            ),
            "trace.transparent_proxy",
            "Squid",
        ),
        # Twins: a web server the catalogue does not name may be the vendor's own without
        # TLS (nginx answers a hello on a plain port with 400); another protocol is said,
        # not convicted; TLS now is a failure that passed.
        (
            "nginx answers in HTTP",
            control(HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'nginx'"),
            None,
            "",
        ),
        (
            "a proxy without a name answers in HTTP",
            control(HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 403 Forbidden'"),
            None,
            "",
        ),
        (
            "an SSH server answers",
            control(HelloAnswer.NOT_TLS, "the answer starts with 'SSH-2.0'"),
            None,
            "",
        ),
        (
            "the control answered in TLS",
            control(HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3"),
            None,
            "",
        ),
        (
            "the control could not run",
            control(HelloAnswer.NOT_RUN, "no time left in the run"),
            None,
            "",
        ),
        ("no experiment", (), None, ""),
    ],
)
def test_an_http_answer_is_a_web_proxy_in_the_servers_place(
    name: str, results: tuple[ExperimentResult, ...], code: str | None, subject: str
) -> None:
    found = conclude(POP3, Symptom.NOT_TLS, results)
    assert (found.code if found else None) == code, name
    if found is not None:
        assert found.subject == subject and found.detail == HTTP_ANSWER, found
        assert found.severity is Severity.CRIT and found.explains_others
        assert found.summary.startswith("TLS on mail3.dicommail.com:995: the TLS hello is")
        # What was tried stands in the evidence: the symptom, the raw answer.
        assert found.evidence[0] == f"symptom: {Symptom.NOT_TLS.value}", found.evidence
        assert found.evidence[1].startswith("experiment same_hello: ClientHello"), found.evidence


@pytest.mark.parametrize(
    ("answer", "detail", "said"),
    [
        (HelloAnswer.NOT_TLS, "the answer starts with 'SSH-2.0'", "another service answers"),
        (
            HelloAnswer.HTTP_REPLY,
            "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'nginx'",
            "or the server itself without TLS on this port",
        ),
        (HelloAnswer.NOT_RUN, "no time left", "experiments could not run"),
        (HelloAnswer.RESET, "connection reset", "the failure changed between attempts"),
        (HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3", "the failure passed"),
    ],
)
def test_what_is_left_open_is_said(answer: HelloAnswer, detail: str, said: str) -> None:
    lines = undecided_lines(Symptom.NOT_TLS, control(answer, detail))
    assert said in lines[0], lines


def at_once(outcome: TlsOutcome) -> TlsPortObservation:
    return TlsPortObservation(
        service="tls",
        address="198.51.100.3",
        port=25,
        stopped_at=ProtocolStage.TLS,
        failure=StageFailure.TLS_FAILED,
        tls=TlsObservation(outcome=outcome, error="wrong version number"),
    )


def test_a_hello_at_once_answered_in_http_is_the_web_proxy_on_25() -> None:
    http = control(HelloAnswer.HTTP_REPLY, "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'squid/5.7'")
    found = answered_at_once_in_http(SMTP, at_once(TlsOutcome.NOT_TLS), http)
    assert found is not None and found.code == "trace.transparent_proxy"
    assert found.evidence[0].startswith("no SMTP banner within the timeout; a TLS ClientHello")
    # Twins: the server's own banner read raw, a hello at once that was cut, none at all.
    greeting = control(HelloAnswer.NOT_TLS, "the answer starts with '220 mail3 ESMTP'")
    assert answered_at_once_in_http(SMTP, at_once(TlsOutcome.NOT_TLS), greeting) is None
    assert answered_at_once_in_http(SMTP, at_once(TlsOutcome.RESET), http) is None
    assert answered_at_once_in_http(SMTP, None, http) is None


SQUID_SAID = "HTTP: 'HTTP/1.1 400 Bad Request', Server: 'squid/5.7'"


def test_the_same_hello_read_raw_is_the_one_quoted_among_the_experiments() -> None:
    """The hello at once's line quotes the control (the same hello, read raw), not another
    experiment beside it; and it goes to the missing banner's finding only."""
    http = control(HelloAnswer.HTTP_REPLY, SQUID_SAID)[0]
    other = dataclasses.replace(
        http, kind=Experiment.SMALL_HELLO, answer=HelloAnswer.RESET, detail="reset by the peer"
    )
    found = answered_at_once_in_http(SMTP, at_once(TlsOutcome.NOT_TLS), (other, http))
    assert found is not None
    first = found.evidence[0]
    assert first.startswith("no SMTP banner within the timeout; a TLS ClientHello"), first
    assert first.endswith(f"read raw, the same hello got {SQUID_SAID}"), first
    slow = finding("smtp.slow_banner", "no banner", ["transcript"])
    closed = finding("smtp.early_close", "closed", ["transcript"])
    said, kept = with_hello_at_once(
        [slow, closed], at_once(TlsOutcome.NOT_TLS), False, (other, http)
    )
    assert said.evidence[-1].endswith(f"read raw, the same hello got {SQUID_SAID}"), said
    assert kept.evidence == ("transcript",)


def test_the_banner_sent_once_the_client_spoke_is_said_as_such() -> None:
    greeting = control(HelloAnswer.NOT_TLS, "the answer starts with '220 mail3 ESMTP'")[0]
    line = hello_at_once_line(at_once(TlsOutcome.NOT_TLS), False, greeting)
    assert "the server's banner, sent only once the client spoke" in line, line
    ssh = control(HelloAnswer.NOT_TLS, "the answer starts with 'SSH-2.0'")[0]
    line = hello_at_once_line(at_once(TlsOutcome.NOT_TLS), False, ssh)
    assert "read raw, the same hello got the answer starts with 'SSH-2.0'" in line
    assert "banner" not in line


@pytest.mark.parametrize(
    ("subject", "place", "en", "de"),
    [
        ("Squid", None, "A web proxy (Squid) answers TCP 995", "Ein Web-Proxy (Squid) antwortet"),
        ("", None, "A web proxy answers TCP 995", "Ein Web-Proxy antwortet"),
        (
            "Squid",
            DevicePlace(hop=2),
            "A web proxy (Squid) 2 hops away answers TCP 995",
            "Ein Web-Proxy (Squid) 2 Hops entfernt antwortet",
        ),
        (
            "",
            DevicePlace(hop=1),
            "A web proxy at the first hop (this gateway's router or firewall) answers",
            "Ein Web-Proxy am ersten Hop (Router oder Firewall dieses Gateways) antwortet",
        ),
    ],
)
def test_the_cause_of_an_http_answer_in_words(
    subject: str, place: DevicePlace | None, en: str, de: str
) -> None:
    cause = Cause(
        code="trace.transparent_proxy",
        severity=Severity.CRIT,
        subject=subject,
        detail=HTTP_ANSWER,
        place=place,
        endpoints=(POP3,),
    )
    assert cause_sentence(cause, "en").startswith(en)
    assert cause_sentence(cause, "de").startswith(de)
