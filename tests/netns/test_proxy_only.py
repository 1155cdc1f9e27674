"""A network where only a web proxy goes out: Debian's squid on the router with its stock
rules (CONNECT to 443 only), the vendor's site behind it, and direct traffic from the
gateway to the vendor's ports dropped. netdiag must say that only the proxy goes out, quote
what it answers for each port, and tell the firewall team which direct rule the gateway
needs — and say nothing about proxies where none is configured, or where the direct path
works."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import assert_never_ok_unless_checked
from tests.netns.squid import AUTH, DOWN, OPEN_995, STOCK, Squid
from tests.netns.topology import Topology, require_netns
from tests.netns.vendor import DNS, HOSTS, VendorSite

pytestmark = pytest.mark.netns

TARGETS = [
    *(f"{host}:{port}/{service}" for port, service in ((25, "smtp-starttls"), (995, "pop3s"))
      for host in HOSTS if host.startswith("mail")),
    "atlas79.mydhp.de:8140/tls",
]  # fmt: skip
# The router drops the gateway's direct traffic to the ports in the set (changed per test).
RULES = """
table inet netdiag_test {
    set blocked { type inet_service; elements = { 25, 995, 8140 } }
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip saddr 198.18.1.0/24 tcp dport @blocked drop
    }
}
"""


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Topology, VendorSite, Squid]]:
    require_netns("squid")
    directory = tmp_path_factory.mktemp("proxy_only")
    with (
        Topology(RULES, []) as path,
        VendorSite(path, directory) as vendor,
        Squid(path, tmp_path_factory.mktemp("squid"), DNS) as squid,
    ):
        yield path, vendor, squid


def blocked(path: Topology, ports: set[int]) -> None:
    path.ns(path.router, "nft", "flush", "set", "inet", "netdiag_test", "blocked")
    if ports:
        elements = ", ".join(map(str, sorted(ports)))
        path.ns(path.router, "nft", "add", "element", "inet", "netdiag_test", "blocked",
                f"{{ {elements} }}")  # fmt: skip


def check(
    site: tuple[Topology, VendorSite, Squid], proxy: str | None
) -> tuple[int, dict[str, Any]]:
    path, vendor, _ = site
    args = ["check", "--json", "--no-system-resolver", "--resolver", DNS]
    args += ["--expect-network", "198.18.0.0/15", "--timeout", "2", "--cert", str(vendor.client)]
    for target in TARGETS:
        args += ["--target", target]
    result = path.netdiag(*args, env={"HTTPS_PROXY": proxy} if proxy else None)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return result.returncode, report


def proxy_codes(report: dict[str, Any]) -> dict[str, set[str]]:
    return {
        f"{e['host']}:{e['port']}": {
            f["code"] for f in e["findings"] if f["code"].startswith("proxy.")
        }
        for e in report["endpoints"]
    }


def test_only_the_stock_proxy_goes_out_and_refuses_every_port(
    site: tuple[Topology, VendorSite, Squid],
) -> None:
    path, _, squid = site
    blocked(path, {25, 995, 8140})
    code, report = check(site, squid.proxy(STOCK))
    assert code == 2
    assert all(codes == {"proxy.only_way_out"} for codes in proxy_codes(report).values()), (
        proxy_codes(report)
    )
    first = report["causes"][0]
    assert first["code"] == "proxy.only_way_out" and first["subject"] == f"{squid.address}:{STOCK}"
    assert first["detail"] == "403 Forbidden" and len(first["endpoints"]) == 13
    sentence = first["sentence"]["en"]
    assert sentence.startswith(f"Only the web proxy {squid.address}:{STOCK} goes out")
    assert '"403 Forbidden"' in sentence and "direct rule for TCP 25, 995 and 8140" in sentence
    assert "Nur der Web-Proxy" in first["sentence"]["de"]
    attempt = report["endpoints"][0]["observations"]["proxy_attempts"][0]
    assert attempt["status"] == 403 and attempt["proxy"]["source"] == "HTTPS_PROXY"
    assert report["proxies"]["proxies"][0]["port"] == STOCK


def test_a_proxy_that_tunnels_995_proves_the_path_and_still_asks_for_the_rule(
    site: tuple[Topology, VendorSite, Squid],
) -> None:
    path, _, squid = site
    blocked(path, {25, 995, 8140})
    _, report = check(site, squid.proxy(OPEN_995))
    causes = {(c["code"], c["detail"]): c for c in report["causes"]}
    tunnelled = causes[("proxy.only_way_out", "200 Connection established")]
    assert {label.rsplit(":", 1)[1] for label in tunnelled["endpoints"]} == {"995"}
    refused = causes[("proxy.only_way_out", "403 Forbidden")]
    assert {label.rsplit(":", 1)[1] for label in refused["endpoints"]} == {"25", "8140"}
    pop3 = next(e for e in report["endpoints"] if e["port"] == 995)
    through = pop3["observations"]["proxy_attempts"][0]["through_tunnel"]
    assert through["stopped_at"] == "done" and through["greeting"]["status"] == "+OK"
    assert pop3["status"] == "crit"  # the mail software cannot use the tunnel


def test_a_proxy_that_wants_authentication(site: tuple[Topology, VendorSite, Squid]) -> None:
    path, _, squid = site
    blocked(path, {25, 995, 8140})
    _, report = check(site, squid.proxy(AUTH))
    first = report["causes"][0]
    assert first["code"] == "proxy.only_way_out"
    assert first["detail"] == "407 Proxy Authentication Required"


def test_a_configured_proxy_that_is_down_is_said_and_the_drop_stands(
    site: tuple[Topology, VendorSite, Squid],
) -> None:
    path, _, squid = site
    blocked(path, {25, 995, 8140})
    _, report = check(site, squid.proxy(DOWN))
    assert all(codes == {"proxy.unreachable"} for codes in proxy_codes(report).values())
    assert report["causes"][0]["code"] in ("tcp.filtered", "trace.dropped_after_hop")
    assert any(c["code"] == "proxy.unreachable" for c in report["causes"])


def test_no_proxy_configured_nothing_about_proxies(
    site: tuple[Topology, VendorSite, Squid],
) -> None:
    """Negative twin: the same blocked path without a proxy setting."""
    path, _, _ = site
    blocked(path, {25, 995, 8140})
    _, report = check(site, None)
    assert all(codes == set() for codes in proxy_codes(report).values())
    assert report["proxies"] == {"proxies": [], "pac_urls": [], "remarks": []}
    assert all(e["observations"]["proxy_attempts"] == [] for e in report["endpoints"])


def test_where_the_direct_path_works_the_proxy_is_not_tried(
    site: tuple[Topology, VendorSite, Squid],
) -> None:
    """Negative twin: 995 goes out directly; only 25 and 8140 are blocked, and those are no
    longer "only the proxy goes out" but blocked ports the proxy will not tunnel."""
    path, _, squid = site
    blocked(path, {25, 8140})
    _, report = check(site, squid.proxy(STOCK))
    for endpoint in report["endpoints"]:
        found = {f["code"] for f in endpoint["findings"] if f["code"].startswith("proxy.")}
        if endpoint["port"] == 995:
            assert found == set() and endpoint["observations"]["proxy_attempts"] == []
        else:
            assert found == {"proxy.connect_refused"}, found
