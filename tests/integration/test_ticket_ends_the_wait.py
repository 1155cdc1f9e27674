"""After a TLS 1.3 handshake netdiag listens for the server's verdict on its client
certificate before it speaks (in 1.3 that verdict comes after the handshake). A server that
rejects the certificate sends an alert; one that takes it sends its session tickets. So the
ticket of a server whose chain the pins prove ends the wait — and an interceptor's ticket
does not: sslsplit sends its own before its upstream has answered, and a request sent into
a connection it is about to close earns a reset that hides the cause. The wait is made 3 s
long here, so that what the transcript shows cannot be the machine's load."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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
WAIT_S = 3.0


@pytest.fixture
def long_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    import netdiag.probes.dialogue as dialogue

    monkeypatch.setattr(dialogue, "ALERT_WAIT_MIN_S", WAIT_S)
    monkeypatch.setattr(dialogue, "ALERT_WAIT_MAX_S", WAIT_S + 1)


def established_to_ehlo_s(endpoint: dict) -> float:  # type: ignore[type-arg]
    """From "TLS established" to the EHLO after it, in the transcript."""
    lines = endpoint["observations"]["protocol"]["transcript"]
    done = next(i for i, line in enumerate(lines) if line["text"].startswith("TLS established"))
    ehlo = next(line for line in lines[done:] if line["text"].startswith("EHLO"))
    return float(ehlo["at_ms"] - lines[done]["at_ms"]) / 1000


def checked(
    handler: Callable[[socket.socket], None],
    target: str,
    pki: Pki,
    dns_server: DnsServer,
    tmp_path: Path,
) -> dict:  # type: ignore[type-arg]
    """The one endpoint's report, checked with the vendor's client certificate and pins."""
    with serving(handler) as server:
        result = check(
            dns_server,
            target.format(port=server.port),
            "--cert",
            str(pki.client_pem(tmp_path)),
            "--pins",
            str(vendor_pins(pki, tmp_path)),
            timeout="8",
        )
    assert result.stdout, result.stderr
    assert_never_ok_unless_checked(result.json())
    return only_endpoint(result)


def run(pki: Pki, shown: Pki, dns_server: DnsServer, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    policy = TlsPolicy()  # TLS 1.3, the client certificate required
    handler = SmtpHandler(server_context(shown, policy, client_ca=pki), policy)
    return checked(handler, f"{MAIL}:{{port}}/smtp-starttls", pki, dns_server, tmp_path)


@pytest.mark.usefixtures("long_wait")
def test_the_proven_servers_ticket_ends_the_wait(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    endpoint = run(pki, pki, dns_server, tmp_path)
    assert endpoint["status"] == "ok" and "tls.pinned" in codes(endpoint), endpoint["findings"]
    assert endpoint["observations"]["protocol"]["tls"]["version"] == "TLSv1.3"
    assert established_to_ehlo_s(endpoint) < WAIT_S / 2


@pytest.mark.usefixtures("long_wait")
def test_an_unproven_chains_ticket_gets_the_whole_wait(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    # The twin: the same server and ticket, a chain the pins do not reach (an interceptor's).
    endpoint = run(pki, make_pki("Klinikum IT Security"), dns_server, tmp_path)
    assert "tls.pinned" not in codes(endpoint), endpoint["findings"]
    assert established_to_ehlo_s(endpoint) >= WAIT_S - 0.1


class SpeaksFirst(ImplicitTlsHandler):
    """A TLS port whose agent sends its output first, a moment after the handshake (later
    than its session ticket)."""

    def _serve(self, tls: TlsChannel) -> None:
        time.sleep(0.5)
        tls.sendall(b"agent 4.2 ready\r\n")
        tls.recv(1024)


@pytest.mark.usefixtures("long_wait")
def test_a_ticket_is_no_listen_for_a_server_that_speaks_first(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    # The ticket ends the wait for the verdict on our certificate, not the listen for what
    # the server says first: no request is sent into the agent's output.
    policy = TlsPolicy()
    handler = SpeaksFirst(server_context(pki, policy), policy)
    endpoint = checked(handler, "atlas79.mydhp.de:{port}/tls", pki, dns_server, tmp_path)
    protocol = endpoint["observations"]["protocol"]
    assert protocol["first_bytes"].startswith("agent 4.2 ready"), protocol
    assert not any(line["direction"] == "C" for line in protocol["transcript"])
