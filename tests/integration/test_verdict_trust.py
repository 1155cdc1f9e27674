"""Verdicts that hold as proof, against real peers on loopback: one connection per
endpoint (counted at the servers), a Postfix-style per-client connection limit, an
interceptor that drops connections under load, peers whose certificates cryptography
refuses, a 1 MB chain and a non-ASCII POP3 password — and no endpoint is ever OK
without a completed probe."""

from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL

from tests.conftest import CliResult, codes, run_cli
from tests.integration.tls_fixtures import check, serving, vendor_pins
from tests.servers.base import reset
from tests.servers.dns import DnsServer
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki, make_pki

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"
ASKS = TlsPolicy(verify=ssl.CERT_OPTIONAL)


@pytest.fixture(scope="module")
def files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("trust")
    return {"pins": vendor_pins(pki, directory), "client": pki.client_pem(directory)}


class Counting:
    """A handler wrapper that counts the connections a server accepted."""

    def __init__(self, inner: Callable[[socket.socket], None]) -> None:
        self.inner = inner
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        with self._lock:
            self.count += 1
            number = self.count
        self.serve(number, conn)

    def serve(self, number: int, conn: socket.socket) -> None:
        self.inner(conn)


class ConnectionLimit(Counting):
    """Postfix's anvil with smtpd_client_connection_count_limit = 1: the first connection
    is served, every later one while it is open gets `421 4.7.0 … too many connections`."""

    def __init__(self, inner: Callable[[socket.socket], None]) -> None:
        super().__init__(inner)
        self.open = 0

    def serve(self, number: int, conn: socket.socket) -> None:
        with self._lock:
            self.open += 1
            is_over = self.open > 1
        try:
            if is_over:
                conn.sendall(b"421 4.7.0 mail1.dicommail.com Error: too many connections\r\n")
                return
            self.inner(conn)
        finally:
            with self._lock:
                self.open -= 1


class DropsFirst(Counting):
    """An interceptor restarting under load: the first `drops` connections are reset as
    soon as they are accepted, later ones served."""

    def __init__(self, inner: Callable[[socket.socket], None], drops: int) -> None:
        super().__init__(inner)
        self.drops = drops

    def serve(self, number: int, conn: socket.socket) -> None:
        if number <= self.drops:
            reset(conn)
            return
        self.inner(conn)


def run(dns_server: DnsServer, files: dict[str, Path], *targets: str) -> CliResult:
    args = [a for t in targets for a in ("--target", t)]
    return check(
        dns_server, args[1], *args[2:], "--pins", str(files["pins"]), "--cert", str(files["client"])
    )


def endpoint(result: CliResult, port: int) -> dict[str, Any]:
    return next(e for e in result.json()["endpoints"] if e["port"] == port)


def test_a_full_check_opens_one_connection_per_endpoint(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    smtp = Counting(SmtpHandler(server_context(pki, ASKS), ASKS))
    pop3 = Counting(Pop3Handler(server_context(pki, ASKS), ASKS))
    https = Counting(HttpsHandler(server_context(pki, ASKS), ASKS))
    with serving(smtp) as s, serving(pop3) as p, serving(https) as h:
        result = run(
            dns_server,
            files,
            f"{MAIL}:{s.port}/smtp-starttls",
            f"{MAIL}:{p.port}/pop3s",
            f"{ATLAS}:{h.port}/tls",
        )
    assert result.exit_code == 0, result.stdout
    assert (smtp.count, pop3.count, https.count) == (1, 1, 1)
    for e in result.json()["endpoints"]:
        assert e["status"] == "ok" and "tls.pinned" in codes(e)
        assert e["observations"]["protocol"]["stopped_at"] == "done"
        first = e["observations"]["protocol"]["transcript"][0]["text"]
        assert "the reachability probe's connection" in first


def test_a_per_client_connection_limit_is_not_our_own_doing(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    limited = ConnectionLimit(SmtpHandler(server_context(pki, ASKS), ASKS))
    with serving(limited) as server:
        result = run(dns_server, files, f"{MAIL}:{server.port}/smtp-starttls")
    found = endpoint(result, server.port)
    assert found["status"] == "ok" and result.exit_code == 0, found["findings"]
    assert limited.count == 1


def test_a_limit_used_up_by_other_software_is_reported_negative_twin(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    """The same limit, with the gateway's own mail software holding the one connection:
    now the 421 is real, and netdiag says so instead of OK."""
    limited = ConnectionLimit(SmtpHandler(server_context(pki, ASKS), ASKS))
    with serving(limited) as server:
        production = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        try:
            assert production.recv(100).startswith(b"220")
            result = run(dns_server, files, f"{MAIL}:{server.port}/smtp-starttls")
        finally:
            production.close()
    found = endpoint(result, server.port)
    assert found["status"] != "ok" and "smtp.throttled" in codes(found)
    assert "too many connections" in str(found["findings"])
    # A stated refusal is not retried, and a run of one endpoint had nothing else open.
    assert len(found["observations"]["attempts"]) == 1
    assert found["observations"]["retried_alone"] is False


def test_a_limit_met_by_our_own_parallel_sessions_is_named_not_blamed(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    """Two of the vendor's names on one server that serves one connection per client at a
    time (its banner held 0.3 s, so that the two sessions surely overlap): the one refused
    421 among the other is tried again after the round, alone, and taken —
    `smtp.connection_limit` (info) with the server's words, both endpoints OK, exit 0."""
    limited = ConnectionLimit(SmtpHandler(server_context(pki, ASKS), ASKS, banner_delay_s=0.3))
    with serving(limited) as server:
        result = run(
            dns_server,
            files,
            f"{MAIL}:{server.port}/smtp-starttls",
            f"mail2.dicommail.com:{server.port}/smtp-starttls",
        )
    endpoints = result.json()["endpoints"]
    assert result.exit_code == 0, [e["findings"] for e in endpoints]
    assert all(e["status"] == "ok" and "tls.pinned" in codes(e) for e in endpoints)
    (met,) = [e for e in endpoints if "smtp.connection_limit" in codes(e)]
    (limit,) = [f for f in met["findings"] if f["code"] == "smtp.connection_limit"]
    assert limit["severity"] == "info" and "too many connections" in limit["summary"]
    assert met["observations"]["retried_alone"] is True
    assert [a["stopped_at"] for a in met["observations"]["attempts"]] == ["banner", "done"]
    assert limited.count == 3
    assert not any({"smtp.throttled", "endpoint.intermittent"} & codes(e) for e in endpoints)


def test_a_limit_used_up_by_other_software_stays_refused_alone_negative_twin(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    """The same two names, with the gateway's own mail software holding the one connection
    all along: both are refused, alone too — `smtp.throttled` stands, with the lone try in
    its evidence, and no limit of ours is named."""
    limited = ConnectionLimit(SmtpHandler(server_context(pki, ASKS), ASKS))
    with serving(limited) as server:
        production = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        try:
            assert production.recv(100).startswith(b"220")
            result = run(
                dns_server,
                files,
                f"{MAIL}:{server.port}/smtp-starttls",
                f"mail2.dicommail.com:{server.port}/smtp-starttls",
            )
        finally:
            production.close()
    endpoints = result.json()["endpoints"]
    assert result.exit_code == 1, [e["findings"] for e in endpoints]
    for found in endpoints:
        assert found["status"] == "warn" and "smtp.throttled" in codes(found)
        assert "smtp.connection_limit" not in codes(found)
        (throttled,) = [f for f in found["findings"] if f["code"] == "smtp.throttled"]
        assert any("alone" in line and "refused again" in line for line in throttled["evidence"])
        assert len(found["observations"]["attempts"]) == 2
    assert limited.count == 1 + 4  # the production session, then two of ours twice


def test_a_connection_dropped_once_is_retried_and_called_intermittent(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    flaky = DropsFirst(SmtpHandler(server_context(pki, ASKS), ASKS), drops=1)
    with serving(flaky) as server:
        result = run(dns_server, files, f"{MAIL}:{server.port}/smtp-starttls")
    found = endpoint(result, server.port)
    assert {"endpoint.intermittent", "tls.pinned"} <= codes(found), found["findings"]
    assert found["status"] == "warn" and result.exit_code == 1
    attempts = found["observations"]["attempts"]
    # The reset lands before connect() returns or at the first read: either way the
    # dialogue never got a word, and the second attempt completed.
    assert attempts[0]["stopped_at"] in ("connect", "banner")
    assert attempts[1]["stopped_at"] == "done"
    assert flaky.count == 2


def test_a_connection_dropped_every_time_is_never_ok(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    dead = DropsFirst(SmtpHandler(server_context(pki, ASKS), ASKS), drops=10)
    with serving(dead) as server:
        result = run(dns_server, files, f"{MAIL}:{server.port}/smtp-starttls")
    found = endpoint(result, server.port)
    assert found["status"] == "crit" and result.exit_code == 2, found["findings"]
    assert "smtp.early_close" in codes(found)
    assert "endpoint.intermittent" not in codes(found)
    assert dead.count == 2  # the reachability connection and one retry, no more


# Peers with certificates that cryptography refuses or that are merely odd.


def _openssl_cert(directory: Path, name: str, *extra: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={ATLAS}",
            "-days", "30", *extra,
        ],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


class RawTlsServer:
    """An HTTPS-like server with a certificate made by the openssl command line, which
    writes what cryptography may refuse, and optional extra chain certificates."""

    def __init__(self, cert: Path, key: Path, extra_chain: int = 0) -> None:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.use_certificate_file(str(cert))
        context.use_privatekey_file(str(key))
        if extra_chain:
            filler = x509.load_pem_x509_certificate(cert.read_bytes())
            for _ in range(extra_chain):
                context.add_extra_chain_cert(filler)
        self.context = context

    def __call__(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        tls = SSL.Connection(self.context, conn)
        tls.set_accept_state()
        try:
            tls.do_handshake()
            tls.recv(4096)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            tls.shutdown()
        except (SSL.Error, OSError):
            return


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(("-set_serial", "-5"), id="negative serial"),
        pytest.param(("-set_serial", "0"), id="zero serial"),
        pytest.param(
            ("-addext", "1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:odd"),
            id="unknown critical extension",
        ),
    ],
)
def test_an_odd_server_certificate_ends_nothing(
    extra: tuple[str, ...],
    pki: Pki,
    dns_server: DnsServer,
    files: dict[str, Path],
    tmp_path: Path,
) -> None:
    cert, key = _openssl_cert(tmp_path, "odd", *extra)
    healthy = HttpsHandler(server_context(pki, ASKS), ASKS)
    with serving(RawTlsServer(cert, key)) as odd, serving(healthy) as good:
        result = run(dns_server, files, f"{ATLAS}:{odd.port}/tls", f"{MAIL}:{good.port}/tls")
    assert result.stdout, result.stderr
    assert "internal error" not in result.stderr
    odd_endpoint = endpoint(result, odd.port)
    # Not the vendor's chain: the pins say so, whatever cryptography thinks of it.
    assert "tls.intercepted" in codes(odd_endpoint) and odd_endpoint["status"] == "crit"
    assert "tls.pinned" in codes(endpoint(result, good.port))
    assert endpoint(result, good.port)["status"] == "ok"


def test_a_megabyte_chain_is_a_failed_handshake_not_a_crash(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], tmp_path: Path
) -> None:
    cert, key = _openssl_cert(tmp_path, "huge")
    size = len(x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(
        serialization.Encoding.DER
    ))  # fmt: skip
    with serving(RawTlsServer(cert, key, extra_chain=1_000_000 // size)) as huge:
        result = run(dns_server, files, f"{ATLAS}:{huge.port}/tls")
    found = endpoint(result, huge.port)
    assert found["status"] == "crit" and "tls.handshake_failed" in codes(found), found["findings"]


def test_a_non_ascii_pop3_password_is_sent_and_never_shown(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], tmp_path: Path
) -> None:
    password = "Prüfwört-Ä€-17"
    (tmp_path / "pw").write_text(password, "utf-8")
    seen: list[bytes] = []

    class Recording(Pop3Handler):
        def _serve(self, tls: Any) -> None:
            original = tls.recv

            def recv(size: int) -> bytes:
                data: bytes = original(size)
                seen.append(data)
                return data

            tls.recv = recv
            super()._serve(tls)

    with serving(Recording(server_context(pki, ASKS), ASKS)) as server:
        result = run_cli(
            "check", "--json", "--no-system-resolver", "--resolver", dns_server.spec,
            "--expect-network", "127.0.0.0/8", "--timeout", "2",
            "--target", f"{MAIL}:{server.port}/pop3s", "--pins", str(files["pins"]),
            "--cert", str(files["client"]), "--pop3-user", "gateway",
            "--pop3-password-file", str(tmp_path / "pw"),
        )  # fmt: skip
    found = endpoint(result, server.port)
    assert "pop3.login_failed" in codes(found), found["findings"]
    assert f"PASS {password}".encode() in b"".join(seen)
    for fragment in ("Prüf", "wört", "€-17", "\\xfc"):
        assert fragment not in result.stdout + result.stderr


class ChainWithAnOddExtra(HttpsHandler):
    """The vendor's genuine chain, followed by a certificate OpenSSL sends and accepts but
    `cryptography` cannot read (an unknown key type): the pinned path must still count."""

    def __init__(self, pki: Pki, directory: Path) -> None:
        super().__init__(server_context(pki, ASKS), ASKS)
        # A critical flag encoded as BOOLEAN 0x01 (BER) instead of 0xFF (DER): OpenSSL
        # reads and resends it as it is, cryptography refuses it.
        der = x509.load_pem_x509_certificate(make_pki("Odd").root.cert_pem.bytes()).public_bytes(
            serialization.Encoding.DER
        )
        odd = der.replace(bytes.fromhex("0101ff"), bytes.fromhex("010101"))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(odd)
        pem += b"-----END CERTIFICATE-----\n"
        chain = directory / "odd-chain.pem"
        chain.write_bytes(
            pki.server.cert_chain_pems[0].bytes() + pki.issuing.cert_pem.bytes() + pem
        )
        self.context.context.use_certificate_chain_file(str(chain))


def test_one_unreadable_certificate_does_not_unpin_a_genuine_chain(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path], tmp_path: Path
) -> None:
    with serving(ChainWithAnOddExtra(pki, tmp_path)) as server:
        result = run(dns_server, files, f"{ATLAS}:{server.port}/tls")
    found = endpoint(result, server.port)
    assert "tls.pinned" in codes(found) and "tls.intercepted" not in codes(found), found["findings"]
    assert found["status"] == "ok"
    pinned = next(f for f in found["findings"] if f["code"] == "tls.pinned")
    assert any("parse_error" in line for line in pinned["evidence"]), pinned["evidence"]
    chain = found["observations"]["protocol"]["tls"]["chain"]
    assert len(chain) == 3 and chain[2]["parse_error"]


def test_the_report_names_the_pin_file_that_decided(
    pki: Pki, dns_server: DnsServer, files: dict[str, Path]
) -> None:
    with serving(HttpsHandler(server_context(pki, ASKS), ASKS)) as server:
        result = run(dns_server, files, f"{ATLAS}:{server.port}/tls")
    report = result.json()
    pinned = next(f for f in report["endpoints"][0]["findings"] if f["code"] == "tls.pinned")
    assert any(str(files["pins"]) in line for line in pinned["evidence"]), pinned["evidence"]
    assert any(str(files["pins"]) in n and "given with --pins" in n for n in report["notes"])


def test_pins_found_in_the_current_folder_are_named_with_the_reason(
    pki: Pki,
    dns_server: DnsServer,
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "pins.toml").write_bytes(files["pins"].read_bytes())
    monkeypatch.chdir(tmp_path)
    with serving(HttpsHandler(server_context(pki, ASKS), ASKS)) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--cert", str(files["client"]))
    report = result.json()
    assert "tls.pinned" in codes(report["endpoints"][0])
    assert any("certs/pins.toml in the current folder" in n for n in report["notes"])
