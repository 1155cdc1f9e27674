"""The servers' clock, table-driven: what a Date header and a banner state, the median of
several statements, the tolerance, and the twins that say nothing about clocks."""

from __future__ import annotations

import datetime as dt

import pytest

from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.clock import (
    TOLERANCE_S,
    clock_breaks,
    describe_offset,
    diagnose_clock,
    offset_of,
    servers_now,
    stated_clocks,
)
from netdiag.probes.server_clock import from_banner, from_http_date
from netdiag.report.messages import cause_sentence
from netdiag.report.model import EndpointResult
from netdiag.report.observations import (
    EndpointObservation,
    ProbeStep,
    ServerClock,
    TlsPortObservation,
)
from netdiag.settings.targets import Service, Target

SEEN = dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=dt.UTC)
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS)


@pytest.mark.parametrize(
    ("text", "server_time"),
    [
        ("mx.example Microsoft ESMTP MAIL Service ready at Wed, 2 Dec 2026 11:50:00 +0000",
         "2026-12-02T11:50:00+00:00"),
        ("mail ESMTP Sendmail 8.15.2/8.15.2; Wed, 2 Dec 2026 07:00:00 -0500",
         "2026-12-02T12:00:00+00:00"),
        ("smtp.example ESMTP Exim 4.96 Wed, 02 Dec 2026 13:00:00 +0100",
         "2026-12-02T12:00:00+00:00"),
        ("mail1.dicommail.com ESMTP Postfix", None),
        ("mail ESMTP ready at 2 Dec", None),
        ("x ESMTP 31 Feb 2026 10:00:00 +0000", None),
        ("x ESMTP 1 Jan 1789 10:00:00 +0000", None),
    ],
)  # fmt: skip
def test_a_date_in_a_banner(text: str, server_time: str | None) -> None:
    found = from_banner(text, SEEN)
    assert (found.server_time if found else None) == server_time


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("Wed, 02 Dec 2026 11:00:00 GMT", 3600.0),
        ("Wed, 02 Dec 2026 12:00:30 GMT", -30.0),
        ("", None),
        ("tomorrow", None),
        ("Wed, 02 Dec 2026 25:00:00 GMT", None),
    ],
)
def test_an_http_date(value: str, offset: float | None) -> None:
    found = from_http_date(value, SEEN)
    assert (found.offset_s if found else None) == offset


def clock(offset_s: float, source: str = "HTTP Date") -> ServerClock:
    return ServerClock(
        source=source,
        said="x",
        server_time=(SEEN - dt.timedelta(seconds=offset_s)).isoformat(),
        seen_at=SEEN.isoformat(),
    )


def test_the_median_of_what_the_servers_said() -> None:
    """One server with a wrong clock of its own does not decide."""
    clocks = [(ATLAS, clock(600)), (ATLAS, clock(610)), (ATLAS, clock(-86400))]
    assert offset_of(clocks) == 600
    assert offset_of([]) is None
    assert servers_now(SEEN, 600) == SEEN - dt.timedelta(minutes=10)
    assert servers_now(SEEN, None) is None


def test_the_clocks_the_round_recorded() -> None:
    attempt = TlsPortObservation(
        service="tls", address="192.0.2.1", port=8140, server_clock=clock(42)
    )
    none = TlsPortObservation(service="tls", address="192.0.2.1", port=8140)
    observations = {
        ATLAS: EndpointObservation(attempts=(attempt, none), reached=ProbeStep.DONE),
    }
    assert [c.offset_s for _, c in stated_clocks(observations)] == [42]


@pytest.mark.parametrize(
    ("offset", "is_breaking", "codes"),
    [
        (TOLERANCE_S - 1, False, []),
        (TOLERANCE_S + 1, False, ["clock.offset"]),
        (-(TOLERANCE_S + 1), False, ["clock.offset"]),
        (86400 * 400, True, []),  # the endpoints carry the cause themselves
        (0, False, []),
    ],
)
def test_the_tolerance(offset: float, is_breaking: bool, codes: list[str]) -> None:
    found = diagnose_clock([(ATLAS, clock(offset))], is_breaking=is_breaking)
    assert [f.code for f in found] == codes
    if found:
        assert found[0].severity.value == "warn"
        assert ("ahead of" if offset > 0 else "behind") in found[0].summary


def test_one_servers_word_is_said_as_one_witness_and_two_as_the_servers() -> None:
    """One server stating its time cannot tell which clock is off; two agreeing can."""
    mail = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    pop3 = Target(host="atlas79.mydhp.de", port=995, service=Service.POP3S)
    (alone,) = diagnose_clock([(ATLAS, clock(-86400)), (pop3, clock(-86400))], is_breaking=False)
    assert alone.summary == (
        "this machine's clock is 1 d behind the time atlas79.mydhp.de states, the only "
        "server that states one: certificates are judged by a wrong clock, unless that "
        "server's is the one off (check this machine's time source first)"
    )
    (two,) = diagnose_clock([(ATLAS, clock(-86400)), (mail, clock(-86400))], is_breaking=False)
    assert two.summary == (
        "this machine's clock is 1 d behind the servers' time: certificates are judged by a "
        "wrong clock"
    )
    assert two.severity is alone.severity and two.offset_s == alone.offset_s == -86400


def test_no_statement_no_finding() -> None:
    assert diagnose_clock([], is_breaking=False) == []


def test_exactly_at_the_tolerance_is_no_finding() -> None:
    assert diagnose_clock([(ATLAS, clock(TOLERANCE_S))], is_breaking=False) == []


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (0, "0 s behind"),
        (0.4, "0 s ahead of"),  # rounds to nothing, still ahead
        (59, "59 s ahead of"),
        (-61, "1 min 1 s behind"),
        (3600 + 120, "1 h 2 min ahead of"),
        (86400 * 3 + 3600 * 4 + 60 * 5 + 7, "3 d 4 h 5 min ahead of"),  # no seconds with days
        (-86400, "1 d behind"),
    ],
)
def test_an_offset_in_words(offset: float, words: str) -> None:
    assert describe_offset(offset) == words


def test_the_clock_as_an_endpoints_cause_in_full() -> None:
    """What the gateway's own software will reject, because of which clock, by how much,
    who said the time — the finding whole."""
    mail = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    clocks = [(ATLAS, clock(-86400 * 400)), (mail, clock(-86400 * 400))]
    found = clock_breaks(ATLAS, clocks, -86400 * 400, "the server's certificate")
    assert found.code == "clock.offset" and found.severity.value == "crit"
    assert found.subject == "HTTP Date of atlas79.mydhp.de:8140 and 1 more"
    assert (
        found.offset_s == -34560000
        and found.detail == ""
        and found.evidence[-1] == ("the server's certificate: valid by the servers' time only")
    )
    assert found.evidence[-2] == (
        "this machine's clock is 400 d behind the servers' (the median of 2 statement(s))"
    )
    assert found.summary == (
        "atlas79.mydhp.de:8140: the server's certificate is valid by the servers' clock but "
        "not by this machine's, which is 400 d behind the servers': the gateway's software "
        "rejects it"
    )
    warned = diagnose_clock(clocks, is_breaking=False)[0]
    assert warned.subject == found.subject and warned.offset_s == -34560000
    assert warned.evidence[-1] == found.evidence[-2]
    # The offset is data to its cause, and its sentence says it in words.
    [cause] = find_causes([EndpointResult(target=ATLAS, findings=(found,))])
    assert cause.offset_s == -34560000
    assert "400 d" in cause_sentence(cause, "en") and "400 T" in cause_sentence(cause, "de")


def test_at_most_eight_statements_are_quoted() -> None:
    clocks = [
        (Target(host=f"h{n}.example", port=25, service=Service.SMTP_STARTTLS), clock(3600))
        for n in range(10)
    ]
    [found] = diagnose_clock(clocks, is_breaking=False)
    assert len(found.evidence) == 8 + 1
    assert found.evidence[-1].endswith("(the median of 10 statement(s))")


def test_one_server_clock_is_named_alone() -> None:
    [found] = diagnose_clock([(ATLAS, clock(3600))], is_breaking=False)
    assert found.subject == "HTTP Date of atlas79.mydhp.de:8140"
