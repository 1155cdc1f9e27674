"""A real TLS interception proxy as many hospitals run it: Debian's Squid (squid-openssl)
on the router, intercepting 995 and 8140 (not 25) with SslBump in front of the vendor's
site in real software (`tests.netns.real_site`). Three of its rule sets, one world each:
bump (forges with its own CA), splice (passes the handshake through: the healthy twin) and
terminate by server name (an SNI filter that answers a name not of the address with an
HTTP error of its own — host verification — so that only the nameless hello splits it), and
terminate all (every hello closed at the first hop: placed by the hop-limited hello).
And one world where the router sends 25 to Squid as well: Squid waits for a ClientHello
there, so Postfix's banner never comes, and the hello netdiag sends at once names it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import IN_CI, assert_never_ok_unless_checked, codes
from tests.netns.real_site import PACKAGES, RealVendorSite
from tests.netns.squid import BUMP_PORT, SquidBump, bump_redirect, has_ssl_bump
from tests.netns.topology import Topology, require_netns
from tests.netns.vendor import DNS

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("real_servers")]


def check(path: Topology, site: RealVendorSite, *more: str) -> tuple[int, dict[str, Any]]:
    args = ["check", "--json", "--no-system-resolver", "--resolver", DNS, "--timeout", "3"]
    args += ["--expect-network", "198.18.0.0/15", "--cert", str(site.client)]
    result = path.netdiag(*args, "--pins", str(site.pins), *more, timeout=120)
    assert result.stdout, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return result.returncode, report


def by_code(report: dict[str, Any]) -> dict[str, set[str]]:
    """Per endpoint ("host:port"), its finding codes."""
    return {f"{e['host']}:{e['port']}": codes(e) for e in report["endpoints"]}


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Topology, RealVendorSite]]:
    require_netns("squid", "openssl", *PACKAGES, packages={**PACKAGES, "squid": "squid-openssl"})
    if not has_ssl_bump():
        reason = "needs Squid with SslBump (Debian package squid-openssl)"
        if IN_CI:
            pytest.fail(f"{reason}, and CI=true must run every test")
        pytest.skip(reason)
    with Topology(bump_redirect((995, 8140)), []) as path, RealVendorSite(path) as vendor:
        yield path, vendor


@pytest.mark.parametrize(
    "rules",
    # Bumped on the client's hello alone (a certificate for the SNI), and server-first:
    # Squid stares at the server's handshake and mimics its certificate (subject, names).
    ["ssl_bump bump all", "ssl_bump stare step2\nssl_bump bump all"],
    ids=["client-first", "mimicking the server"],
)
def test_squid_bumping_995_and_8140_is_named_and_25_is_not_touched(
    site: tuple[Topology, RealVendorSite], rules: str
) -> None:
    path, vendor = site
    with SquidBump(path, rules) as squid:
        code, report = check(path, vendor)
        bumped = squid.log("access.log")
    found = by_code(report)
    assert code == 2, report["causes"]
    for endpoint, endpoint_codes in found.items():
        if endpoint.endswith(":25"):
            assert "tls.pinned" in endpoint_codes and "tls.intercepted" not in endpoint_codes
        else:
            assert "tls.intercepted" in endpoint_codes, (endpoint, endpoint_codes)
    assert "CONNECT 198.18.2.17:8140" in bumped  # Squid's own record of the bump
    [cause] = report["causes"]
    assert cause["code"] == "tls.intercepted", report["causes"]
    intercepted = [
        f for e in report["endpoints"] for f in e["findings"] if f["code"] == "tls.intercepted"
    ]
    assert {f["subject"] for f in intercepted} == {"Squid"}
    # At the router (hop 1), the server one further: measured, not assumed.
    assert all(f["place"] == {"hop": 1, "address": ""} for f in intercepted), intercepted


def test_squid_splicing_everything_is_a_healthy_path(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """The same Squid in the same place, peeking at every hello and passing it through:
    nothing may convict it."""
    path, vendor = site
    with SquidBump(path, "ssl_bump splice all") as squid:
        code, report = check(path, vendor)
        spliced = squid.log("access.log")
    assert "TCP_TUNNEL/" in spliced  # it was in the path
    assert code == 0, report["causes"]
    for endpoint, endpoint_codes in by_code(report).items():
        assert "tls.pinned" in endpoint_codes, (endpoint, endpoint_codes)


def test_squid_terminating_two_names_is_an_sni_filter_on_those_two(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """Squid closes the handshakes that name mail3 and atlas79; the nameless hello it
    splices (the server answers); the other vendor name it answers with an HTTP 409 of its
    own (that name does not resolve to this address). Only those two endpoints, and mail3's
    25 (not redirected) stays clean."""
    path, vendor = site
    rules = "ssl_bump terminate blocked_names\nssl_bump splice all"
    with SquidBump(path, rules, blocked="mail3.dicommail.com atlas79.mydhp.de") as squid:
        code, report = check(path, vendor)
        log = squid.log("access.log")
    assert "NONE_NONE/409" in log  # the other name, refused by host verification
    found = by_code(report)
    filtered = sorted(e for e, c in found.items() if "tls.sni_filtered" in c)
    assert filtered == ["atlas79.mydhp.de:8140", "mail3.dicommail.com:995"], found
    for endpoint, endpoint_codes in found.items():
        if endpoint not in filtered:
            assert "tls.pinned" in endpoint_codes, (endpoint, endpoint_codes)
    # One filter: one cause, with both names.
    [cause] = report["causes"]
    assert code == 2 and cause["code"] == "tls.sni_filtered", report["causes"]
    assert sorted(cause["endpoints"]) == filtered, cause
    [finding] = [
        f
        for e in report["endpoints"]
        if e["host"] == "mail3.dicommail.com" and e["port"] == 995
        for f in e["findings"]
        if f["code"] == "tls.sni_filtered"
    ]
    assert "answers a handshake without a name" in finding["summary"], finding["summary"]


def test_squid_terminating_every_hello_is_placed_at_the_first_hop(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """Squid closes every handshake it intercepts (`ssl_bump terminate all`): on 995 the
    hop-limited hello is closed at TTL 1 while Postfix answers 25 of the same address from
    hop 2 — the first hop cuts the handshakes in the servers' name. atlas79 has no clean
    port to tell the server's hop: its symptom stays, nothing convicted there."""
    path, vendor = site
    with SquidBump(path, "ssl_bump terminate all"):
        code, report = check(path, vendor)
    found = by_code(report)
    assert code == 2
    for endpoint, endpoint_codes in found.items():
        if endpoint.endswith(":995"):
            assert "trace.forged_reset" in endpoint_codes, (endpoint, endpoint_codes)
        elif endpoint.endswith(":8140"):
            assert "tls.handshake_failed" in endpoint_codes, (endpoint, endpoint_codes)
            assert "trace.forged_reset" not in endpoint_codes, (endpoint, endpoint_codes)
        else:
            assert "tls.pinned" in endpoint_codes, (endpoint, endpoint_codes)
    forged = [
        f for e in report["endpoints"] for f in e["findings"] if f["code"] == "trace.forged_reset"
    ]
    assert all(f["place"] == {"hop": 1, "address": ""} for f in forged), forged
    assert all("cut (closed)" in f["summary"] for f in forged), forged


@contextmanager
def also_redirecting_25(path: Topology) -> Iterator[None]:
    """The router sends 25 to Squid too, for the test's duration; then the rule goes."""
    rule = f'ip daddr 198.18.2.0/24 tcp dport 25 redirect to :{BUMP_PORT} comment "port25"'
    chain = ("ip", "netdiag_intercept", "prerouting")
    path.ns(path.router, "sh", "-c", f"nft add rule {' '.join(chain)} {rule}")
    try:
        yield
    finally:
        listed = path.ns(path.router, "nft", "-a", "list", "chain", *chain).stdout
        handle = next(line for line in listed.splitlines() if "port25" in line).split()[-1]
        path.ns(path.router, "nft", "delete", "rule", *chain, "handle", handle)


def test_squid_bumping_25_too_is_named_there_by_the_hello_at_once(
    site: tuple[Topology, RealVendorSite],
) -> None:
    path, vendor = site
    with also_redirecting_25(path), SquidBump(path, "ssl_bump bump all"):
        code, report = check(path, vendor)
    found = by_code(report)
    assert code == 2, report["causes"]
    for endpoint, endpoint_codes in found.items():
        assert "tls.intercepted" in endpoint_codes, (endpoint, endpoint_codes)
    smtp = [e for e in report["endpoints"] if e["port"] == 25]
    assert len(smtp) == 6
    for endpoint in smtp:
        (intercepted,) = [f for f in endpoint["findings"] if f["code"] == "tls.intercepted"]
        assert intercepted["evidence"][0].startswith("no SMTP banner within the timeout")
        assert intercepted["subject"] == "Squid" and intercepted["place"] == {
            "hop": 1,
            "address": "",
        }, intercepted
    # One device, one cause, every port of it: 25 with the others.
    [cause] = report["causes"]
    assert cause["code"] == "tls.intercepted" and len(cause["endpoints"]) == 13, cause


def test_squid_as_a_transparent_web_proxy_is_named_on_every_port(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """The router sends 25, 995 and 8140 to an intercepting HTTP port of Squid (no TLS at
    all): it answers a ClientHello with its own `400 Bad Request`, and holds port 25's
    banner back waiting for a request. The hello read raw names it: a web proxy in the
    servers' place (`trace.transparent_proxy`, Squid by its Server header), one cause; the
    twin is the site without it (test_real_servers: clean)."""
    path, vendor = site
    with also_redirecting_25(path), SquidBump(path, "", http=True, tunnel=False) as squid:
        code, report = check(path, vendor)
        log = squid.log("access.log")
    assert "error:invalid-request" in log or "NONE_NONE/400" in log, log[-600:]
    assert code == 2, report["causes"]
    for endpoint, endpoint_codes in by_code(report).items():
        assert "trace.transparent_proxy" in endpoint_codes, (endpoint, endpoint_codes)
        assert "tls.handshake_failed" not in endpoint_codes, (endpoint, endpoint_codes)
    [cause] = report["causes"]
    assert cause["code"] == "trace.transparent_proxy" and cause["subject"] == "Squid", cause
    assert len(cause["endpoints"]) == 13, cause
    assert cause["place"] == {"hop": 1, "address": ""}, cause  # measured, not assumed
    assert cause["sentence"]["en"].startswith(
        "A web proxy (Squid) at the first hop (this gateway's router or firewall) answers TCP "
        "25, 995 and 8140"
    ), cause


def test_squid_tunnelling_what_is_not_http_holds_25s_banner_and_convicts_nothing(
    site: tuple[Topology, RealVendorSite],
) -> None:
    """The same transparent web proxy passing what is not HTTP through to the server
    (`on_unsupported_protocol tunnel`): TLS on 995 and 8140 reaches the vendor's servers
    (the twin: a proxy in the path that changes nothing must not convict), and on 25 it
    waits for the client's first bytes, so the banner comes only once the client spoke —
    said as such in the missing banner's evidence, no transparent proxy convicted."""
    path, vendor = site
    with also_redirecting_25(path), SquidBump(path, "", http=True):
        code, report = check(path, vendor)
    assert code == 2, report["causes"]
    for endpoint, endpoint_codes in by_code(report).items():
        assert "trace.transparent_proxy" not in endpoint_codes, (endpoint, endpoint_codes)
        if endpoint.endswith(":25"):
            assert "smtp.slow_banner" in endpoint_codes, (endpoint, endpoint_codes)
        else:
            assert "tls.pinned" in endpoint_codes, (endpoint, endpoint_codes)
    for endpoint in (e for e in report["endpoints"] if e["port"] == 25):
        (late,) = [f for f in endpoint["findings"] if f["code"] == "smtp.slow_banner"]
        assert "the server's banner, sent only once the client spoke" in late["evidence"][-1]
