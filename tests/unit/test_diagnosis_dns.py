"""DNS rules, table-driven: hand-built observations, one expected finding per row."""

from __future__ import annotations

import ipaddress

import pytest

from netdiag.diagnosis.dns import address_concern, diagnose_dns
from netdiag.report.observations import DnsAnswer, DnsObservation, DnsOutcome

R1, R2, OS = "system 10.0.0.53", "given 9.9.9.9", "os (getaddrinfo)"


def ans(resolver: str, qtype: str, outcome: DnsOutcome, *addresses: str) -> DnsAnswer:
    return DnsAnswer(resolver=resolver, qtype=qtype, outcome=outcome, addresses=addresses)


A_OK = ans(R1, "A", DnsOutcome.ANSWER, "195.0.0.10")
AAAA_NONE = ans(R1, "AAAA", DnsOutcome.NO_ANSWER)

ROWS: list[tuple[str, tuple[DnsAnswer, ...], set[tuple[str, str]]]] = [
    ("public answer", (A_OK, AAAA_NONE), set()),
    (
        "nxdomain",
        (ans(R1, "A", DnsOutcome.NXDOMAIN), ans(R1, "AAAA", DnsOutcome.NXDOMAIN)),
        {("dns.nxdomain", "crit")},
    ),
    (
        "servfail",
        (ans(R1, "A", DnsOutcome.SERVFAIL), ans(R1, "AAAA", DnsOutcome.SERVFAIL)),
        {("dns.servfail", "crit")},
    ),
    ("refused counts as servfail", (ans(R1, "A", DnsOutcome.REFUSED),), {("dns.servfail", "crit")}),
    (
        "timeout",
        (ans(R1, "A", DnsOutcome.TIMEOUT), ans(R1, "AAAA", DnsOutcome.TIMEOUT)),
        {("dns.timeout", "crit")},
    ),
    (
        "no address records",
        (ans(R1, "A", DnsOutcome.NO_ANSWER), AAAA_NONE),
        {("dns.no_answer", "crit")},
    ),
    (
        "nxdomain beats timeout for one resolver",
        (ans(R1, "A", DnsOutcome.NXDOMAIN), ans(R1, "AAAA", DnsOutcome.TIMEOUT)),
        {("dns.nxdomain", "crit")},
    ),
    (
        "one resolver silent, one answers",
        (A_OK, AAAA_NONE, ans(R2, "A", DnsOutcome.TIMEOUT), ans(R2, "AAAA", DnsOutcome.TIMEOUT)),
        {("dns.timeout", "warn")},
    ),
    (
        "resolvers disagree",
        (
            A_OK,
            AAAA_NONE,
            ans(R2, "A", DnsOutcome.ANSWER, "195.0.0.99"),
            ans(R2, "AAAA", DnsOutcome.NO_ANSWER),
        ),
        {("dns.mismatch", "warn")},
    ),
    (
        "hosts file overrides",
        (A_OK, AAAA_NONE, ans(OS, "A+AAAA", DnsOutcome.ANSWER, "195.0.0.7")),
        {("dns.mismatch", "warn")},
    ),
    (
        "agreeing resolvers",
        (
            A_OK,
            AAAA_NONE,
            ans(R2, "A", DnsOutcome.ANSWER, "195.0.0.10"),
            ans(R2, "AAAA", DnsOutcome.NO_ANSWER),
        ),
        set(),
    ),
    (
        "a half-failed resolver is not a mismatch",
        (
            A_OK,
            AAAA_NONE,
            ans(R2, "A", DnsOutcome.ANSWER, "195.0.0.10"),
            ans(R2, "AAAA", DnsOutcome.TIMEOUT),
        ),
        set(),
    ),
    (
        "a resolver without address records beside one that answers is no mismatch",
        (
            A_OK,
            AAAA_NONE,
            ans(R2, "A", DnsOutcome.NO_ANSWER),
            ans(R2, "AAAA", DnsOutcome.NO_ANSWER),
        ),
        {("dns.no_answer", "warn")},
    ),
    # An answer section without address records (a CNAME that ends nowhere) is no failure
    # of the resolver, and no address to judge.
    ("an answer without addresses", (ans(R1, "A", DnsOutcome.ANSWER),), set()),
    (
        "only private addresses",
        (ans(R1, "A", DnsOutcome.ANSWER, "10.1.2.3"),),
        {("dns.private_address", "crit")},
    ),
    (
        "one private among public",
        (ans(R1, "A", DnsOutcome.ANSWER, "195.0.0.10", "192.168.1.5"),),
        {("dns.private_address", "warn")},
    ),
    (
        "sinkhole 0.0.0.0",
        (ans(R1, "A", DnsOutcome.ANSWER, "0.0.0.0"),),
        {("dns.private_address", "crit")},
    ),
    ("cgnat", (ans(R1, "A", DnsOutcome.ANSWER, "100.64.0.1"),), {("dns.private_address", "crit")}),
    (
        "ipv6 loopback",
        (ans(R1, "AAAA", DnsOutcome.ANSWER, "::1"),),
        {("dns.private_address", "crit")},
    ),
]


@pytest.mark.parametrize(("answers", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_dns_rules(answers: tuple[DnsAnswer, ...], expected: set[tuple[str, str]]) -> None:
    findings = diagnose_dns(DnsObservation(host="mail1.dicommail.com", answers=answers))
    assert {(f.code, f.severity.value) for f in findings} == expected
    for f in findings:
        assert f.summary.startswith("mail1.dicommail.com") and f.evidence and f.remedy


def test_expected_network_is_not_a_finding() -> None:
    observation = DnsObservation(
        host="relay.local", answers=(ans(R1, "A", DnsOutcome.ANSWER, "10.1.2.3"),)
    )
    assert diagnose_dns(observation, [ipaddress.ip_network("10.0.0.0/8")]) == []


def test_no_answers_for_an_address_literal_is_no_finding() -> None:
    assert diagnose_dns(DnsObservation(host="203.0.113.1")) == []


@pytest.mark.parametrize(
    ("address", "concern"),
    [
        ("203.0.113.10", "private network (RFC 1918/4193 or reserved)"),  # TEST-NET-3 is not public
        ("8.8.8.8", ""),
        ("2a00:1450::1", ""),
        ("127.0.0.1", "loopback"),
        ("169.254.1.1", "link-local"),
        ("fd00::1", "private network (RFC 1918/4193 or reserved)"),
        ("::ffff:10.0.0.1", "private network (RFC 1918/4193 or reserved)"),
        ("146.112.61.106", "Cisco Umbrella/OpenDNS block page"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_address_concern(address: str, concern: str) -> None:
    assert address_concern(address) == concern
