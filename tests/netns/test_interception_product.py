"""A real TLS interception product on a real path: Debian's sslsplit on the router,
forging with its own CA (`autossl` for STARTTLS on 25), in front of the vendor's servers
that require the client certificate — at the concurrency of a full check of all 13
endpoints. And a firewall with a per-destination session-rate limit: netdiag's own
connections must never cause the finding it reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.netns.topology import Topology, require_netns
from tests.netns.vendor import DNS, HOSTS, Sslsplit, VendorSite, redirect_rules

pytestmark = pytest.mark.netns

TARGETS = [
    *(f"{host}:{port}/{service}" for port, service in ((25, "smtp-starttls"), (995, "pop3s"))
      for host in HOSTS if host.startswith("mail")),
    "atlas79.mydhp.de:8140/tls",
]  # fmt: skip


def check(path: Topology, site: VendorSite, *extra: str) -> tuple[int, dict[str, Any]]:
    args = ["check", "--json", "--no-system-resolver", "--resolver", DNS]
    args += ["--expect-network", "198.18.0.0/15", "--timeout", "3", "--cert", str(site.client)]
    for target in TARGETS:
        args += ["--target", target]
    result = path.netdiag(*args, *extra)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return result.returncode, report


def attempts(endpoint: dict[str, Any]) -> list[tuple[str, str]]:
    """What each protocol attempt of an endpoint ran into: for the failure messages."""
    return [(a["stopped_at"], a["failure_detail"]) for a in endpoint["observations"]["attempts"]]


def by_port(report: dict[str, Any], port: int) -> list[dict[str, Any]]:
    return [e for e in report["endpoints"] if e["port"] == port]


@pytest.fixture(scope="module")
def port25(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Topology, VendorSite]]:
    require_netns("sslsplit")
    directory = tmp_path_factory.mktemp("sslsplit25")
    with (
        Topology(redirect_rules((25,)), []) as path,
        VendorSite(path, directory) as site,
        Sslsplit(path, directory),
    ):
        yield path, site


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Topology, VendorSite]]:
    require_netns("sslsplit")
    directory = tmp_path_factory.mktemp("sslsplit_all")
    with (
        Topology(redirect_rules((25, 995, 8140)), []) as path,
        VendorSite(path, directory) as site,
        Sslsplit(path, directory),
    ):
        yield path, site


@pytest.mark.parametrize("with_pins", [False, True], ids=["no pins", "pins"])
def test_only_25_intercepted_convicts_25_and_nothing_else(
    port25: tuple[Topology, VendorSite], with_pins: bool
) -> None:
    """The vendor's genuine leaf was issued an hour ago: a renewal must not look like
    inspection, and the other chain on 995 must count against 25, never against 995."""
    path, site = port25
    code, report = check(path, site, *(("--pins", str(site.pins)) if with_pins else ()))
    assert code == 2
    for endpoint in by_port(report, 25):
        assert "tls.intercepted" in codes(endpoint), attempts(endpoint)
        assert endpoint["status"] == "crit"
    for endpoint in by_port(report, 995) + by_port(report, 8140):
        assert "tls.intercepted" not in codes(endpoint), endpoint["findings"]
        assert endpoint["observations"]["protocol"]["stopped_at"] == "done"
        if with_pins:
            assert endpoint["status"] == "ok" and "tls.pinned" in codes(endpoint)
        else:
            # Not verified, but its server asked for the gateway's certificate and completed
            # the protocol with it: said (info), not warned about.
            assert endpoint["status"] == "ok" and "tls.unpinned" in codes(endpoint)
    if not with_pins:
        # An endpoint whose own chain was shown (sslsplit, crashing under load, cuts some
        # sessions before its certificate: those are "likely the same device").
        intercepted = next(
            f
            for e in by_port(report, 25)
            for f in e["findings"]
            if f["code"] == "tls.intercepted" and "likely" not in f["summary"]
        )
        evidence = "\n".join(intercepted["evidence"])
        assert "did not ask for a client certificate" in evidence
        assert ":995 presents another chain" in evidence
    # The answer first: one cause for port 25 on all six hosts, 995 and 8140 work.
    first = report["causes"][0]
    assert first["code"] == "tls.intercepted" and first["severity"] == "crit"
    covered = {label.rsplit(":", 1)[1] for label in first["endpoints"] + first["likely"]}
    assert covered == {"25"} and len(first["endpoints"] + first["likely"]) == 6
    assert "intercepts TCP 25 to mail" in first["sentence"]["en"]
    assert all(c["code"] != "tls.intercepted" for c in report["causes"][1:])


@pytest.mark.parametrize("run", [1, 2, 3], ids=["run 1", "run 2", "run 3"])
def test_everything_intercepted_is_named_run_after_run(
    everything: tuple[Topology, VendorSite], run: int
) -> None:
    path, site = everything
    code, report = check(path, site, *(("--pins", str(site.pins)) if run % 2 else ()))
    assert code == 2
    assert all(e["status"] == "crit" for e in report["endpoints"]), [
        (e["host"], e["port"], codes(e)) for e in report["endpoints"]
    ]
    named = [e for e in report["endpoints"] if "tls.intercepted" in codes(e)]
    assert len(named) >= 11, [(e["host"], e["port"], attempts(e)) for e in report["endpoints"]]


# One new connection a minute per server address and port; the SYNs over it are reset.
PER_DESTINATION = (
    "tcp flags & (syn | ack) == syn "
    "meter per_destination { ip daddr . tcp dport limit rate over 1/minute burst 1 packets } "
    "reject with tcp reset"
)
RATE_LIMIT = f"""
table inet netdiag_ratelimit {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        {PER_DESTINATION}
    }}
}}
"""


def test_a_session_rate_limit_sees_one_connection_per_endpoint(tmp_path: Path) -> None:
    """One new connection a minute per server and port, the rest reset: a full check
    passes, because it opens one connection per endpoint address; a second check within
    the minute is refused, which shows the limit is real (the negative twin)."""
    require_netns()
    with Topology(RATE_LIMIT, []) as path, VendorSite(path, tmp_path) as site:
        code, report = check(path, site, "--pins", str(site.pins))
        assert code == 0, [(e["host"], e["port"], codes(e)) for e in report["endpoints"]]
        assert all(len(e["observations"]["attempts"]) == 1 for e in report["endpoints"])
        again, second = check(path, site, "--pins", str(site.pins))
    assert again == 2
    assert all("tcp.refused" in codes(e) for e in second["endpoints"])
