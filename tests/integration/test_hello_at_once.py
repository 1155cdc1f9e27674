"""An SMTP port that sends no banner, checked for real on loopback: the TLS hello netdiag then
sends at once, on a new connection, names what waits there. A device that inspects TLS on
port 25 (Squid's `https_port ... ssl-bump`, sslsplit's `ssl` on 25) waits for the client's
hello, so the server's banner never comes; its forged chain convicts it. The twins: a port
that stays silent to the hello as well (a tarpit), the vendor's own server speaking TLS at
once (a port forwarded to the wrong port), and a healthy server, which never gets the hello
at once — one connection per address, as ever."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.integration.tls_fixtures import check, only_endpoint, serving, vendor_pins
from tests.servers.dns import DnsServer
from tests.servers.mail import (
    ImplicitTlsHandler,
    SmtpHandler,
    TlsChannel,
    TlsPolicy,
    server_context,
)
from tests.servers.pki import Pki, make_pki

MAIL = "mail1.dicommail.com"


class WaitsForTls(ImplicitTlsHandler):
    """What answers a hello on the port, and says nothing before one: after the handshake
    it reads until the client goes."""

    def _serve(self, tls: TlsChannel) -> None:
        while tls.recv(1024):
            pass


def silent(conn: socket.socket) -> None:
    """A port that takes the connection and never says a word (a tarpit)."""
    try:
        while conn.recv(1024):
            pass
    except TimeoutError:
        pass


class Counted:
    """A handler that counts the connections it is given."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.handler = handler
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        with self._lock:
            self.count += 1
        self.handler(conn)


def checked(handler: Counted, pki: Pki, dns_server: DnsServer, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    with serving(handler) as server:
        result = check(
            dns_server,
            f"{MAIL}:{server.port}/smtp-starttls",
            "--cert",
            str(pki.client_pem(tmp_path)),
            "--pins",
            str(vendor_pins(pki, tmp_path)),
        )
    assert_never_ok_unless_checked(result.json())
    return only_endpoint(result)


def test_a_device_that_waits_for_tls_on_25_is_convicted_by_its_chain(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    policy = TlsPolicy(verify=ssl.CERT_NONE)  # an interceptor asks for nothing
    handler = Counted(WaitsForTls(server_context(make_pki("Klinikum IT Security"), policy), policy))
    endpoint = checked(handler, pki, dns_server, tmp_path)
    found = {f["code"]: f for f in endpoint["findings"]}
    assert "tls.intercepted" in found and "smtp.slow_banner" in found, found
    first = found["tls.intercepted"]["evidence"][0]
    assert first.startswith("no SMTP banner within the timeout; a TLS ClientHello"), first
    at_once = endpoint["observations"]["hello_at_once"]
    assert at_once["tls"]["chain"][0]["issuer"].find("Klinikum IT Security") >= 0, at_once
    # The dialogue's connection, the hello at once, the place's plain connection and its
    # hop-limited hellos (loopback: one hop): nothing else.
    assert handler.count >= 2


def test_a_port_silent_to_the_hello_too_is_only_a_missing_banner(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    handler = Counted(silent)
    endpoint = checked(handler, pki, dns_server, tmp_path)
    found = {f["code"]: f for f in endpoint["findings"]}
    assert "smtp.slow_banner" in found and "tls.intercepted" not in found, found
    assert found["smtp.slow_banner"]["evidence"][-1].endswith("got no answer either")
    assert endpoint["observations"]["hello_at_once"] is not None
    assert handler.count == 2  # the dialogue's connection and the hello at once


def test_the_vendors_own_chain_at_once_is_no_verdict_of_interception(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    # The vendor's server speaking TLS from the first byte on 25 (implicit TLS): it asks
    # for the client certificate, which the hello at once never gives.
    policy = TlsPolicy()
    handler = Counted(WaitsForTls(server_context(pki, policy, client_ca=pki), policy))
    endpoint = checked(handler, pki, dns_server, tmp_path)
    found = {f["code"]: f for f in endpoint["findings"]}
    assert "tls.intercepted" not in found and "tls.pinned" not in found, found
    assert "the vendor's own chain" in found["smtp.slow_banner"]["evidence"][-1]
    assert endpoint["status"] == "crit"


def test_a_server_with_a_banner_never_gets_the_hello_at_once(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    policy = TlsPolicy()
    handler = Counted(SmtpHandler(server_context(pki, policy, client_ca=pki), policy))
    endpoint = checked(handler, pki, dns_server, tmp_path)
    assert endpoint["status"] == "ok" and "tls.pinned" in codes(endpoint), endpoint["findings"]
    assert endpoint["observations"]["hello_at_once"] is None
    assert handler.count == 1
