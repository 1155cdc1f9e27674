"""Failures outside one endpoint's probe are that step's note or finding, and the rest of
the report stands: an odd certificate in the machine's trust store, a DNS query, reading
the client certificate's details, the host checks and a trace that break inside netdiag
(the bugs are injected; everything else is real: servers, certificates, the CLI)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.conftest import codes, run_cli
from tests.integration.tls_fixtures import check, serving, vendor_pins
from tests.servers.dns import DnsServer
from tests.servers.mail import HttpsHandler, TlsPolicy, server_context
from tests.servers.pki import Pki
from tests.servers.tcp import DroppingPort, OpenPort

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"
VENDOR = TlsPolicy()
# id-ecPublicKey, and an OID of the same length that no library knows as a key type.
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
UNKNOWN_KEY_TYPE = bytes.fromhex("06072a8648ce3d0263")


@pytest.fixture(scope="module")
def atlas(pki: Pki) -> Iterator[int]:
    with serving(HttpsHandler(server_context(pki, VENDOR), VENDOR)) as server:
        yield server.port


def odd_root() -> bytes:
    """A root whose key type `cryptography` does not support, as PEM."""
    der = x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes()).public_bytes(Encoding.DER)
    assert der.count(EC_PUBLIC_KEY) == 1
    odd = x509.load_der_x509_certificate(der.replace(EC_PUBLIC_KEY, UNKNOWN_KEY_TYPE))
    return odd.public_bytes(Encoding.PEM)


def test_one_odd_certificate_in_the_trust_store_ends_nothing(
    pki: Pki, dns_server: DnsServer, atlas: int, tmp_path: Path
) -> None:
    store = tmp_path / "store.pem"
    kaspersky = trustme.CA(organization_name="Kaspersky Anti-Virus Personal Root Certificate")
    store.write_bytes(odd_root() + kaspersky.cert_pem.bytes())
    client = pki.client_pem(tmp_path)
    pins = vendor_pins(pki, tmp_path)
    result = check(
        dns_server,
        f"{ATLAS}:{atlas}/tls",
        *("--trust-store", str(store), "--cert", str(client), "--pins", str(pins)),
    )
    assert "internal error" not in result.stderr, result.stderr
    report = result.json()
    (endpoint,) = report["endpoints"]
    assert endpoint["status"] == "ok" and "tls.pinned" in codes(endpoint)
    # The odd entry is said once; the readable one still counts.
    assert any("entry 1" in n and "cannot be read" in n for n in report["notes"])
    assert [f["code"] for f in report["local"]["findings"]] == ["local.inspection_root"]


def _raising_for(host: str, original: Any) -> Any:
    def query(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            raise RuntimeError("injected fault in a DNS query")
        return original(name, *args, **kwargs)

    return query


def test_a_broken_dns_query_is_that_endpoints_error(
    pki: Pki, dns_server: DnsServer, atlas: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import netdiag.session.resolution

    monkeypatch.setattr(
        netdiag.session.resolution,
        "query_addresses",
        _raising_for(MAIL, netdiag.session.resolution.query_addresses),
    )
    with OpenPort() as smtp:
        result = check(dns_server, f"{ATLAS}:{atlas}/tcp", "--target", f"{MAIL}:{smtp.port}/tcp")
    report = result.json()
    by_host = {e["host"]: e for e in report["endpoints"]}
    assert codes(by_host[ATLAS]) == {"tcp.open"}
    broken = by_host[MAIL]
    assert "probe.error" in codes(broken) and broken["status"] == "unknown"
    assert not any(c.startswith("dns.") for c in codes(broken))  # the resolver is not blamed
    assert result.exit_code == 3


def test_broken_client_certificate_details_are_a_note(
    pki: Pki, dns_server: DnsServer, atlas: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import netdiag.trust.identity

    def broken(*_: Any) -> Any:
        raise ValueError("injected fault in reading the certificate's details")

    monkeypatch.setattr(netdiag.trust.identity, "observe_identity", broken)
    result = check(dns_server, f"{ATLAS}:{atlas}/tls", "--cert", str(pki.client_pem(tmp_path)))
    report = result.json()
    assert any("client certificate details" in n for n in report["notes"])
    (endpoint,) = report["endpoints"]
    assert "tls.established" in codes(endpoint)  # the check itself ran, with the certificate


def test_broken_host_checks_are_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netdiag.session.host

    def broken(*_: Any) -> Any:
        raise OSError("injected fault in the host checks")

    monkeypatch.setattr(netdiag.session.host, "check_host", broken)
    with OpenPort() as port:
        result = run_cli("check", "--json", "--target", f"127.0.0.1:{port.port}/tcp", "--host")
    report = result.json()
    assert any("host checks" in n for n in report["notes"])
    assert codes(report["endpoints"][0]) == {"tcp.open"} and result.exit_code == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs raw sockets (root)")
def test_a_broken_trace_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import netdiag.session.traces

    def broken(*_: Any) -> Any:
        raise RuntimeError("injected fault in a trace")

    monkeypatch.setattr(netdiag.session.traces, "_trace_endpoint", broken)
    with DroppingPort() as dropping:
        result = run_cli(
            "check", "--json", "--target", f"127.0.0.1:{dropping.port}/tcp",
            "--timeout", "0.5", "--trace",
        )  # fmt: skip
    report = result.json()
    assert any("trace of 127.0.0.1" in n and "injected" in n for n in report["notes"])
    assert codes(report["endpoints"][0]) == {"tcp.filtered"} and result.exit_code == 2


def test_a_bundle_off_windows_has_no_windows_requirement_crit(tmp_path: Path) -> None:
    """The built-in profile asks for D:\\, E:\\ and E:\\backup: on Linux they do not
    apply — one translated note, never host.drive_missing or host.backup_missing."""
    out = tmp_path / "bundle.zip"
    with OpenPort() as port:
        result = run_cli(
            "bundle", "--target", f"127.0.0.1:{port.port}/tcp", "--out", str(out), "--lang", "de"
        )
    assert result.exit_code in (0, 1), result.stderr
    with zipfile.ZipFile(out) as archive:
        report = json.loads(archive.read("report.json"))
        text = archive.read("report.txt").decode()
    host_codes = {f["code"] for f in report["host"]["findings"]}
    assert not host_codes & {"host.drive_missing", "host.backup_missing", "host.drive_small"}
    assert all(f["severity"] != "crit" for f in report["host"]["findings"])
    assert "gelten auf Linux nicht" in text and "do not apply" not in text
