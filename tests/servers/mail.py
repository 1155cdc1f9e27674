"""Real SMTP (STARTTLS), POP3S and TLS/HTTP servers of the tests, speaking through the
standard library's ssl module, with the variants the diagnosis must tell apart."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers.base import read_line, reset
from tests.servers.pki import Pki


@dataclass(frozen=True)
class TlsPolicy:
    """How a test server runs TLS."""

    verify: ssl.VerifyMode = ssl.CERT_REQUIRED
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    # Where the server checks the client certificate when `verify` is CERT_OPTIONAL:
    # "" never, otherwise the protocol step answers with the quoted rejection.
    reject_later: bool = False


def server_context(pki: Pki, policy: TlsPolicy, client_ca: Pki | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    pki.server.configure_cert(context)
    context.minimum_version = policy.min_version
    context.maximum_version = policy.max_version
    context.verify_mode = policy.verify
    if policy.verify != ssl.CERT_NONE:
        (client_ca or pki).issuing.configure_trust(context)
    return context


def _wrap(conn: socket.socket, context: ssl.SSLContext) -> ssl.SSLSocket | None:
    try:
        return context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        return None


def _has_client_cert(tls: ssl.SSLSocket) -> bool:
    return tls.getpeercert() not in (None, {})


class SmtpHandler:
    """An SMTP server with STARTTLS (RFC 3207) in the manner of Postfix."""

    def __init__(
        self, context: ssl.SSLContext, policy: TlsPolicy, name: str = "mail1.dicommail.com"
    ) -> None:
        self.context = context
        self.policy = policy
        self.name = name

    def __call__(self, conn: socket.socket) -> None:
        conn.sendall(f"220 {self.name} ESMTP Postfix (test)\r\n".encode())
        channel: socket.socket = conn
        while True:
            line = read_line(channel)
            if not line:
                return
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                if (
                    isinstance(channel, ssl.SSLSocket)
                    and self.policy.reject_later
                    and not _has_client_cert(channel)
                ):
                    channel.sendall(
                        b"421 4.7.1 mail1.dicommail.com Error: No client certificate presented\r\n"
                    )
                    return
                extensions = ["PIPELINING", "SIZE 52428800", "8BITMIME"]
                if not isinstance(channel, ssl.SSLSocket):
                    extensions.append("STARTTLS")
                lines = [self.name, *extensions]
                reply = "".join(f"250-{x}\r\n" for x in lines[:-1]) + f"250 {lines[-1]}\r\n"
                channel.sendall(reply.encode())
            elif command == b"STARTTLS" and not isinstance(channel, ssl.SSLSocket):
                channel.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                wrapped = _wrap(channel, self.context)
                if wrapped is None:
                    return
                channel = wrapped
            elif command == b"QUIT":
                channel.sendall(b"221 2.0.0 Bye\r\n")
                return
            else:
                channel.sendall(b"502 5.5.2 Error: command not recognized\r\n")


class Pop3Handler:
    """A POP3S server (implicit TLS) in the manner of Dovecot."""

    def __init__(self, context: ssl.SSLContext, policy: TlsPolicy) -> None:
        self.context = context
        self.policy = policy

    def __call__(self, conn: socket.socket) -> None:
        tls = _wrap(conn, self.context)
        if tls is None:
            return
        tls.sendall(b"+OK Dovecot ready.\r\n")
        while True:
            line = read_line(tls)
            if not line:
                return
            command = line.strip().split(b" ", 1)[0].upper()
            if command == b"CAPA":
                tls.sendall(b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
            elif command == b"USER":
                tls.sendall(b"+OK\r\n")
            elif command == b"PASS":
                if self.policy.reject_later and not _has_client_cert(tls):
                    tls.sendall(b"-ERR [AUTH] Client didn't present valid SSL certificate\r\n")
                else:
                    tls.sendall(b"-ERR [AUTH] Authentication failed.\r\n")
            elif command == b"QUIT":
                tls.sendall(b"+OK Logging out.\r\n")
                return
            else:
                tls.sendall(b"-ERR Unknown command.\r\n")


class HttpsHandler:
    """TLS on a port of its own answering HTTP, in the manner of nginx."""

    def __init__(self, context: ssl.SSLContext, policy: TlsPolicy) -> None:
        self.context = context
        self.policy = policy

    def __call__(self, conn: socket.socket) -> None:
        tls = _wrap(conn, self.context)
        if tls is None:
            return
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 8192:
            chunk = tls.recv(1024)
            if not chunk:
                return
            request += chunk
        if self.policy.reject_later and not _has_client_cert(tls):
            body = (
                b"<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n"
                b"<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
                b"<center>No required SSL certificate was sent</center>\r\n</body>\r\n</html>\r\n"
            )
            status = b"HTTP/1.1 400 Bad Request"
        else:
            body, status = b"<html><body>agent receiver</body></html>\r\n", b"HTTP/1.1 200 OK"
        tls.sendall(
            status
            + b"\r\nServer: nginx\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass


# Hostile peers.


def huge_banner(conn: socket.socket) -> None:
    """1 MB of banner without a line end."""
    try:
        conn.sendall(b"220 " + b"A" * 1_000_000)
        time.sleep(0.5)
    except OSError:
        pass


def one_byte_per_second(conn: socket.socket) -> None:
    for byte in b"220 slow.example ESMTP\r\n":
        conn.sendall(bytes([byte]))
        time.sleep(1)


def garbage(conn: socket.socket) -> None:
    conn.sendall(bytes(range(256)) * 4)
    time.sleep(0.5)


def cut_multiline(conn: socket.socket) -> None:
    conn.sendall(b"220 mail1.dicommail.com ESMTP\r\n")
    read_line(conn)
    conn.sendall(b"250-mail1.dicommail.com\r\n250-PIPELINING\r\n")
    conn.close()


def http_on_smtp(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    time.sleep(0.3)


def close_at_once(conn: socket.socket) -> None:
    conn.close()


def busy(conn: socket.socket) -> None:
    conn.sendall(b"421 4.7.0 mail1.dicommail.com Too many connections, try again later\r\n")


def throttled_at_ehlo(conn: socket.socket) -> None:
    conn.sendall(b"220 mail1.dicommail.com ESMTP\r\n")
    read_line(conn)
    conn.sendall(b"421 4.7.0 Service temporarily unavailable\r\n")


def reset_now(conn: socket.socket) -> None:
    reset(conn)


def write_ca(directory: Path, pki: Pki) -> Path:
    return pki.ca_pem(directory)
