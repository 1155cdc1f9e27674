"""Where the interceptor sits, with a real one: Debian's sslsplit intercepting 995 only, once
on the router (a device on the path, one hop away) and once on the gateway itself behind an
nftables output redirect (software on this machine, as endpoint security redirects a
connection to its local proxy). Each world is the other's negative twin: the router's
sslsplit must never read as this machine's, the local one never as a device on the path. The
router intercepts one port (995, or 25 after STARTTLS): the other port of the same host is
clean, gets no place measurement, stays proven, and shows where the server itself answers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.netns.topology import Topology, require_netns
from tests.netns.vendor import DNS, TLS_SPLIT, Sslsplit, VendorSite, redirect_rules

pytestmark = pytest.mark.netns

TARGETS = ["mail1.dicommail.com:25/smtp-starttls", "mail1.dicommail.com:995/pop3s",
           "mail2.dicommail.com:995/pop3s"]  # fmt: skip

# On the gateway: its own outgoing connections to the vendor's 995 go to the local sslsplit
# (which runs as nobody once it listens: its own upstream connections are left alone).
LOCAL_REDIRECT = f"""
table ip netdiag_local_intercept {{
    chain output {{
        type nat hook output priority -100; policy accept;
        meta skuid != 65534 ip daddr 198.18.2.0/24 tcp dport 995 redirect to :{TLS_SPLIT}
    }}
}}
"""


def check(path: Topology, site: VendorSite, *more: str) -> tuple[int, dict[str, Any]]:
    args = ["check", "--json", *more, "--no-system-resolver", "--resolver", DNS, "--timeout", "3"]
    args += ["--expect-network", "198.18.0.0/15", "--cert", str(site.client)]
    args += ["--pins", str(site.pins)]
    for target in TARGETS:
        args += ["--target", target]
    result = path.netdiag(*args)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return result.returncode, report


def check_steady(
    path: Topology, site: VendorSite, splitter: Sslsplit, *more: str
) -> tuple[int, dict[str, Any]]:
    """The check, once more if sslsplit crashed under it (0.5.5 aborts now and then under
    load, and its supervisor restarts it): the connections it dropped met another world —
    a restarting interceptor, which tests/netns/test_place_scan_cut.py is about — than the
    one these tests describe."""
    before = splitter.restarts
    code, report = check(path, site, *more)
    if splitter.restarts != before:
        code, report = check(path, site, *more)
    return code, report


def endpoint(report: dict[str, Any], host: str, port: int) -> dict[str, Any]:
    return next(e for e in report["endpoints"] if e["host"] == host and e["port"] == port)


def answered_from(hops: list[dict[str, Any]]) -> int | None:
    answered = [h["hop_limit"] for h in hops if h["answer"] in ("server_hello", "alert")]
    return min(answered) if answered else None


def said(hops: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    """What each hop-limited hello got, for a failure's message."""
    return [(h["hop_limit"], h["answer"], h["detail"], h["elapsed_ms"]) for h in hops]


def assert_clean(report: dict[str, Any], host: str, port: int) -> None:
    clean = endpoint(report, host, port)
    assert clean["status"] == "ok" and "tls.pinned" in codes(clean), clean["findings"]
    assert clean["observations"]["place"] is None


@pytest.mark.parametrize(
    ("port", "clean_port"), [(995, 25), (25, 995)], ids=["POP3S", "SMTP STARTTLS"]
)
def test_an_interceptor_on_the_router_is_a_device_one_hop_away(
    tmp_path: Path, port: int, clean_port: int
) -> None:
    require_netns("sslsplit")
    with (
        Topology(redirect_rules((port,)), []) as path,
        VendorSite(path, tmp_path) as site,
        Sslsplit(path, tmp_path) as splitter,
    ):
        code, report = check_steady(path, site, splitter)
    assert code == 2
    intercepted = [e for e in report["endpoints"] if e["port"] == port]
    for found in report["endpoints"]:
        if found["port"] != port:
            assert_clean(report, found["host"], found["port"])
    for found in intercepted:
        assert "tls.intercepted" in codes(found), found["findings"]
        assert "tls.intercepted_locally" not in codes(found)
        place = found["observations"]["place"]
        assert place["local_peer"] is None and place["socket_table_problem"] == ""
    measured = endpoint(report, "mail1.dicommail.com", port)["observations"]["place"]
    # sslsplit answers a hello that expires at the router (on 25 after the STARTTLS
    # dialogue); the server, behind it, does not.
    assert answered_from(measured["hops"]) == 1, said(measured["hops"])
    assert measured["control_port"] == clean_port
    assert answered_from(measured["control_hops"]) == 2
    finding = next(
        f for f in endpoint(report, "mail1.dicommail.com", port)["findings"]
        if f["code"] == "tls.intercepted"
    )  # fmt: skip
    assert "the forged answer comes from the first hop" in finding["summary"]
    assert "the server at hop 2" in finding["summary"]
    if port == 995:
        shared = endpoint(report, "mail2.dicommail.com", 995)["observations"]["place"]
        assert shared["measured_on"] == "mail1.dicommail.com:995"
    first = report["causes"][0]
    assert first["code"] == "tls.intercepted" and "on the firewall" in first["remedy"]
    assert "at the first hop (this gateway's router or firewall)" in first["sentence"]["en"]


def test_with_trace_the_device_is_named_by_its_address(tmp_path: Path) -> None:
    """`--trace`: the trace to the clean port 25 shows who answers TTL 1 with time-exceeded
    — the router that runs sslsplit on 995; the endpoint sharing the measurement (mail2)
    gets the same address, so the cause stays one."""
    require_netns("sslsplit")
    with (
        Topology(redirect_rules((995,)), []) as path,
        VendorSite(path, tmp_path) as site,
        Sslsplit(path, tmp_path) as splitter,
    ):
        code, report = check_steady(path, site, splitter, "--trace")
    assert code == 2
    router = Topology.ROUTER4_C
    for host in ("mail1.dicommail.com", "mail2.dicommail.com"):
        found = next(
            f for f in endpoint(report, host, 995)["findings"] if f["code"] == "tls.intercepted"
        )
        assert (
            f"the forged answer comes from the first hop ({router}, this gateway's router or "
            "firewall)" in found["summary"]
        ), found["summary"]
    assert_clean(report, "mail1.dicommail.com", 25)
    # The trace of the intercepted port agrees: its SYN/ACK comes from before the server.
    assert "trace.transparent_proxy" in codes(endpoint(report, "mail1.dicommail.com", 995))
    [first] = [c for c in report["causes"] if c["code"] == "tls.intercepted"]
    assert len(first["endpoints"]) == 2, first
    assert (
        f"at the first hop ({router}, this gateway's router or firewall)"
        in (first["sentence"]["en"])
    )


def test_an_interceptor_on_the_gateway_itself_is_this_machine(tmp_path: Path) -> None:
    require_netns("sslsplit")
    with (
        Topology("", []) as path,
        VendorSite(path, tmp_path) as site,
        Sslsplit(path, tmp_path, namespace=path.client) as splitter,
    ):
        applied = subprocess.run(
            ["ip", "netns", "exec", path.client, "nft", "-f", "-"],
            input=LOCAL_REDIRECT, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        code, report = check_steady(path, site, splitter)
    assert code == 2
    assert_clean(report, "mail1.dicommail.com", 25)
    for host in ("mail1.dicommail.com", "mail2.dicommail.com"):
        local = endpoint(report, host, 995)
        assert "tls.intercepted_locally" in codes(local), local["findings"]
        assert "tls.intercepted" not in codes(local)
        peer = local["observations"]["place"]["local_peer"]
        assert peer["process"].startswith("sslsplit (pid ")
        assert peer["local_address"] == f"127.0.0.1:{TLS_SPLIT}"
    first = report["causes"][0]
    assert first["code"] == "tls.intercepted_locally" and first["subject"] == "sslsplit"
    assert "not in the firewall" in first["remedy"]
    assert "mail1.dicommail.com:995" in first["remedy"]
    assert "mail2.dicommail.com:995" in first["remedy"]
