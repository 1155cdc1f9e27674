"""A TLS port answered in another protocol, checked for real on loopback: the same hello read
raw names what answers. A web proxy's HTTP error (a port redirected to a transparent proxy)
is `trace.transparent_proxy`; an SSH server's greeting (a port forwarded to the wrong
service) stays the handshake's failure, with what answered in its evidence."""

from __future__ import annotations

import socket

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.integration.tls_fixtures import check, only_endpoint, serving
from tests.servers.dns import DnsServer

PROXY_ERROR = (
    b"HTTP/1.1 400 Bad Request\r\nServer: squid/5.7\r\nContent-Type: text/html\r\n"
    b"Connection: close\r\n\r\n<html><body>Invalid Request</body></html>"
)


def web_proxy(conn: socket.socket) -> None:
    """What a transparent web proxy does with bytes that are no HTTP request."""
    conn.recv(4096)
    conn.sendall(PROXY_ERROR)


def ssh(conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    conn.recv(4096)


def checked(handler: object, dns_server: DnsServer) -> dict:  # type: ignore[type-arg]
    with serving(handler) as server:  # type: ignore[arg-type]
        result = check(dns_server, f"mail3.dicommail.com:{server.port}/pop3s")
    assert_never_ok_unless_checked(result.json())
    return only_endpoint(result)


def test_a_web_proxy_answering_the_hello_is_named(dns_server: DnsServer) -> None:
    endpoint = checked(web_proxy, dns_server)
    found = {f["code"]: f for f in endpoint["findings"]}
    assert "trace.transparent_proxy" in found and "tls.handshake_failed" not in found, found
    proxy = found["trace.transparent_proxy"]
    assert proxy["subject"] == "Squid" and proxy["detail"] == "http", proxy
    (raw,) = endpoint["observations"]["experiments"]
    assert raw["kind"] == "same_hello" and raw["answer"] == "http_reply", raw


def test_an_ssh_server_on_the_port_is_said_not_convicted(dns_server: DnsServer) -> None:
    endpoint = checked(ssh, dns_server)
    assert "trace.transparent_proxy" not in codes(endpoint), endpoint["findings"]
    (failed,) = [f for f in endpoint["findings"] if f["code"] == "tls.handshake_failed"]
    said = [line for line in failed["evidence"] if line.startswith("experiments:")]
    assert said and "another service answers on this port" in said[0], failed["evidence"]
    assert "SSH-2.0-OpenSSH_9.2p1" in said[0]
