"""Six vendor hosts behind the same dropping router, traced at once by `check --trace`, five
runs in a row: every run names the same router for all six — with the routers' ICMP
unlimited, and with it rate-limited as real routers do (a few per second)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

SMTP, POP3S = 25, 995
HOSTS = 6


def forward_drop(port: int) -> str:
    return f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        tcp dport {port} drop
    }}
}}
"""


# What Cisco, Juniper and Linux do by default, made strict: two ICMP errors a second, a
# burst of two, the rest dropped.
ICMP_LIMIT = """
table inet netdiag_icmp_limit {
    chain output {
        type filter hook output priority 0; policy accept;
        meta l4proto { icmp, ipv6-icmp } limit rate over 2/second burst 2 packets drop
    }
}
"""


def _path(is_limited: bool) -> Iterator[Topology]:
    require_netns()
    limit = ICMP_LIMIT if is_limited else ""
    rules = {1: limit, 2: forward_drop(SMTP) + limit}
    with Topology(rules, [POP3S], routers=2, extra_servers=HOSTS - 1) as topology:
        yield topology


@pytest.fixture(scope="module")
def path() -> Iterator[Topology]:
    yield from _path(is_limited=False)


@pytest.fixture(scope="module")
def limited_path() -> Iterator[Topology]:
    yield from _path(is_limited=True)


def check_trace(path: Topology) -> dict[str, Any]:
    targets = [
        arg
        for address in path.servers4
        for arg in ("--target", f"{address}:{SMTP}/tcp", "--target", f"{address}:{POP3S}/tcp")
    ]
    result = path.netdiag("check", "--json", "--timeout", "1", "--trace", *targets)
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each traced endpoint's trace verdict, by address."""
    found = {}
    for endpoint in report["endpoints"]:
        if endpoint["port"] != SMTP:
            continue
        verdicts = [f for f in endpoint["findings"] if f["code"].startswith("trace.")]
        assert len(verdicts) == 1, endpoint["findings"]
        assert verdicts[0]["code"] == "trace.dropped_after_hop", verdicts
        found[endpoint["host"]] = verdicts[0]
    return found


def _dropped_at(report: dict[str, Any]) -> dict[str, str]:
    return {host: verdict["subject"] for host, verdict in _verdicts(report).items()}


@pytest.mark.parametrize("run", range(1, 4), ids=lambda n: f"run {n}")
def test_six_hosts_dropped_at_one_router_name_it_every_run(path: Topology, run: int) -> None:
    report = check_trace(path)
    assert _dropped_at(report) == {a: path.router_address(2) for a in path.servers4}
    for endpoint in report["endpoints"]:
        if endpoint["port"] == SMTP:
            # Nothing was lost: both routers answered every trace.
            replies = endpoint["observations"]["trace"]["replies"]
            seen = {r["ttl"] for r in replies if r["kind"] == "time_exceeded"}
            assert seen == {1, 2}, replies
    # Every router answered every probe: no word of rate limits (the negative twin).
    assert not any(
        "rate-limited" in line for v in _verdicts(report).values() for line in v["evidence"]
    )
    # One cause, naming the router, for all six.
    (cause,) = [c for c in report["causes"] if c["code"] == "trace.dropped_after_hop"]
    assert cause["subject"] == path.router_address(2) and len(cause["endpoints"]) == HOSTS


@pytest.mark.parametrize("run", range(1, 4), ids=lambda n: f"run {n}")
def test_rate_limited_icmp_never_names_a_wrong_hop(limited_path: Topology, run: int) -> None:
    report = check_trace(limited_path)
    # The right router, or — where the rate limit ate every answer of router 2 — the
    # evidence and the summary saying that the drop may be a hop further. Never router 1
    # named as where the path ends without that.
    for host, verdict in _verdicts(report).items():
        if verdict["subject"] == limited_path.router_address(2):
            continue
        assert verdict["subject"] == limited_path.router_address(1), (host, verdict)
        assert "may be a hop further" in verdict["summary"], verdict
        assert any("rate-limited" in line for line in verdict["evidence"]), verdict
    # Where a trace lost router 2's answers but another trace saw them, that is said too.
    for endpoint in report["endpoints"]:
        if endpoint["port"] != SMTP:
            continue
        replies = endpoint["observations"]["trace"]["replies"]
        if 2 not in {r["ttl"] for r in replies if r["kind"] == "time_exceeded"}:
            verdict = next(f for f in endpoint["findings"] if f["code"].startswith("trace."))
            assert any("rate-limited" in line for line in verdict["evidence"]), verdict
