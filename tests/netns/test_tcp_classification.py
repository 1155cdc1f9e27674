"""Every TCP verdict produced by a real network stack: a router with nftables rules."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

OPEN, DROP, RESET, PROHIBIT, HOST_UNREACH, CLOSED = 2500, 2501, 2502, 2503, 2504, 2505

RULES = f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        tcp dport {DROP} drop
        tcp dport {RESET} reject with tcp reset
        tcp dport {PROHIBIT} reject with icmpx type admin-prohibited
        tcp dport {HOST_UNREACH} reject with icmpx type host-unreachable
    }}
}}
"""


@pytest.fixture(scope="module")
def path() -> Iterator[Topology]:
    require_netns()
    with Topology(RULES, [OPEN, DROP, RESET, PROHIBIT, HOST_UNREACH]) as topology:
        yield topology


@pytest.fixture(scope="module")
def report(path: Topology) -> dict[str, Any]:
    s4, s6 = Topology.SERVER4, f"[{Topology.SERVER6}]"
    targets = [
        f"{s4}:{OPEN}/tcp",
        f"{s4}:{DROP}/tcp",
        f"{s4}:{RESET}/tcp",
        f"{s4}:{PROHIBIT}/tcp",
        f"{s4}:{HOST_UNREACH}/tcp",
        f"{s4}:{CLOSED}/tcp",
        "198.18.3.9:25/tcp",
        f"{s6}:{OPEN}/tcp",
        f"{s6}:{DROP}/tcp",
        f"{s6}:{PROHIBIT}/tcp",
    ]
    args = ["check", "--json", "--timeout", "1.5"]
    for target in targets:
        args += ["--target", target]
    result = path.netdiag(*args)
    assert result.returncode == 2, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return report


def endpoint(report: dict[str, Any], host: str, port: int) -> dict[str, Any]:
    return next(e for e in report["endpoints"] if e["host"] == host and e["port"] == port)


@pytest.mark.parametrize("host", [Topology.SERVER4, Topology.SERVER6])
def test_open_port(report: dict[str, Any], host: str) -> None:
    assert codes(endpoint(report, host, OPEN)) == {"tcp.open"}


@pytest.mark.parametrize("host", [Topology.SERVER4, Topology.SERVER6])
def test_silent_drop_is_filtered(report: dict[str, Any], host: str) -> None:
    found = endpoint(report, host, DROP)
    assert codes(found) == {"tcp.filtered"}
    assert found["observations"]["tcp"][0]["outcome"] == "timeout"


def test_reset_from_the_firewall_is_refused(report: dict[str, Any]) -> None:
    found = endpoint(report, Topology.SERVER4, RESET)
    assert codes(found) == {"tcp.refused"}
    assert found["observations"]["tcp"][0]["errno_name"] == "ECONNREFUSED"


def test_closed_port_on_the_server_is_refused(report: dict[str, Any]) -> None:
    assert codes(endpoint(report, Topology.SERVER4, CLOSED)) == {"tcp.refused"}


@pytest.mark.parametrize(
    ("host", "sender", "icmp"),
    [
        (Topology.SERVER4, Topology.ROUTER4_C, "ICMP type 3 code 13"),
        (Topology.SERVER6, Topology.ROUTER6_C, "ICMPv6 type 1 code 1"),
    ],
)
def test_admin_prohibited_names_the_router(
    report: dict[str, Any], host: str, sender: str, icmp: str
) -> None:
    found = endpoint(report, host, PROHIBIT)
    assert codes(found) == {"tcp.prohibited"}
    finding = found["findings"][0]
    assert sender in finding["summary"]
    assert (
        icmp in finding["evidence"][0] and "administratively prohibited" in finding["evidence"][0]
    )
    assert found["observations"]["tcp"][0]["icmp"]["sender"] == sender


def test_host_unreachable_from_the_firewall(report: dict[str, Any]) -> None:
    found = endpoint(report, Topology.SERVER4, HOST_UNREACH)
    assert codes(found) == {"tcp.unreachable"}
    assert "host unreachable" in found["findings"][0]["summary"]
    assert found["observations"]["tcp"][0]["errno_name"] == "EHOSTUNREACH"


def test_network_without_route_is_unreachable(report: dict[str, Any]) -> None:
    found = endpoint(report, "198.18.3.9", 25)
    assert codes(found) == {"tcp.unreachable"}
    assert found["observations"]["tcp"][0]["icmp"]["sender"] == Topology.ROUTER4_C


def test_everything_dropped_ends_after_about_one_timeout(path: Topology) -> None:
    args = ["check", "--json", "--timeout", "2"]
    for service in ("tcp", "smtp-starttls", "pop3s", "tls"):
        args += ["--target", f"{Topology.SERVER4}:{DROP}/{service}"]
        args += ["--target", f"[{Topology.SERVER6}]:{DROP}/{service}"]
    started = time.monotonic()
    result = path.netdiag(*args)
    elapsed = time.monotonic() - started
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    assert len(report["endpoints"]) == 8
    assert all(codes(e) == {"tcp.filtered"} for e in report["endpoints"])
    # The probes take about one timeout (2 s), never one per endpoint (8 × 2 s): the run's
    # own duration says it; the wall clock (Python's start-up in the namespace on a busy
    # 2-core machine included) only has to stay clear of a serial run's 16 s.
    assert elapsed < 5 * 2, f"took {elapsed:.1f} s"
    assert report["duration_s"] < 1.5 * 2
