"""The server's ServerHello, read from the wire before OpenSSL consumes it (MSG_PEEK):
the version, cipher and extension list that make a JA3S-style fingerprint of the server's
TLS stack. pyOpenSSL does not expose the extensions, so they are parsed here."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_HANDSHAKE = 22
_SERVER_HELLO = 2
_SUPPORTED_VERSIONS = 43
PEEK_BYTES = 16384


@dataclass(frozen=True, slots=True)
class ServerHello:
    version: int
    cipher: int
    extensions: tuple[int, ...]
    # The version chosen in the supported_versions extension (TLS 1.3), 0 without it.
    selected_version: int = 0

    @property
    def ja3s(self) -> str:
        """SSLVersion,Cipher,Extensions in decimal, as JA3S writes them before hashing."""
        return f"{self.version},{self.cipher},{'-'.join(str(e) for e in self.extensions)}"


def parse_server_hello(data: bytes) -> ServerHello | None:
    """The ServerHello at the start of `data` (TLS records as received), or None when the
    bytes are not (or not yet entirely) a ServerHello."""
    if len(data) < 5 or data[0] != _HANDSHAKE:
        return None
    record_length = struct.unpack_from("!H", data, 3)[0]
    body = data[5 : 5 + record_length]
    if len(body) < 4 or body[0] != _SERVER_HELLO:
        return None
    length = int.from_bytes(body[1:4], "big")
    hello = body[4 : 4 + length]
    if len(hello) < length or len(hello) < 38:
        return None
    version = struct.unpack_from("!H", hello, 0)[0]
    offset = 34  # version and random
    session_id_length = hello[offset]
    offset += 1 + session_id_length
    if len(hello) < offset + 3:
        return None
    cipher = struct.unpack_from("!H", hello, offset)[0]
    offset += 3  # cipher and compression method
    extensions: list[int] = []
    selected = 0
    if len(hello) >= offset + 2:
        end = offset + 2 + struct.unpack_from("!H", hello, offset)[0]
        offset += 2
        if end > len(hello):
            return None
        while offset + 4 <= end:
            kind, size = struct.unpack_from("!HH", hello, offset)
            extensions.append(kind)
            if kind == _SUPPORTED_VERSIONS and size == 2 and offset + 6 <= end:
                selected = struct.unpack_from("!H", hello, offset + 4)[0]
            offset += 4 + size
    return ServerHello(
        version=version, cipher=cipher, extensions=tuple(extensions), selected_version=selected
    )


def peek_server_hello(sock: socket.socket) -> ServerHello | None:
    """Look at what the server sent without taking it from OpenSSL's way."""
    try:
        data = sock.recv(PEEK_BYTES, socket.MSG_PEEK)
    except OSError:
        return None
    return parse_server_hello(data)
