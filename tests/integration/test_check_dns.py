"""`netdiag check` against a real DNS server on loopback, one behaviour per test."""

from __future__ import annotations

import pytest

from tests.conftest import codes, run_cli
from tests.servers.dns import EMPTY, NXDOMAIN, SERVFAIL, SILENT, Answer, DnsServer, addresses
from tests.servers.tcp import OpenPort

HOST = "mail1.dicommail.com"


def check(port: int, *resolvers: DnsServer, extra: tuple[str, ...] = ()) -> list[str]:
    args = ["check", "--target", f"{HOST}:{port}/tcp", "--no-system-resolver", "--json"]
    for server in resolvers:
        args += ["--resolver", server.spec]
    return [*args, "--timeout", "0.5", *extra]


def test_name_that_resolves_to_an_expected_network_is_ok() -> None:
    with OpenPort() as port, DnsServer({HOST: addresses("127.0.0.1")}) as dns_server:
        result = run_cli(*check(port.port, dns_server, extra=("--expect-network", "127.0.0.0/8")))
    assert result.exit_code == 0, result.stderr
    endpoint = result.endpoint(HOST, port.port)
    assert codes(endpoint) == {"tcp.open"}
    answers = endpoint["observations"]["dns"]["answers"]
    assert {(a["qtype"], a["outcome"]) for a in answers} == {("A", "answer"), ("AAAA", "no_answer")}
    assert answers[0]["resolver"] == f"given {dns_server.spec}"


def test_the_same_name_without_the_expected_network_is_a_private_address() -> None:
    with OpenPort() as port, DnsServer({HOST: addresses("127.0.0.1")}) as dns_server:
        result = run_cli(*check(port.port, dns_server))
    endpoint = result.endpoint(HOST, port.port)
    assert "dns.private_address" in codes(endpoint)
    private = next(f for f in endpoint["findings"] if f["code"] == "dns.private_address")
    assert private["severity"] == "crit"
    assert "127.0.0.1: loopback" in private["evidence"][0]
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (NXDOMAIN, "dns.nxdomain"),
        (SERVFAIL, "dns.servfail"),
        (EMPTY, "dns.no_answer"),
        (SILENT, "dns.timeout"),
    ],
)
def test_a_name_that_does_not_resolve_is_critical_with_its_reason(
    answer: Answer, code: str
) -> None:
    with DnsServer({HOST: answer}) as dns_server:
        result = run_cli(*check(25, dns_server))
    assert result.exit_code == 2
    endpoint = result.endpoint(HOST, 25)
    assert codes(endpoint) == {code}
    assert endpoint["findings"][0]["severity"] == "crit"
    assert endpoint["observations"]["tcp"] == []


def test_resolvers_that_disagree_are_a_mismatch() -> None:
    with (
        OpenPort() as port,
        DnsServer({HOST: addresses("127.0.0.1")}) as first,
        DnsServer({HOST: addresses("127.0.0.2")}) as second,
    ):
        result = run_cli(
            *check(port.port, first, second, extra=("--expect-network", "127.0.0.0/8"))
        )
    endpoint = result.endpoint(HOST, port.port)
    mismatch = next(f for f in endpoint["findings"] if f["code"] == "dns.mismatch")
    assert mismatch["evidence"] == [
        f"given {first.spec}: 127.0.0.1",
        f"given {second.spec}: 127.0.0.2",
    ]
    # Both addresses are probed: the second one is closed on loopback.
    assert {t["address"] for t in endpoint["observations"]["tcp"]} == {"127.0.0.1", "127.0.0.2"}
    assert result.exit_code == 1


def test_one_silent_resolver_beside_a_good_one_is_a_warning() -> None:
    with (
        OpenPort() as port,
        DnsServer({HOST: addresses("127.0.0.1")}) as good,
        DnsServer({HOST: SILENT}) as silent,
    ):
        result = run_cli(*check(port.port, good, silent, extra=("--expect-network", "127.0.0.0/8")))
    endpoint = result.endpoint(HOST, port.port)
    timeout = next(f for f in endpoint["findings"] if f["code"] == "dns.timeout")
    assert timeout["severity"] == "warn"
    assert silent.spec in timeout["summary"]
    assert result.exit_code == 1


def test_ipv6_answers_are_probed_too() -> None:
    with OpenPort("::1") as port, DnsServer({HOST: addresses("127.0.0.1", "::1")}) as dns_server:
        result = run_cli(
            *check(
                port.port,
                dns_server,
                extra=("--expect-network", "127.0.0.0/8", "--expect-network", "::1/128"),
            )
        )
    tcp = {t["address"]: t for t in result.endpoint(HOST, port.port)["observations"]["tcp"]}
    assert tcp["::1"]["outcome"] == "open" and tcp["::1"]["family"] == 6
    assert tcp["127.0.0.1"]["outcome"] == "refused"
    assert result.exit_code == 1  # one address of two fails: a warning, not critical


def test_a_resolver_that_is_not_there_is_a_timeout_at_once() -> None:
    import socket
    import time

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = run_cli(
        "check",
        "--json",
        "--target",
        f"{HOST}:25/tcp",
        "--no-system-resolver",
        "--resolver",
        f"127.0.0.1:{port}",
        "--timeout",
        "10",
    )
    elapsed = time.monotonic() - started
    endpoint = result.endpoint(HOST, 25)
    assert codes(endpoint) == {"dns.timeout"}
    assert "no DNS server answers" in " ".join(endpoint["findings"][0]["evidence"])
    assert elapsed < 10 / 2  # the ICMP port unreachable ends it, not the 10 s timeout
    assert result.exit_code == 2
