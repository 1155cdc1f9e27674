"""The servers' clock, table-driven: what a Date header and a banner state, the median of
several statements, the tolerance, and the twins that say nothing about clocks."""

from __future__ import annotations

import datetime as dt

import pytest

from netdiag.diagnosis.clock import (
    TOLERANCE_S,
    diagnose_clock,
    offset_of,
    servers_now,
    stated_clocks,
)
from netdiag.probes.server_clock import from_banner, from_http_date
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


def test_no_statement_no_finding() -> None:
    assert diagnose_clock([], is_breaking=False) == []
