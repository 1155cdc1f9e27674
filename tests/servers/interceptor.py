"""An intercepting proxy, as next-generation firewalls do "SSL inspection": it terminates
the client's TLS with a certificate minted by its own CA, opens its own TLS connection to
the real server, and relays the plaintext. For SMTP it relays the dialogue until STARTTLS
and answers STARTTLS itself."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL

from tests.servers.base import read_line
from tests.servers.pki import SERVER_NAMES


def _upstream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setblocking(True)
    return sock


_MINTED: dict[int, trustme.LeafCert] = {}


def _minted(ca: trustme.CA) -> trustme.LeafCert:
    """One certificate per proxy CA, minted minutes ago, for every vendor name: some
    products reuse one key for every host they impersonate."""
    if id(ca) not in _MINTED:
        now = datetime.now(UTC)
        _MINTED[id(ca)] = ca.issue_cert(
            *SERVER_NAMES, not_before=now - timedelta(minutes=5), not_after=now + timedelta(days=30)
        )
    return _MINTED[id(ca)]


class InterceptingProxy:
    def __init__(self, upstream_port: int, ca: trustme.CA, *, starttls: bool) -> None:
        self.upstream_port = upstream_port
        self.starttls = starttls
        self.ca = ca
        # One minted certificate for every vendor name, as some products reuse a key.
        leaf = _minted(ca)
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.use_certificate(x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()))
        context.use_privatekey(
            serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
        )  # type: ignore[arg-type]
        context.add_extra_chain_cert(x509.load_pem_x509_certificate(ca.cert_pem.bytes()))
        self.server_context = context
        self.client_context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        self.client_context.set_verify(SSL.VERIFY_NONE, None)

    def __call__(self, client: socket.socket) -> None:
        client.setblocking(True)
        upstream = _upstream(self.upstream_port)
        try:
            if self.starttls and not self._plain_until_starttls(client, upstream):
                return
            inner = SSL.Connection(self.server_context, client)
            inner.set_accept_state()
            inner.do_handshake()
            outer = SSL.Connection(self.client_context, upstream)
            outer.set_connect_state()
            outer.set_tlsext_host_name(b"mail1.dicommail.com")
            outer.do_handshake()
            self._relay(inner, outer)
        except (SSL.Error, OSError):
            return
        finally:
            upstream.close()

    def _plain_until_starttls(self, client: socket.socket, upstream: socket.socket) -> bool:
        client.sendall(read_line(upstream))
        while True:
            line = read_line(client)
            if not line:
                return False
            upstream.sendall(line)
            while True:
                reply = read_line(upstream)
                if not reply:
                    return False
                if line.strip().upper() != b"STARTTLS":
                    client.sendall(reply)
                if reply[3:4] != b"-":
                    break
            if line.strip().upper() == b"STARTTLS":
                client.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                return True

    @staticmethod
    def _relay(inner: SSL.Connection, outer: SSL.Connection) -> None:
        def pump(source: SSL.Connection, target: SSL.Connection) -> None:
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    target.sendall(data)
            except (SSL.Error, OSError):
                pass
            for conn in (source, target):
                try:
                    conn.shutdown()
                except (SSL.Error, OSError):
                    pass

        back = threading.Thread(target=pump, args=(outer, inner), daemon=True)
        back.start()
        pump(inner, outer)
        back.join(timeout=5)
