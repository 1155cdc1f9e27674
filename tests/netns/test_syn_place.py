"""Every connect to 995 refused with a reset, in front of the vendor's site in real software
(`tests.netns.real_site`): by an nft rule on the router before routing — the hop-limited SYN
is reset at TTL 1 while Postfix answers 25 of the same address from hop 2, so a rule short
of the server resets it (`trace.forged_reset`, detail "syn", without --trace and without
privilege); with --trace the trace reads the reset's own IP TTL and its verdict stands
alone. The twins: the same rule after routing (the forward hook: a SYN with TTL 1 expires
before it is filtered, so the resets start at the server's own hop — no conviction without
the packets, which --trace reads), and the server refusing the port itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import codes
from tests.netns.real_site import PACKAGES, RealVendorSite
from tests.netns.test_cut_place import on_port
from tests.netns.test_squid_bump import check
from tests.netns.topology import Topology, nft_table, require_netns

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("real_servers")]

# Resets every SYN to 995, as a firewall's "reject with TCP reset" rule does.
RESET_SYNS = """
table ip netdiag_syn {{
    chain c {{
        type filter hook {hook} priority 0; policy accept;
        {match} tcp dport 995 tcp flags & (syn | ack) == syn reject with tcp reset
    }}
}}
"""


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Topology, RealVendorSite]]:
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path) as vendor:
        yield path, vendor


def refused(
    world: tuple[Topology, RealVendorSite], where: str, hook: str, *more: str
) -> dict[str, Any]:
    """The report of a check (with `more`) while a rule resets every SYN to 995 in `where`
    ("router" or "server") at `hook`."""
    path, vendor = world
    namespace = path.router if where == "router" else path.server
    rules = RESET_SYNS.format(hook=hook, match="ip daddr 198.18.2.0/24")
    with nft_table(path, namespace, "netdiag_syn", rules):
        code, report = check(path, vendor, *more)
    assert code == 2
    return report


def forged(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in endpoint["findings"] if f["code"] == "trace.forged_reset"]


def measured(report: dict[str, Any]) -> dict[str, Any]:
    """The place of the one endpoint on 995 that was measured (the others share it)."""
    places = [e["observations"]["place"] for e in on_port(report, 995)]
    [place] = [p for p in places if not p["measured_on"]]
    return place


def test_a_rule_before_routing_is_placed_short_of_the_server(
    site: tuple[Topology, RealVendorSite],
) -> None:
    report = refused(site, "router", "prerouting")
    for endpoint in on_port(report, 995):
        assert {"trace.forged_reset", "tcp.refused"} <= codes(endpoint), endpoint
        [found] = forged(endpoint)
        assert found["detail"] == "syn" and found["subject"] == "this machine or the first hop"
        assert "its port 25 answers from hop 2" in found["summary"], found["summary"]
        assert found["place"] is None
    for endpoint in [*on_port(report, 25), *on_port(report, 8140)]:
        assert "tls.pinned" in codes(endpoint), endpoint
    [cause] = report["causes"]
    assert cause["code"] == "trace.forged_reset" and len(cause["endpoints"]) == 6, cause
    assert cause["sentence"]["en"].startswith(
        "A firewall rule on this machine or at the first hop"
    ), cause
    # One scan for the port, beside the server's own hop on 25.
    assert [h["answer"] for h in measured(report)["hops"]] == ["reset"] * 4


def test_with_trace_the_packets_name_the_router_instead(
    site: tuple[Topology, RealVendorSite],
) -> None:
    report = refused(site, "router", "prerouting", "--trace")
    for endpoint in on_port(report, 995):
        # The trace's verdict replaces the place the SYNs gave: one reset, said once.
        assert all(f["detail"] != "syn" for f in forged(endpoint)), endpoint["findings"]
        assert {"trace.forged_reset", "trace.reset_suspect"} & codes(endpoint), endpoint


def test_a_rule_after_routing_ties_with_the_server_without_the_packets(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """The forward hook: a SYN with TTL 1 expires at the router before it is filtered (its
    ICMP names the router), so the resets begin at TTL 2, the server's own hop."""
    report = refused(site, "router", "forward")
    for endpoint in on_port(report, 995):
        assert "tcp.refused" in codes(endpoint) and not forged(endpoint), endpoint
        [found] = [f for f in endpoint["findings"] if f["code"] == "tcp.refused"]
        assert "as far as the server's own hop (2)" in found["summary"], found["summary"]
    first = measured(report)["hops"][0]
    assert first["answer"] == "unreachable" and "ICMP from 198.18.1.1" in first["detail"], first


def test_the_server_refusing_the_port_itself_convicts_no_device(
    site: tuple[Topology, RealVendorSite],
) -> None:
    report = refused(site, "server", "input")
    for endpoint in on_port(report, 995):
        assert "tcp.refused" in codes(endpoint) and not forged(endpoint), endpoint
    assert all(c["code"] == "tcp.refused" for c in report["causes"]), report["causes"]
