"""Middleboxes of the tests, between netdiag and the real test servers: STARTTLS strippers
and maskers, a banner delayer, and DPI boxes that reset or swallow TLS."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

from tests.servers.base import read_line, reset

Rewrite = Callable[[bytes], bytes | None]


def _upstream(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _relay(
    client: socket.socket, server: socket.socket, *, on_client_tls: str = "", seconds: float = 10
) -> None:
    """Relay both ways; when the client starts TLS (a record 0x16 0x03), `on_client_tls`
    says what the DPI box does: "" relay, "reset", "swallow"."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        readable, _, _ = select.select([client, server], [], [], 0.1)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            if sock is client and on_client_tls and data[:2] == b"\x16\x03":
                if on_client_tls == "reset":
                    reset(client)
                    return
                if on_client_tls == "swallow":
                    # Nothing forwarded, nothing answered, until the client gives up.
                    _until_closed(client, ends)
                    return
            (server if sock is client else client).sendall(data)


class SmtpInspector:
    """An SMTP-aware proxy: relays line by line until STARTTLS, rewriting on the way."""

    def __init__(
        self,
        upstream_port: int,
        *,
        strip: bool = False,
        strip_offer: bool = False,
        mask: bool = False,
        banner_delay: float = 0.0,
        dpi: str = "",
    ) -> None:
        self.upstream_port = upstream_port
        self.strip = strip
        # Only the offer is removed from the EHLO reply; the command itself passes.
        self.strip_offer = strip_offer
        self.mask = mask
        self.banner_delay = banner_delay
        self.dpi = dpi

    def __call__(self, client: socket.socket) -> None:
        server = _upstream(self.upstream_port)
        with server:
            banner = read_line(server)
            if self.banner_delay:
                time.sleep(self.banner_delay)
            if self.mask:
                # Cisco ESMTP inspection: the banner text becomes asterisks.
                banner = b"220 " + b"*" * (len(banner) - 6) + b"\r\n"
            client.sendall(banner)
            while True:
                line = read_line(client)
                if not line:
                    return
                command = line.strip().upper()
                if command == b"STARTTLS" and (self.strip or self.mask):
                    client.sendall(
                        b"500 #5.5.1 command not recognized\r\n"
                        if self.mask
                        else b"502 5.5.2 Error: command not recognized\r\n"
                    )
                    continue
                server.sendall(line)
                lines: list[bytes] = []
                while not lines or lines[-1][3:4] == b"-":
                    reply_line = read_line(server)
                    if not reply_line:
                        return
                    lines.append(reply_line.rstrip(b"\r\n"))
                if command.startswith(b"EHLO"):
                    lines = self._rewrite_ehlo(lines)
                reply = b"".join(x[:3] + b"-" + x[4:] + b"\r\n" for x in lines[:-1])
                reply += lines[-1][:3] + b" " + lines[-1][4:] + b"\r\n"
                client.sendall(reply)
                if command == b"STARTTLS":
                    _relay(client, server, on_client_tls=self.dpi)
                    return

    def _rewrite_ehlo(self, lines: list[bytes]) -> list[bytes]:
        if self.strip or self.strip_offer:
            return [x for x in lines if x[4:].strip().upper() != b"STARTTLS"]
        if self.mask:
            return [x.replace(b"STARTTLS", b"XXXXXXXA") for x in lines]
        return lines


class TlsDpi:
    """A plain relay that resets or swallows the connection at the client's ClientHello."""

    def __init__(self, upstream_port: int, action: str) -> None:
        self.upstream_port = upstream_port
        self.action = action

    def __call__(self, client: socket.socket) -> None:
        with _upstream(self.upstream_port) as server:
            _relay(client, server, on_client_tls=self.action)


class LatencyProxy:
    """Adds `delay` seconds to every chunk in each direction: a long-distance path on
    loopback, for benchmarks (the kernel here has no netem)."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay

    def __call__(self, client: socket.socket) -> None:
        import threading

        with _upstream(self.upstream_port) as server:
            backward = threading.Thread(target=self._pipe, args=(server, client), daemon=True)
            backward.start()
            self._pipe(client, server)
            backward.join(timeout=5)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                time.sleep(self.delay)
                target.sendall(data)
        except OSError:
            return


def _until_closed(client: socket.socket, ends: float) -> None:
    """Read and drop what the client sends until it closes (or `ends`)."""
    while time.monotonic() < ends:
        readable, _, _ = select.select([client], [], [], 0.1)
        if readable:
            try:
                if not client.recv(65536):
                    return
            except OSError:
                return
