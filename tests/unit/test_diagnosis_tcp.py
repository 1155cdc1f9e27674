"""TCP rules, table-driven."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import diagnose_flapping
from netdiag.diagnosis.tcp import diagnose_tcp
from netdiag.probes.tcp import classify_errno
from netdiag.report.observations import IcmpReport, TcpObservation, TcpOutcome
from netdiag.settings.targets import Service, Target

TARGET = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)


def obs(
    outcome: TcpOutcome, address: str = "203.0.113.10", icmp: IcmpReport | None = None
) -> TcpObservation:
    family = 6 if ":" in address else 4
    return TcpObservation(
        address=address, port=25, family=family, outcome=outcome, timeout_s=5, icmp=icmp
    )


PROHIBITED4 = IcmpReport(sender="192.0.2.1", type=3, code=13)
PROHIBITED6 = IcmpReport(sender="2001:db8::1", type=1, code=1, family=6)
HOST_UNREACH = IcmpReport(sender="192.0.2.1", type=3, code=1)

ROWS = [
    ("open", [obs(TcpOutcome.OPEN)], {("tcp.open", "info")}),
    ("reset", [obs(TcpOutcome.REFUSED)], {("tcp.refused", "crit")}),
    ("silence", [obs(TcpOutcome.TIMEOUT)], {("tcp.filtered", "crit")}),
    (
        "unreachable",
        [obs(TcpOutcome.UNREACHABLE, icmp=HOST_UNREACH)],
        {("tcp.unreachable", "crit")},
    ),
    ("unreachable, no icmp", [obs(TcpOutcome.UNREACHABLE)], {("tcp.unreachable", "crit")}),
    ("prohibited", [obs(TcpOutcome.UNREACHABLE, icmp=PROHIBITED4)], {("tcp.prohibited", "crit")}),
    (
        "prohibited v6",
        [obs(TcpOutcome.UNREACHABLE, "2001:db8::10", PROHIBITED6)],
        {("tcp.prohibited", "crit")},
    ),
    (
        "v6 fails, v4 open",
        [obs(TcpOutcome.OPEN), obs(TcpOutcome.UNREACHABLE, "2001:db8::10")],
        {("tcp.open", "info"), ("tcp.unreachable", "warn")},
    ),
    (
        "two dropped addresses, one finding",
        [obs(TcpOutcome.TIMEOUT), obs(TcpOutcome.TIMEOUT, "203.0.113.11")],
        {("tcp.filtered", "crit")},
    ),
    ("skipped by the deadline", [obs(TcpOutcome.SKIPPED)], {("run.incomplete", "warn")}),
    (
        "refused, then accepted on the one retry",
        [dataclasses.replace(obs(TcpOutcome.OPEN), earlier="connect 203.0.113.10:25: refused")],
        {("tcp.open", "info"), ("endpoint.intermittent", "warn")},
    ),
    (
        "refused twice",
        [dataclasses.replace(obs(TcpOutcome.REFUSED), earlier="connect 203.0.113.10:25: refused")],
        {("tcp.refused", "crit")},
    ),
]


@pytest.mark.parametrize(
    ("observations", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_tcp_rules(observations: list[TcpObservation], expected: set[tuple[str, str]]) -> None:
    findings = diagnose_tcp(TARGET, observations)
    assert {(f.code, f.severity.value) for f in findings} == expected
    assert len(findings) == len(expected)


def test_prohibited_names_the_sender_and_the_code() -> None:
    (finding,) = diagnose_tcp(TARGET, [obs(TcpOutcome.UNREACHABLE, icmp=PROHIBITED4)])
    assert "192.0.2.1" in finding.summary
    assert (
        "ICMP type 3 code 13 (communication administratively prohibited) from 192.0.2.1"
        in finding.evidence[0]
    )


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        (111, TcpOutcome.REFUSED),  # ECONNREFUSED (Linux)
        (10061, TcpOutcome.REFUSED),  # WSAECONNREFUSED
        (110, TcpOutcome.TIMEOUT),  # ETIMEDOUT
        (10060, TcpOutcome.TIMEOUT),  # WSAETIMEDOUT
        (113, TcpOutcome.UNREACHABLE),  # EHOSTUNREACH
        (101, TcpOutcome.UNREACHABLE),  # ENETUNREACH
        (10065, TcpOutcome.UNREACHABLE),  # WSAEHOSTUNREACH
        (10051, TcpOutcome.UNREACHABLE),  # WSAENETUNREACH
        (10013, TcpOutcome.UNREACHABLE),  # WSAEACCES: blocked by the local firewall
        (22, TcpOutcome.ERROR),  # EINVAL
        (None, TcpOutcome.ERROR),
    ],
)
def test_errno_classification_understands_posix_and_windows(
    number: int | None, outcome: TcpOutcome
) -> None:
    assert classify_errno(number) is outcome


def test_flapping_only_when_rounds_differ() -> None:
    assert diagnose_flapping(TARGET, [("tcp.open",), ("tcp.open",)]) is None
    flapping = diagnose_flapping(TARGET, [("tcp.open",), ("tcp.filtered",), ("tcp.open",)])
    assert flapping is not None and flapping.code == "endpoint.flapping"
    assert flapping.evidence == ("round 1: tcp.open", "round 2: tcp.filtered", "round 3: tcp.open")


def test_a_refused_mailbox_login_on_another_server_is_not_flapping() -> None:
    """Round 1 refused the password here; round 2 refused it elsewhere first and did not
    send it here: the same answer of the mailbox. The twin: accepted, then refused."""
    refused_here = ("tls.pinned", "pop3.login_failed")
    spared = ("tls.pinned", "pop3.login_not_repeated")
    assert diagnose_flapping(TARGET, [refused_here, spared]) is None
    assert diagnose_flapping(TARGET, [("tls.pinned", "pop3.login_unanswered"), spared]) is None
    flapping = diagnose_flapping(TARGET, [("tls.pinned",), spared])
    assert flapping is not None and flapping.evidence[1] == (
        "round 2: pop3.login_not_repeated, tls.pinned"
    )


def test_meeting_the_servers_connection_limit_in_one_round_only_is_not_flapping() -> None:
    """Which host meets the limit among the run's parallel sessions is chance: taken alone,
    it is the same endpoint. The twin: throttled alone in one round is a change."""
    met = ("tcp.open", "tls.established", "smtp.connection_limit", "tls.pinned")
    clean = ("tcp.open", "tls.established", "tls.pinned")
    assert diagnose_flapping(TARGET, [met, clean]) is None
    assert diagnose_flapping(TARGET, [clean, met, met]) is None
    flapping = diagnose_flapping(TARGET, [met, ("tcp.open", "smtp.throttled")])
    assert flapping is not None and flapping.evidence[0] == (
        "round 1: smtp.connection_limit, tcp.open, tls.established, tls.pinned"
    )


def said(outcome: TcpOutcome, address: str = "203.0.113.10", **fields: object) -> TcpObservation:
    """An observation as the probe records it: the error's name and words, the time."""
    return dataclasses.replace(obs(outcome, address), elapsed_ms=12.5, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("observations", "summaries", "evidence"),
    [
        (
            [said(TcpOutcome.OPEN)],
            ["mail1.dicommail.com:25 open (203.0.113.10, 12.5 ms)"],
            ["connect 203.0.113.10:25: open after 12.5 ms"],
        ),
        (
            [said(TcpOutcome.REFUSED, errno_name="ECONNREFUSED", detail="Connection refused")],
            ["mail1.dicommail.com:25 refused with a TCP reset (203.0.113.10)"],
            ["connect 203.0.113.10:25: ECONNREFUSED (Connection refused) after 12.5 ms"],
        ),
        (
            [said(TcpOutcome.TIMEOUT), said(TcpOutcome.TIMEOUT, "203.0.113.11")],
            ["mail1.dicommail.com:25 silently dropped: no answer within 5 s (203.0.113.10, "
             "203.0.113.11)"],
            ["connect 203.0.113.10:25: no answer within 5 s",
             "connect 203.0.113.11:25: no answer within 5 s"],
        ),
        (
            [said(TcpOutcome.UNREACHABLE, errno_name="EHOSTUNREACH", detail="No route to host")],
            ["mail1.dicommail.com:25 unreachable: EHOSTUNREACH (203.0.113.10)"],
            ["connect 203.0.113.10:25: EHOSTUNREACH (No route to host) after 12.5 ms"],
        ),
        (
            [said(TcpOutcome.UNREACHABLE, detail="network is down")],
            ["mail1.dicommail.com:25 unreachable: network is down (203.0.113.10)"],
            ["connect 203.0.113.10:25: unreachable (network is down) after 12.5 ms"],
        ),
        (
            [said(TcpOutcome.UNREACHABLE)],
            ["mail1.dicommail.com:25 unreachable: no ICMP and no error code (203.0.113.10)"],
            ["connect 203.0.113.10:25: unreachable after 12.5 ms"],
        ),
        (
            [said(TcpOutcome.UNREACHABLE, icmp=HOST_UNREACH, errno_name="EHOSTUNREACH")],
            ["mail1.dicommail.com:25 unreachable: host unreachable (203.0.113.10)"],
            ["connect 203.0.113.10:25: EHOSTUNREACH after 12.5 ms; ICMP type 3 code 1 (host "
             "unreachable) from 192.0.2.1"],
        ),
        (
            [said(TcpOutcome.SKIPPED, detail="the run's deadline passed")],
            ["mail1.dicommail.com:25 not probed: the run's deadline passed"],
            ["connect 203.0.113.10:25: skipped (the run's deadline passed) after 12.5 ms"],
        ),
    ],
    ids=["open", "refused", "dropped", "errno", "detail only", "nothing", "icmp", "skipped"],
)  # fmt: skip
def test_tcp_findings_in_words(
    observations: list[TcpObservation], summaries: list[str], evidence: list[str]
) -> None:
    findings = diagnose_tcp(TARGET, observations)
    assert [f.summary for f in findings] == summaries
    assert [line for f in findings for line in f.evidence] == evidence
