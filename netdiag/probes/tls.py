"""TLS handshakes with pyOpenSSL: it shows what the standard library hides — the
CertificateRequest and its CA list, whether our certificate went out, the alerts.

pyOpenSSL raises WantRead/WantWrite on non-blocking sockets, so every TLS step runs in a
select() loop bounded by the step's deadline.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import ipaddress
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from OpenSSL import SSL, crypto

from netdiag.probes.lines import PeerClosed, PeerReset, PeerTimeout, TlsAlert, remaining
from netdiag.probes.serverhello import ServerHello, peek_server_hello
from netdiag.report.observations import TlsObservation, TlsOutcome
from netdiag.trust.chains import describe_der
from netdiag.trust.identity import ClientIdentity

# RFC 8446 section 6 (and RFC 5246 7.2): alert descriptions.
ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
    40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 115: "unknown_psk_identity",
    116: "certificate_required", 120: "no_application_protocol",
}  # fmt: skip

T = TypeVar("T")

# OpenSSL reasons that mean the peer does not speak TLS at all.
_NOT_TLS_REASONS = ("wrong version number", "packet length too long", "record layer failure",
                    "unknown protocol", "http request", "record_layer_failure")  # fmt: skip


@dataclass
class _HandshakeEvents:
    """What the info callback saw during the handshake."""

    started: float = field(default_factory=time.monotonic)
    states: list[tuple[float, str]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    was_cert_requested: bool = False
    wrote_client_cert: bool = False
    # A TLS 1.3 server sends its session tickets once it has read our Finished, after our
    # certificate: one that rejects the certificate sends its alert instead.
    has_session_ticket: bool = False
    on_client_hello: Callable[[], None] | None = None

    def callback(self, conn: SSL.Connection, where: int, ret: int) -> None:
        if where & SSL.SSL_CB_LOOP:
            state = conn.get_state_string().decode("ascii", "replace")
            self.states.append((round((time.monotonic() - self.started) * 1000, 1), state))
            if "write client hello" in state and self.on_client_hello is not None:
                hook, self.on_client_hello = self.on_client_hello, None
                hook()
            if "read server certificate request" in state:
                self.was_cert_requested = True
            if "write client certificate" in state:
                self.wrote_client_cert = True
            if "read server session ticket" in state:
                self.has_session_ticket = True
        if where & SSL.SSL_CB_ALERT:
            direction = "received" if where & SSL.SSL_CB_READ else "sent"
            level = "fatal" if ret >> 8 == 2 else "warning"
            description = ALERTS.get(ret & 0xFF, f"alert {ret & 0xFF}")
            if description != "close_notify":
                self.alerts.append(f"{direction} {level} alert {description}")


class _HelloPeek:
    """Peeks at the server's first flight once the ClientHello is out, before OpenSSL
    reads it. It waits for the data inside the handshake: on loopback or a fast path the
    ServerHello is there before OpenSSL would ever ask to wait."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        self.sock = sock
        self.until = until
        self.hello: ServerHello | None = None
        self.tries = 0

    def after_client_hello(self) -> None:
        while self.hello is None and self.tries < 8:
            self.tries += 1
            try:
                readable, _, _ = select.select(
                    [self.sock], [], [], max(0.0, self.until - time.monotonic())
                )
            except (OSError, ValueError):
                return
            if not readable:
                return  # silence: the handshake itself will find that out
            self.hello = peek_server_hello(self.sock)
            if self.hello is None:
                time.sleep(0.005)  # a ServerHello cut across segments: the rest is on its way


# Key shares for X25519 and P-256 in the first ClientHello, as Windows' SChannel (the
# gateway's own TLS stack) sends them: a server or middlebox that prefers P-256 answers at
# once instead of with a HelloRetryRequest. The round trip that costs matters: sslsplit,
# for one, closes our handshake when its own upstream is refused, and an extra round trip
# loses the race to see the chain it forged. The "*" syntax needs OpenSSL 3.5; older ones
# get the same groups with one key share.
_GROUPS = (b"*X25519:*P-256:P-384", b"X25519:P-256:P-384")
# The small hello of an experiment: one group, one key share.
_SMALL_GROUPS = (b"X25519",)


def offer_groups(context: SSL.Context, small: bool = False) -> None:
    from OpenSSL._util import lib

    for groups in _SMALL_GROUPS if small else _GROUPS:
        if lib.SSL_CTX_set1_curves_list(context._context, groups) == 1:
            return


def make_context(identity: ClientIdentity | None) -> SSL.Context:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_VERSION)
    offer_groups(context)
    # We record and verify the server's chain ourselves afterwards: a failed verification is
    # an observation for the diagnosis, not a reason to stop looking.
    context.set_verify(SSL.VERIFY_NONE, None)
    if identity is not None:
        context.use_certificate(identity.certificate)
        context.use_privatekey(identity.key)  # type: ignore[arg-type]
        for ca in identity.chain:
            if ca.subject != ca.issuer:
                context.add_extra_chain_cert(ca)
    return context


def _wait(sock: socket.socket, for_write: bool, until: float) -> None:
    left = remaining(until)
    readable, writable, _ = select.select(
        [] if for_write else [sock], [sock] if for_write else [], [], left
    )
    if not readable and not writable:
        raise PeerTimeout()


def _ssl_reasons(error: SSL.Error) -> str:
    parts = []
    for item in error.args[0] if error.args and isinstance(error.args[0], list) else []:
        if isinstance(item, tuple) and item:
            parts.append(str(item[-1]))
    return "; ".join(parts) or str(error)


def _retrying(
    conn: SSL.Connection,
    sock: socket.socket,
    until: float,
    step: Callable[[], T],
    settled: Callable[[], bool] | None = None,
) -> T:
    while True:
        try:
            return step()
        except SSL.WantReadError:
            if settled is not None and settled():
                raise PeerTimeout() from None
            _wait(sock, False, until)
        except SSL.WantWriteError:
            _wait(sock, True, until)


class TlsTransport:
    """An established pyOpenSSL connection, read and written under deadlines."""

    def __init__(
        self, conn: SSL.Connection, sock: socket.socket, events: _HandshakeEvents | None = None
    ) -> None:
        self.conn = conn
        self.sock = sock
        self._events = events

    @property
    def has_session_ticket(self) -> bool:
        """Whether the server has sent a session ticket (TLS 1.3: it took our Finished)."""
        return self._events is not None and self._events.has_session_ticket

    def send(self, data: bytes, until: float) -> None:
        offset = 0
        while offset < len(data):
            chunk = data[offset : offset + 16384]
            try:
                offset += self._io(functools.partial(self.conn.send, chunk), until)
            except SSL.ZeroReturnError:
                # The peer closed TLS (close_notify) before this was sent.
                raise PeerClosed("") from None

    def recv(
        self, max_bytes: int, until: float, settled: Callable[[], bool] | None = None
    ) -> bytes:
        """What the peer sent (b"" when it closed TLS); PeerTimeout when nothing came before
        `until`, or once `settled()` says that nothing more is worth waiting for."""
        try:
            return self._io(functools.partial(self.conn.recv, max_bytes), until, settled)
        except SSL.ZeroReturnError:
            return b""

    def _io(
        self, step: Callable[[], T], until: float, settled: Callable[[], bool] | None = None
    ) -> T:
        try:
            return _retrying(self.conn, self.sock, until, step, settled)
        except SSL.SysCallError as e:
            if e.args and e.args[0] in (errno.ECONNRESET, errno.EPIPE, 10054):
                raise PeerReset() from None
            raise PeerClosed("") from None
        except SSL.ZeroReturnError:
            raise
        except SSL.Error as e:
            raise TlsAlert(_ssl_reasons(e)) from None

    def close(self) -> None:
        """Send close_notify without waiting for the peer's (RFC 8446 6.1 allows it)."""
        try:
            self.conn.shutdown()
        except (SSL.Error, OSError):
            pass


def handshake(
    sock: socket.socket,
    server_name: str,
    identity: ClientIdentity | None,
    until: float,
    timeout_s: float,
) -> tuple[TlsObservation, TlsTransport | None]:
    """Run the TLS handshake on a connected socket; the transport is None if it failed."""
    hellos = _HelloPeek(sock, until)
    events = _HandshakeEvents(on_client_hello=hellos.after_client_hello)
    context = make_context(identity)
    context.set_info_callback(events.callback)
    presented = _PresentedChain()
    # Verification "on" only to be called when the server's Certificate message has been
    # read, and to keep the chain then: an interceptor that gets its own upstream refused
    # (no client certificate for the vendor's server) closes our handshake a moment later,
    # and the chain it had already shown is the evidence. Every certificate is accepted:
    # the diagnosis judges the chain, not the handshake.
    context.set_verify(SSL.VERIFY_PEER, presented.keep)
    conn = SSL.Connection(context, sock)
    is_name = _is_dns_name(server_name)
    if is_name:
        conn.set_tlsext_host_name(server_name.encode("idna"))
    conn.set_connect_state()
    sock.setblocking(False)

    def seen(outcome: TlsOutcome, error: str = "") -> TlsObservation:
        return TlsObservation(
            outcome=outcome,
            server_name=server_name if is_name else "",
            chain_der=presented.chain_der,
            chain=tuple(describe_der(d) for d in presented.chain_der),
            was_client_cert_requested=events.was_cert_requested if events.states else None,
            was_client_cert_sent=events.wrote_client_cert and identity is not None,
            alert="; ".join(events.alerts),
            error=error,
            handshake_ms=round((time.monotonic() - events.started) * 1000, 1),
            timeout_s=timeout_s,
            ja3s=hellos.hello.ja3s if hellos.hello is not None else "",
        )

    try:
        _retrying(conn, sock, until, conn.do_handshake)
    except PeerTimeout:
        return seen(TlsOutcome.STALLED, f"no handshake within {timeout_s:g} s"), None
    except SSL.SysCallError as e:
        if e.args and e.args[0] in (errno.ECONNRESET, 10054):
            return seen(TlsOutcome.RESET, "connection reset during the handshake"), None
        return seen(TlsOutcome.CLOSED, "connection closed during the handshake"), None
    except SSL.ZeroReturnError:
        return seen(TlsOutcome.CLOSED, "connection closed during the handshake"), None
    except SSL.Error as e:
        reasons = _ssl_reasons(e)
        not_tls = any(r in reasons.lower() for r in _NOT_TLS_REASONS) and not events.alerts
        return seen(TlsOutcome.NOT_TLS if not_tls else TlsOutcome.FAILED, reasons), None
    except OSError as e:
        return seen(TlsOutcome.RESET, e.strerror or str(e)), None

    # DER straight from OpenSSL: cryptography refuses some certificates that OpenSSL
    # accepted (a negative serial, odd encodings); such a chain is evidence, not a crash.
    chain_der = tuple(
        crypto.dump_certificate(crypto.FILETYPE_ASN1, c) for c in conn.get_peer_cert_chain() or ()
    )
    observation = seen(TlsOutcome.ESTABLISHED)
    ca_list = conn.get_client_ca_list()
    established = dataclasses.replace(
        observation,
        version=conn.get_protocol_version_name(),
        cipher=conn.get_cipher_name() or "",
        group=_group_name(conn),
        chain_der=chain_der,
        chain=tuple(describe_der(d) for d in chain_der),
        client_ca_names=tuple(_components_text(n) for n in ca_list),
        client_ca_der=tuple(n.der() for n in ca_list),
    )
    return established, TlsTransport(conn, sock, events)


class _PresentedChain:
    """The server's chain, kept from the verify callback as soon as OpenSSL has read it."""

    def __init__(self) -> None:
        self.chain_der: tuple[bytes, ...] = ()

    def keep(
        self, conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int
    ) -> bool:
        if not self.chain_der:
            self.chain_der = tuple(
                crypto.dump_certificate(crypto.FILETYPE_ASN1, c)
                for c in conn.get_peer_cert_chain() or ()
            )
        return True


def _group_name(conn: SSL.Connection) -> str:
    try:
        return conn.get_group_name() or ""
    except (SSL.Error, AttributeError):
        return ""


def _components_text(name: crypto.X509Name) -> str:
    parts = [f"{k.decode()}={v.decode('utf-8', 'replace')}" for k, v in name.get_components()]
    return ",".join(reversed(parts))


def _is_dns_name(server_name: str) -> bool:
    if not server_name:
        return False
    try:
        ipaddress.ip_address(server_name)
    except ValueError:
        return True
    return False
