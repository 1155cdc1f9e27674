"""Bounded line reading over a plain or TLS connection, keeping a transcript.

Every read has an absolute deadline (a server that sends one byte a second still ends the
step on time) and a byte cap (a 1 MB banner without a newline ends as "too long").
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Protocol

from netdiag.privacy.secret import Secret
from netdiag.report.observations import TranscriptLine

MAX_LINE = 4096
MAX_TRANSCRIPT_TEXT = 300


class PeerClosed(Exception):
    """The peer closed the connection (FIN or TLS close_notify)."""


class PeerReset(Exception):
    """The peer reset the connection."""


class PeerTimeout(Exception):
    """Nothing (complete) arrived before the step's deadline."""


class LineTooLong(Exception):
    """More than MAX_LINE bytes without a line end."""


class TlsAlert(Exception):
    """The TLS layer failed after the handshake: an alert from the server, most often."""


class Transport(Protocol):
    def send(self, data: bytes, until: float) -> None: ...

    def recv(self, max_bytes: int, until: float) -> bytes: ...


def remaining(until: float) -> float:
    left = until - time.monotonic()
    if left <= 0:
        raise PeerTimeout()
    return left


class PlainTransport:
    """A connected TCP socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, data: bytes, until: float) -> None:
        self.sock.settimeout(remaining(until))
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise PeerTimeout() from None
        except (ConnectionResetError, BrokenPipeError):
            raise PeerReset() from None

    def recv(self, max_bytes: int, until: float) -> bytes:
        self.sock.settimeout(remaining(until))
        try:
            return self.sock.recv(max_bytes)
        except TimeoutError:
            raise PeerTimeout() from None
        except ConnectionResetError:
            raise PeerReset() from None


@dataclass
class Transcript:
    """The dialogue so far, each line with its time since the connection started."""

    started: float = field(default_factory=time.monotonic)
    lines: list[TranscriptLine] = field(default_factory=list)

    def add(self, direction: str, text: str) -> None:
        if len(text) > MAX_TRANSCRIPT_TEXT:
            text = text[:MAX_TRANSCRIPT_TEXT] + f"… ({len(text)} characters)"
        at = round((time.monotonic() - self.started) * 1000, 1)
        self.lines.append(TranscriptLine(direction=direction, text=text, at_ms=at))

    def since_start_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 1)


def quote(data: bytes, limit: int = 120) -> str:
    """Bytes as a readable, bounded quotation: printable ASCII kept, the rest escaped."""
    text = data[:limit].decode("ascii", "backslashreplace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text + ("…" if len(data) > limit else "")


class LineReader:
    """Reads CRLF (or LF) terminated lines from a transport into a transcript."""

    def __init__(self, transport: Transport, transcript: Transcript) -> None:
        self.transport = transport
        self.transcript = transcript
        self.buffer = b""

    def switch(self, transport: Transport) -> None:
        """Continue on another transport (after STARTTLS); unread plain bytes are dropped,
        as RFC 3207 requires."""
        self.transport = transport
        self.buffer = b""

    def send_line(self, text: str, until: float, shown: str | None = None) -> None:
        self.transcript.add("C", text if shown is None else shown)
        self.transport.send(text.encode("utf-8") + b"\r\n", until)

    def send_secret_line(self, command: bytes, secret: Secret, until: float, shown: str) -> None:
        """A command whose argument is a secret: only `shown` goes into the transcript."""
        self.transcript.add("C", shown)
        self.transport.send(command + secret.reveal() + b"\r\n", until)

    def read_line(self, until: float) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                self.transcript.add("S", quote(self.buffer))
                raise LineTooLong(quote(self.buffer))
            try:
                data = self.transport.recv(4096, until)
            except PeerTimeout:
                if self.buffer:
                    self.transcript.add("S", quote(self.buffer) + " (incomplete)")
                raise
            if not data:
                if self.buffer:
                    self.transcript.add("S", quote(self.buffer) + " (incomplete)")
                raise PeerClosed(quote(self.buffer))
            self.buffer += data
        raw, _, self.buffer = self.buffer.partition(b"\n")
        if len(raw) > MAX_LINE:
            self.transcript.add("S", quote(raw))
            raise LineTooLong(quote(raw))
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        self.transcript.add("S", line)
        return line
