"""Real SMTP (STARTTLS), POP3S and TLS/HTTP servers of the tests, speaking through the
standard library's ssl module, with the variants the diagnosis must tell apart."""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto

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


class TlsChannel:
    """A server-side TLS connection (pyOpenSSL, blocking) with the socket calls the
    handlers use."""

    def __init__(self, conn: SSL.Connection, raw: socket.socket) -> None:
        self.conn = conn
        self.raw = raw

    def sendall(self, data: bytes) -> None:
        self.conn.sendall(data)

    def recv(self, size: int) -> bytes:
        try:
            return self.conn.recv(size)
        except (SSL.ZeroReturnError, SSL.SysCallError):
            return b""
        except SSL.Error:
            return b""

    def has_client_cert(self) -> bool:
        return self.conn.get_peer_certificate() is not None

    def close(self) -> None:
        try:
            self.conn.shutdown()
        except (SSL.Error, OSError):
            pass
        self.raw.close()

    def __enter__(self) -> TlsChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServerTls:
    """The server's TLS: its chain, versions, and — as Postfix and Dovecot do — the list of
    acceptable client CAs sent in the CertificateRequest."""

    def __init__(self, pki: Pki, policy: TlsPolicy, client_ca: Pki | None = None) -> None:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.use_certificate(
            x509.load_pem_x509_certificate(pki.server.cert_chain_pems[0].bytes())
        )
        context.use_privatekey(
            serialization.load_pem_private_key(pki.server.private_key_pem.bytes(), None)
        )  # type: ignore[arg-type]
        context.add_extra_chain_cert(x509.load_pem_x509_certificate(pki.issuing.cert_pem.bytes()))
        versions = {
            ssl.TLSVersion.TLSv1_2: SSL.TLS1_2_VERSION,
            ssl.TLSVersion.TLSv1_3: SSL.TLS1_3_VERSION,
        }
        context.set_min_proto_version(versions[policy.min_version])
        context.set_max_proto_version(versions[policy.max_version])
        if policy.verify != ssl.CERT_NONE:
            trusted = client_ca or pki
            store = context.get_cert_store()
            assert store is not None
            for ca in (trusted.issuing, trusted.root):
                cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
                store.add_cert(crypto.X509.from_cryptography(cert))
                context.add_client_ca(cert)
            mode = SSL.VERIFY_PEER
            if policy.verify == ssl.CERT_REQUIRED:
                mode |= SSL.VERIFY_FAIL_IF_NO_PEER_CERT
            context.set_verify(mode, lambda conn, cert, errno, depth, ok: bool(ok))
        self.context = context

    def wrap(self, conn: socket.socket) -> TlsChannel | None:
        conn.setblocking(True)
        tls = SSL.Connection(self.context, conn)
        tls.set_accept_state()
        try:
            tls.do_handshake()
        except (SSL.Error, OSError):
            return None
        return TlsChannel(tls, conn)


def server_context(pki: Pki, policy: TlsPolicy, client_ca: Pki | None = None) -> ServerTls:
    return ServerTls(pki, policy, client_ca)


def _wrap(conn: socket.socket, context: ServerTls) -> TlsChannel | None:
    return context.wrap(conn)


def _has_client_cert(tls: TlsChannel) -> bool:
    return tls.has_client_cert()


class SmtpHandler:
    """An SMTP server with STARTTLS (RFC 3207) in the manner of Postfix."""

    def __init__(
        self,
        context: ServerTls,
        policy: TlsPolicy,
        name: str = "mail1.dicommail.com",
        banner_delay_s: float = 0.0,
        greeting_pause_s: float = 0.0,
    ) -> None:
        self.context = context
        self.policy = policy
        self.name = name
        self.banner_delay_s = banner_delay_s
        # Postfix's postscreen: "220-" at once, the rest after a pause; a client that talks
        # in the pause fails its pregreet test (counted, and refused as postscreen does).
        self.greeting_pause_s = greeting_pause_s
        self.pregreets = 0

    def __call__(self, conn: socket.socket) -> None:
        if self.banner_delay_s:
            time.sleep(self.banner_delay_s)
        if self.greeting_pause_s:
            conn.sendall(f"220-{self.name} ESMTP Postfix (test)\r\n".encode())
            talked, _, _ = select.select([conn], [], [], self.greeting_pause_s)
            if talked:
                self.pregreets += 1
                conn.sendall(b"554 5.5.1 Error: talked before the greeting ended\r\n")
                conn.close()
                return
        conn.sendall(f"220 {self.name} ESMTP Postfix (test)\r\n".encode())
        # One list per connection: the TLS socket replaces the plain one after STARTTLS,
        # and whichever is current is closed at the end.
        current: list[socket.socket | TlsChannel] = [conn]
        try:
            self._serve(current)
        finally:
            current[0].close()

    def _serve(self, current: list[socket.socket | TlsChannel]) -> None:
        channel = current[0]
        while True:
            line = read_line(channel)
            if not line:
                return
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                if (
                    isinstance(channel, TlsChannel)
                    and self.policy.reject_later
                    and not _has_client_cert(channel)
                ):
                    channel.sendall(
                        b"421 4.7.1 mail1.dicommail.com Error: No client certificate presented\r\n"
                    )
                    return
                extensions = ["PIPELINING", "SIZE 52428800", "8BITMIME"]
                if not isinstance(channel, TlsChannel):
                    extensions.append("STARTTLS")
                lines = [self.name, *extensions]
                reply = "".join(f"250-{x}\r\n" for x in lines[:-1]) + f"250 {lines[-1]}\r\n"
                channel.sendall(reply.encode())
            elif command == b"STARTTLS" and not isinstance(channel, TlsChannel):
                channel.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                wrapped = _wrap(channel, self.context)
                if wrapped is None:
                    return
                channel = current[0] = wrapped
            elif command == b"QUIT":
                channel.sendall(b"221 2.0.0 Bye\r\n")
                return
            else:
                channel.sendall(b"502 5.5.2 Error: command not recognized\r\n")


class ImplicitTlsHandler:
    """A server that starts with the TLS handshake, then speaks in `_serve`."""

    def __init__(self, context: ServerTls, policy: TlsPolicy) -> None:
        self.context = context
        self.policy = policy

    def __call__(self, conn: socket.socket) -> None:
        tls = _wrap(conn, self.context)
        if tls is None:
            return
        with tls:
            self._serve(tls)

    def _serve(self, tls: TlsChannel) -> None:
        raise NotImplementedError


class Pop3Handler(ImplicitTlsHandler):
    """A POP3S server (implicit TLS) in the manner of Dovecot: it refuses every password but
    `password` (with `refusal`, then with `closes_after_refusal` ends the session),
    answering each after `answer_after_s` (Dovecot's delay of a refusal), and notes every
    password it is sent in `passwords` (a list servers may share)."""

    def __init__(
        self,
        context: ServerTls,
        policy: TlsPolicy,
        password: bytes | None = None,
        answer_after_s: float = 0.0,
        passwords: list[bytes] | None = None,
        refusal: bytes = b"-ERR [AUTH] Authentication failed.",
        closes_after_refusal: bool = False,
        mailbox_failure: bytes = b"",
        maildrop: threading.Lock | None = None,
        releases_after_s: float = 0.0,
    ) -> None:
        super().__init__(context, policy)
        self.password = password
        self.refusal = refusal
        # Ends the session after a refusal, as Dovecot does after [IN-USE].
        self.closes_after_refusal = closes_after_refusal
        # Said right after an accepted login, then the session ends: Dovecot's mail process
        # when it cannot open the mailbox ("-ERR [SYS/TEMP] Internal error occurred.").
        self.mailbox_failure = mailbox_failure
        # The mailbox store's lock, shared by the servers of one store: held from an
        # accepted login to the end of the session (RFC 1939 8); a second session is
        # answered [IN-USE].
        self.maildrop = maildrop
        # The maildrop let go of this long after the session ended: Dovecot's count of
        # sessions per user and address, kept in a process of its own, lags under load.
        self.releases_after_s = releases_after_s
        self.answer_after_s = answer_after_s
        self.passwords = [] if passwords is None else passwords

    def _serve(self, tls: TlsChannel) -> None:
        session: list[bool] = []  # [True] while this session holds the maildrop
        try:
            self._dialogue(tls, session)
        finally:
            if session and self.maildrop is not None:
                if self.releases_after_s:
                    threading.Timer(self.releases_after_s, self.maildrop.release).start()
                else:
                    self.maildrop.release()

    def _dialogue(self, tls: TlsChannel, session: list[bool]) -> None:
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
                given = line.strip()[5:]
                self.passwords.append(given)
                time.sleep(self.answer_after_s)
                if self.policy.reject_later and not _has_client_cert(tls):
                    answer = b"-ERR [AUTH] Client didn't present valid SSL certificate\r\n"
                elif self.password is not None and given == self.password:
                    answer = b"+OK Logged in.\r\n"
                    if self.maildrop is not None:
                        if self.maildrop.acquire(blocking=False):
                            session.append(True)
                        else:
                            answer = b"-ERR [IN-USE] Mailbox is locked by another session.\r\n"
                else:
                    answer = self.refusal + b"\r\n"
                try:
                    tls.sendall(answer)
                except (SSL.Error, OSError):
                    return  # a late answer: the client gave up waiting and has gone
                if self.closes_after_refusal and not answer.startswith(b"+OK"):
                    return
                if self.mailbox_failure and answer.startswith(b"+OK"):
                    tls.sendall(self.mailbox_failure + b"\r\n")
                    return
            elif command == b"STAT":
                tls.sendall(b"+OK 0 0\r\n")
            elif command == b"QUIT":
                tls.sendall(b"+OK Logging out.\r\n")
                return
            else:
                tls.sendall(b"-ERR Unknown command.\r\n")


class SilentAfterTlsHandler(ImplicitTlsHandler):
    """A POP3S server that completes the handshake (asking for the client certificate) and
    then says nothing until the client goes: a server, or a device holding the session,
    silent after the certificate — while large packets pass."""

    def _serve(self, tls: TlsChannel) -> None:
        while read_line(tls):
            pass


class HttpsHandler(ImplicitTlsHandler):
    """TLS on a port of its own answering HTTP, in the manner of nginx: with a `Date`
    header of the real time (`date="now"`, as nginx always sends it), of a given text, or
    none (`date=""`)."""

    def __init__(self, context: ServerTls, policy: TlsPolicy, date: str = "now") -> None:
        super().__init__(context, policy)
        self.date = date

    def _serve(self, tls: TlsChannel) -> None:
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 8192:
            chunk = tls.recv(1024)
            if not chunk:
                return
            request += chunk
        if self.policy.reject_later and not _has_client_cert(tls):
            body = (
                b"<html>\r\n<head><title>400 No required SSL certificate was sent</title>"
                b"</head>\r\n"
                b"<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
                b"<center>No required SSL certificate was sent</center>\r\n</body>\r\n</html>\r\n"
            )
            status = b"HTTP/1.1 400 Bad Request"
        else:
            body, status = b"<html><body>agent receiver</body></html>\r\n", b"HTTP/1.1 200 OK"
        date = formatdate(usegmt=True) if self.date == "now" else self.date
        tls.sendall(
            status
            + (f"\r\nDate: {date}".encode() if date else b"")
            + b"\r\nServer: nginx\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )


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


class NotPop3Handler:
    """TLS is fine, but what speaks inside is not POP3."""

    def __init__(self, context: ServerTls) -> None:
        self.context = context

    def __call__(self, conn: socket.socket) -> None:
        tls = _wrap(conn, self.context)
        if tls is not None:
            with tls:
                tls.sendall(b"HELLO this is not pop3\r\n")
                time.sleep(0.3)
