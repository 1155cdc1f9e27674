"""Two clocks, end to end: netdiag runs under a shifted clock (Debian's faketime, which
works with CPython) against servers whose HTTP `Date` is right. A certificate valid by the
servers' time and not by this machine's is this machine's clock — with pins, with --ca,
with neither — never the vendor's CA; minutes off is a warning; no Date or a garbage one
and a right clock say nothing about clocks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, assert_never_ok_unless_checked
from tests.integration.tls_fixtures import serving, vendor_pins
from tests.servers.dns import DnsServer
from tests.servers.mail import HttpsHandler, TlsPolicy, server_context
from tests.servers.pki import Pki, leaf_cert, make_pki

ATLAS = "atlas79.mydhp.de"
REQUIRED = TlsPolicy()
REPO = Path(__file__).resolve().parents[2]


def require_faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        reason = "needs faketime (Debian package faketime)"
        if IN_CI:
            pytest.fail(f"{reason}, and CI=true must run every test")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def pki() -> Pki:
    """The vendor's PKI with a server certificate valid for a year from an hour ago."""
    base = make_pki()
    now = dt.datetime.now(dt.UTC)
    leaf = leaf_cert(
        base.issuing, ATLAS, "mail1.dicommail.com", common_name=ATLAS,
        not_before=now - dt.timedelta(hours=1), not_after=now + dt.timedelta(days=365),
    )  # fmt: skip
    return dataclasses.replace(base, server=leaf)


@pytest.fixture(scope="module")
def files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("clock")
    (directory / "none.toml").write_text('format = "netdiag.pins/1"\n', "utf-8")
    return {
        "pins": vendor_pins(pki, directory),
        "ca": pki.ca_pem(directory),
        "none": directory / "none.toml",
        "client": pki.client_pem(directory),
    }


def shifted(shift: str, dns_server: DnsServer, port: int, *extra: str) -> tuple[int, Any]:
    """`netdiag check --json` under faketime's `shift` (e.g. +400d), in a process of its own."""
    faketime = require_faketime()
    command = [
        faketime, "-f", shift, sys.executable, "-m", "netdiag", "check", "--json",
        "--no-system-resolver", "--resolver", dns_server.spec, "--expect-network", "127.0.0.0/8",
        "--timeout", "3", "--target", f"{ATLAS}:{port}/tls", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    assert_never_ok_unless_checked(report)
    return done.returncode, report


def endpoint_codes(report: Any) -> set[str]:
    return {f["code"] for f in report["endpoints"][0]["findings"]}


def local_codes(report: Any) -> set[str]:
    return {f["code"] for f in report["local"]["findings"]}


@pytest.mark.parametrize(
    ("proof", "verdict"),
    [("pins", "tls.pinned"), ("ca", "tls.verified"), ("neither", "tls.unpinned")],
)
def test_a_clock_a_year_and_more_ahead_is_the_cause_not_the_vendor(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], proof: str, verdict: str
) -> None:
    extra = {
        "pins": ["--pins", str(files["pins"])],
        "ca": ["--pins", str(files["none"]), "--ca", str(files["ca"])],
        "neither": ["--pins", str(files["none"])],
    }[proof]
    with serving(HttpsHandler(server_context(pki, REQUIRED), REQUIRED)) as server:
        code, report = shifted(
            "+400d", dns_server, server.port, *extra, "--cert", str(files["client"])
        )
    found = endpoint_codes(report)
    assert {verdict, "clock.offset"} <= found, found
    assert not found & {"tls.untrusted", "tls.server_cert_expired", "tls.intercepted"}, found
    [cause] = [c for c in report["causes"] if c["code"] == "clock.offset"]
    assert "400 days ahead of the servers' time" in cause["sentence"]["en"]
    assert "HTTP Date of atlas79.mydhp.de" in cause["sentence"]["en"]
    assert "w32tm" in cause["remedy"]
    assert code == 2


def test_minutes_off_are_a_warning_and_break_nothing(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    with serving(HttpsHandler(server_context(pki, REQUIRED), REQUIRED)) as server:
        code, report = shifted(
            "+10m",
            dns_server,
            server.port,
            "--pins",
            str(files["pins"]),
            "--cert",
            str(files["client"]),
        )
    assert "tls.pinned" in endpoint_codes(report) and "clock.offset" not in endpoint_codes(report)
    [clock] = [f for f in report["local"]["findings"] if f["code"] == "clock.offset"]
    assert clock["severity"] == "warn" and "ahead of" in clock["summary"]
    assert code == 1


@pytest.mark.parametrize("shift", ["+0s", "-2m"])
def test_a_right_clock_says_nothing_about_clocks(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], shift: str
) -> None:
    with serving(HttpsHandler(server_context(pki, REQUIRED), REQUIRED)) as server:
        code, report = shifted(
            shift,
            dns_server,
            server.port,
            "--pins",
            str(files["pins"]),
            "--cert",
            str(files["client"]),
        )
    assert "clock.offset" not in endpoint_codes(report) | local_codes(report)
    assert "tls.pinned" in endpoint_codes(report) and code == 0


@pytest.mark.parametrize("date", ["", "sometime next week", "Wed, 31 Feb 1789 99:99:99 GMT"])
def test_no_date_or_a_garbage_one_is_no_clock(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], date: str
) -> None:
    """Without the servers' word, this machine's clock is all there is: a right clock
    stays clean, a far-off one sees the certificate expired — and says no server stated
    its time."""
    handler = HttpsHandler(server_context(pki, REQUIRED), REQUIRED, date=date)
    with serving(handler) as server:
        code, report = shifted(
            "+0s",
            dns_server,
            server.port,
            "--pins",
            str(files["pins"]),
            "--cert",
            str(files["client"]),
        )
        assert "clock.offset" not in endpoint_codes(report) | local_codes(report)
        assert code == 0
        code, report = shifted(
            "+400d",
            dns_server,
            server.port,
            "--pins",
            str(files["pins"]),
            "--cert",
            str(files["client"]),
        )
    found = endpoint_codes(report)
    assert "tls.server_cert_expired" in found and "clock.offset" not in found, found
    expired = next(
        f for f in report["endpoints"][0]["findings"] if f["code"] == "tls.server_cert_expired"
    )
    assert "no server stated its time" in expired["summary"]
    assert code == 2


def test_the_client_certificate_valid_by_the_servers_clock_is_no_expired_certificate(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], tmp_path: Path
) -> None:
    """A client certificate valid for a year, the clock 400 days ahead: not `cert.expired`
    (the vendor would be asked for a new one for nothing) but this machine's clock."""
    now = dt.datetime.now(dt.UTC)
    client = leaf_cert(
        pki.issuing, "gateway.hospital.example", common_name="gateway.hospital.example",
        not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
    )  # fmt: skip
    pem = tmp_path / "client.pem"
    pem.write_bytes(client.cert_chain_pems[0].bytes() + client.private_key_pem.bytes())
    with serving(HttpsHandler(server_context(pki, REQUIRED), REQUIRED)) as server:
        _, report = shifted(
            "+400d", dns_server, server.port, "--pins", str(files["pins"]), "--cert", str(pem)
        )
    local = local_codes(report)
    assert "clock.offset" in local and "cert.expired" not in local, local
