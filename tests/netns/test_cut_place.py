"""Every TLS hello on 995 cut, in front of the vendor's site in real software
(`tests.netns.real_site`): by the router (an inline filter that resets every segment with
data to 995, as an intrusion-prevention rule does) — the hop-limited hello is cut at TTL 1
while Postfix answers 25 of the same address from hop 2, so the first hop forges the reset
(`trace.forged_reset`, detail "hello", placed at hop 1); the same rule after routing, which
only the packets (--trace) tell from the server; and the twin, the same rule on the server
itself — cut from TTL 2, the server's own hop, the reset as far away as the SYN/ACK, which
convicts no device."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import codes
from tests.netns.real_site import PACKAGES, RealVendorSite
from tests.netns.test_squid_bump import check
from tests.netns.topology import Topology, nft_table, require_netns

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("real_servers")]

# Resets every segment with data to 995: the ClientHello is the first (POP3S starts with
# TLS). In prerouting, so that a hello whose TTL ends at this hop is inspected too.
RESET_HELLOS = """
table ip netdiag_cut {{
    chain c {{
        type filter hook {hook} priority 0; policy accept;
        {match} tcp dport 995 tcp flags & psh == psh reject with tcp reset
    }}
}}
"""


def cutting(path: Topology, namespace: str, hook: str, match: str) -> AbstractContextManager[None]:
    return nft_table(path, namespace, "netdiag_cut", RESET_HELLOS.format(hook=hook, match=match))


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Topology, RealVendorSite]]:
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path) as vendor:
        yield path, vendor


def on_port(report: dict[str, Any], port: int) -> list[dict[str, Any]]:
    return [e for e in report["endpoints"] if e["port"] == port]


def test_a_router_resetting_every_hello_is_the_first_hop_not_the_server(
    site: tuple[Topology, RealVendorSite],
) -> None:
    path, vendor = site
    with cutting(path, path.router, "prerouting", "ip daddr 198.18.2.0/24"):
        code, report = check(path, vendor)
    assert code == 2
    for endpoint in on_port(report, 995):
        assert {"trace.forged_reset", "tls.handshake_failed"} <= codes(endpoint), endpoint
        [forged] = [f for f in endpoint["findings"] if f["code"] == "trace.forged_reset"]
        assert forged["place"] == {"hop": 1, "address": ""}, forged
        assert forged["detail"] == "hello" and forged["subject"] == "the first hop"
        assert "its port 25 answers from hop 2" in forged["summary"], forged["summary"]
    for endpoint in [*on_port(report, 25), *on_port(report, 8140)]:
        assert "tls.pinned" in codes(endpoint), endpoint
    [cause] = report["causes"]
    assert cause["code"] == "trace.forged_reset" and len(cause["endpoints"]) == 6, cause
    assert cause["sentence"]["en"].startswith("A device at the first hop"), cause


def test_a_router_that_counts_its_hop_first_is_told_apart_by_the_packets(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """The same rule after routing (the forward hook): a hello with TTL 1 expires at the
    router before it is inspected, so the hop-limited hellos are cut from TTL 2 — the
    server's own hop: not a conviction. With --trace the reset's IP TTL (64, sent by the
    first hop) against the SYN/ACK's (63, two hops) names the router."""
    path, vendor = site
    with cutting(path, path.router, "forward", "ip daddr 198.18.2.0/24"):
        code, traced = check(path, vendor, "--trace")
    assert code == 2
    for endpoint in on_port(traced, 995):
        [failed] = [f for f in endpoint["findings"] if f["code"] == "tls.handshake_failed"]
        # The hellos' TTLs alone: cut from the server's own hop on.
        assert "or a firewall one hop nearer" in failed["summary"], failed["summary"]
        [forged] = [f for f in endpoint["findings"] if f["code"] == "trace.forged_reset"]
        assert forged["place"] == {"hop": 1, "address": ""}, forged
        assert "IP TTL 64 (sent 1 hop away)" in "\n".join(forged["evidence"]), forged
    readings = [e["observations"]["cut_sender"] for e in on_port(traced, 995)]
    # One reading for the port, the others share it.
    assert [r["cut_ttl"] for r in readings if r] == [64], readings
    [cause] = traced["causes"]
    assert cause["code"] == "trace.forged_reset" and len(cause["endpoints"]) == 6, cause


def test_the_server_resetting_every_hello_itself_convicts_no_device(
    site: tuple[Topology, RealVendorSite],
) -> None:
    path, vendor = site
    with cutting(path, path.server, "input", "ip daddr 198.18.2.0/24"):
        code, report = check(path, vendor, "--trace")
    assert code == 2
    for endpoint in on_port(report, 995):
        assert "tls.handshake_failed" in codes(endpoint), endpoint
        assert "trace.forged_reset" not in codes(endpoint), endpoint
        [failed] = [f for f in endpoint["findings"] if f["code"] == "tls.handshake_failed"]
        assert "as far as the server's own hop (2)" in failed["summary"], failed["summary"]
        assert "the peer that accepted the connection cut it" in failed["evidence"][-1]
    assert all(c["code"] != "trace.forged_reset" for c in report["causes"]), report["causes"]
