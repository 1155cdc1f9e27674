"""Where STARTTLS goes missing, in real software: the vendor's site in Postfix, Dovecot,
nginx and dnsmasq (`tests.netns.real_site`), and a second Postfix without TLS as the SMTP
proxy that answers in the servers' name — on the router (a firewall's SMTP proxy, one hop
away), or on the gateway itself behind an nftables output redirect (the mail scanning of
security software). Their negative twin: no proxy at all, and the vendor's own Postfix
leaving STARTTLS out of its EHLO reply — the same finding, answered at the server's own
distance, must name no device and no software on this machine."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.conftest import codes
from tests.netns.real_site import PACKAGES, PostfixProxy, RealVendorSite
from tests.netns.test_real_servers import check as real_site_check
from tests.netns.topology import Topology, require_netns

pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("real_servers")]

PROXY_PORT = 10025
TARGETS = ["mail1.dicommail.com:25/smtp-starttls", "mail2.dicommail.com:25/smtp-starttls",
           "mail1.dicommail.com:995/pop3s", "mail2.dicommail.com:995/pop3s"]  # fmt: skip
# The vendor's SMTP goes to the proxy: on the router as it passes, on the gateway as it
# leaves (the proxy itself never connects onwards: it relays nothing).
ON_THE_ROUTER = f"""
table ip netdiag_smtp_proxy {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 198.18.2.0/24 tcp dport 25 redirect to :{PROXY_PORT}
    }}
}}
"""
ON_THE_GATEWAY = ON_THE_ROUTER.replace("prerouting", "output").replace(
    "hook output priority dstnat", "hook output priority -100"
)


def check(path: Topology, site: RealVendorSite, *more: str) -> tuple[int, dict[str, Any]]:
    targets = [arg for t in TARGETS for arg in ("--target", t)]
    return real_site_check(path, site, *targets, *more)


def smtp(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in report["endpoints"] if e["port"] == 25]


def the(endpoint: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in endpoint["findings"] if f["code"] == code)


def assert_pop3s_clean(report: dict[str, Any]) -> None:
    for endpoint in report["endpoints"]:
        if endpoint["port"] == 995:
            assert endpoint["status"] == "ok", endpoint["findings"]
            assert endpoint["observations"]["place"] is None


def answered_from(hops: list[dict[str, Any]], answer: str) -> int | None:
    answered = [h["hop_limit"] for h in hops if h["answer"] == answer]
    return min(answered) if answered else None


def test_an_smtp_proxy_on_the_router_is_a_device_one_hop_away() -> None:
    require_netns(*PACKAGES, packages=PACKAGES)
    with (
        Topology(ON_THE_ROUTER, []) as path,
        RealVendorSite(path) as site,
        PostfixProxy(path, path.router, PROXY_PORT),
    ):
        code, report = check(path, site)
    assert code == 2
    assert_pop3s_clean(report)
    for endpoint in smtp(report):
        assert codes(endpoint) == {"tcp.open", "smtp.starttls_missing"}, endpoint["findings"]
    measured = smtp(report)[0]["observations"]["place"]
    assert measured["experiment"] == "ehlo_hop_limited"
    assert measured["local_peer"] is None and measured["socket_table_problem"] == ""
    # The router's Postfix answers an EHLO that expires there; the vendor's, behind it, the
    # hello to its clean port 995 from hop 2.
    assert answered_from(measured["hops"], "smtp_reply") == 1, measured["hops"]
    assert measured["control_port"] == 995
    assert answered_from(measured["control_hops"], "server_hello") == 2
    assert smtp(report)[1]["observations"]["place"]["measured_on"] == "mail1.dicommail.com:25"
    found = the(smtp(report)[0], "smtp.starttls_missing")
    assert (
        "the SMTP session ends at the first hop (this gateway's router or firewall), before "
        "the server (hop 2): a proxy there" in found["summary"]
    ), found["summary"]
    assert found["place"] == {"hop": 1, "address": ""}
    assert found["remedy"].startswith("An SMTP proxy on the path (the first hop (this gateway")
    [cause] = report["causes"]
    assert cause["code"] == "smtp.starttls_missing" and len(cause["endpoints"]) == 2
    assert cause["sentence"]["en"].startswith(
        "A device at the first hop (this gateway's router or firewall) answers SMTP to "
        "mail1.dicommail.com and mail2.dicommail.com (TCP 25)"
    )
    # The device on the path gets the firewall's SMTP-inspection snippets.
    assert report["remedy_plan"]["smtp_inspection"], report["remedy_plan"]


def test_with_trace_the_proxy_is_named_by_its_address_and_stays_one_cause() -> None:
    """`--trace`: the trace to the clean port 995 names hop 1 (the router); the trace of
    port 25 sees its SYN/ACK from there too (trace.transparent_proxy) — the same device,
    so one cause for both hosts, the one that says what it does."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with (
        Topology(ON_THE_ROUTER, []) as path,
        RealVendorSite(path) as site,
        PostfixProxy(path, path.router, PROXY_PORT),
    ):
        code, report = check(path, site, "--trace")
    assert code == 2
    router = Topology.ROUTER4_C
    assert "trace.transparent_proxy" in codes(smtp(report)[0])
    for endpoint in smtp(report):
        found = the(endpoint, "smtp.starttls_missing")
        assert found["place"] == {"hop": 1, "address": router}, found
    [cause] = report["causes"]
    assert cause["code"] == "smtp.starttls_missing" and len(cause["endpoints"]) == 2
    assert cause["sentence"]["en"].startswith(
        f"A device at the first hop ({router}, this gateway's router or firewall) answers SMTP"
    )


def test_the_servers_own_postfix_without_starttls_names_no_device() -> None:
    """The twin: the same finding from the vendor's own Postfix, nothing on the path."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with (
        Topology("", []) as path,
        RealVendorSite(path, postfix="smtpd_discard_ehlo_keywords = starttls") as site,
    ):
        code, report = check(path, site)
    assert code == 2
    assert_pop3s_clean(report)
    for endpoint in smtp(report):
        assert codes(endpoint) == {"tcp.open", "smtp.starttls_missing"}, endpoint["findings"]
        found = the(endpoint, "smtp.starttls_missing")
        assert found["place"] is None
        assert "the server does not offer STARTTLS, or a device" in found["summary"]
        assert "a proxy there" not in found["summary"]
    measured = smtp(report)[0]["observations"]["place"]
    assert answered_from(measured["hops"], "smtp_reply") == 2, measured["hops"]
    assert answered_from(measured["control_hops"], "server_hello") == 2
    [cause] = report["causes"]
    assert (
        "offer no STARTTLS, and they come from as far away as the servers themselves"
        in (cause["sentence"]["en"])
    ), cause["sentence"]


def test_an_smtp_proxy_on_the_gateway_itself_is_this_machine() -> None:
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path) as site:
        applied = subprocess.run(
            ["ip", "netns", "exec", path.client, "nft", "-f", "-"],
            input=ON_THE_GATEWAY, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        with PostfixProxy(path, path.client, PROXY_PORT):
            code, report = check(path, site)
    assert code == 2
    assert_pop3s_clean(report)
    for endpoint in smtp(report):
        assert codes(endpoint) == {"tcp.open", "smtp.starttls_stripped_locally"}, endpoint[
            "findings"
        ]
        peer = endpoint["observations"]["place"]["local_peer"]
        assert peer["process"].startswith("smtpd (pid "), peer
        assert peer["local_address"] == f"127.0.0.1:{PROXY_PORT}"
    [cause] = report["causes"]
    assert cause["code"] == "smtp.starttls_stripped_locally" and cause["subject"] == "smtpd"
    assert "not in the firewall" in cause["remedy"]
    assert "mail1.dicommail.com:25" in cause["remedy"]
    assert "mail2.dicommail.com:25" in cause["remedy"]
    # Software on the gateway gets no firewall snippet.
    assert not report["remedy_plan"]["smtp_inspection"], report["remedy_plan"]
