"""A device on the path that reads each ClientHello and cuts the ones a policy names —
by server name (a URL/SNI category filter), by offering TLS 1.3 (an inspection policy
that blocks it), or by size (an engine that chokes on large hellos) — and relays the rest
to the real server behind it, byte for byte. Plain bytes before the hello (an SMTP
dialogue up to STARTTLS) are relayed as they are. It counts the connections it accepts, so
that a test can say how many a run opened."""

from __future__ import annotations

import select
import socket
import struct
import threading
from dataclasses import dataclass

from tests.servers.base import Server, reset

_HANDSHAKE = 22
_SNI = 0
_SUPPORTED_VERSIONS = 43


@dataclass(frozen=True)
class Hello:
    size: int  # the record's length, header included
    server_name: str
    offers_tls13: bool


def parse_client_hello(record: bytes) -> Hello | None:
    """The facts a filter reads from a ClientHello record, or None if it is none."""
    if len(record) < 9 or record[0] != _HANDSHAKE or record[5] != 1:
        return None
    body = record[9:]
    offset = 2 + 32  # legacy version, random
    offset += 1 + body[offset]  # session id
    offset += 2 + struct.unpack_from("!H", body, offset)[0]  # cipher suites
    offset += 1 + body[offset]  # compression methods
    name, tls13 = "", False
    if offset + 2 <= len(body):
        end = offset + 2 + struct.unpack_from("!H", body, offset)[0]
        offset += 2
        while offset + 4 <= min(end, len(body)):
            kind, size = struct.unpack_from("!HH", body, offset)
            data = body[offset + 4 : offset + 4 + size]
            if kind == _SNI and len(data) > 5:
                length = struct.unpack_from("!H", data, 3)[0]
                name = data[5 : 5 + length].decode("ascii", "replace")
            if kind == _SUPPORTED_VERSIONS and data:
                versions = data[1 : 1 + data[0]]
                tls13 = any(versions[i : i + 2] == b"\x03\x04" for i in range(0, len(versions), 2))
            offset += 4 + size
    return Hello(size=len(record), server_name=name, offers_tls13=tls13)


@dataclass(frozen=True)
class Policy:
    """What the device cuts; a hello no rule names passes. `silent` drops instead of
    resetting (the device just stops forwarding)."""

    blocked_names: tuple[str, ...] = ()
    blocks_tls13: bool = False
    max_hello: int = 0
    blocks_all: bool = False
    silent: bool = False
    # Rewrites the hello instead of cutting it: removes its supported_versions extension, so
    # that the server sees a TLS 1.2 client (a "downgrade to 1.2" inspection policy).
    strips_tls13: bool = False

    def cuts(self, hello: Hello) -> bool:
        return (
            self.blocks_all
            or hello.server_name in self.blocked_names
            or (self.blocks_tls13 and hello.offers_tls13)
            or (0 < self.max_hello < hello.size)
        )


def without_supported_versions(record: bytes) -> bytes:
    """The ClientHello record with its supported_versions extension taken out (lengths
    mended): what a device that forces TLS 1.2 forwards."""
    body = bytearray(record[9:])
    offset = 2 + 32
    offset += 1 + body[offset]
    offset += 2 + struct.unpack_from("!H", body, offset)[0]
    offset += 1 + body[offset]
    lengths_at = offset
    end = offset + 2 + struct.unpack_from("!H", body, offset)[0]
    offset += 2
    kept = bytearray()
    while offset + 4 <= end:
        kind, size = struct.unpack_from("!HH", body, offset)
        if kind != _SUPPORTED_VERSIONS:
            kept += body[offset : offset + 4 + size]
        offset += 4 + size
    new_body = bytes(body[:lengths_at]) + struct.pack("!H", len(kept)) + bytes(kept)
    handshake = bytes([1]) + len(new_body).to_bytes(3, "big") + new_body
    return record[:3] + struct.pack("!H", len(handshake)) + handshake


class HelloFilter(Server):
    """The device, listening on its own port in front of `upstream_port`."""

    def __init__(self, upstream_port: int, policy: Policy) -> None:
        super().__init__(self._relay)
        self.upstream_port = upstream_port
        self.policy = policy
        self.accepted = 0
        self.hellos: list[Hello] = []
        self._count = threading.Lock()

    def _relay(self, client: socket.socket) -> None:
        with self._count:
            self.accepted += 1
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        pending = b""
        inspected = False
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 5)
                if not readable:
                    return
                if upstream in readable:
                    data = upstream.recv(16384)
                    if not data:
                        return
                    client.sendall(data)
                if client in readable:
                    data = client.recv(16384)
                    if not data:
                        return
                    if inspected:
                        upstream.sendall(data)
                        continue
                    pending += data
                    if pending[0] != _HANDSHAKE:
                        upstream.sendall(pending)  # plain text before STARTTLS
                        pending = b""
                        continue
                    if (
                        len(pending) < 5
                        or len(pending) < 5 + struct.unpack_from("!H", pending, 3)[0]
                    ):
                        continue  # the rest of the hello is on its way
                    hello = parse_client_hello(pending)
                    inspected = True
                    if hello is not None:
                        self.hellos.append(hello)
                        if self.policy.cuts(hello):
                            if self.policy.silent:
                                # Nothing forwarded, nothing answered, until the client gives up.
                                select.select([client], [], [], 10)
                                return
                            reset(client)
                            return
                        if self.policy.strips_tls13:
                            pending = without_supported_versions(pending)
                    upstream.sendall(pending)
                    pending = b""
        finally:
            upstream.close()
