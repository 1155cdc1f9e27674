"""The ServerHello parser behind the JA3S-style fingerprint."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from netdiag.probes.serverhello import parse_server_hello


def server_hello(
    version: int, cipher: int, extensions: list[tuple[int, bytes]], session_id: bytes = b""
) -> bytes:
    ext = b"".join(struct.pack("!HH", kind, len(data)) + data for kind, data in extensions)
    hello = struct.pack("!H", version) + b"\x11" * 32 + bytes([len(session_id)]) + session_id
    hello += struct.pack("!HB", cipher, 0) + struct.pack("!H", len(ext)) + ext
    handshake = bytes([2]) + len(hello).to_bytes(3, "big") + hello
    return bytes([22, 3, 3]) + struct.pack("!H", len(handshake)) + handshake


def test_tls13_server_hello() -> None:
    data = server_hello(
        0x0303, 0x1302, [(43, b"\x03\x04"), (51, b"\x00\x1d\x00\x20" + b"k" * 32)], b"s" * 32
    )
    hello = parse_server_hello(data + b"\x14\x03\x03\x00\x01\x01")  # a following record is ignored
    assert hello is not None and hello.ja3s == "771,4866,43-51"


def test_incomplete_or_foreign_bytes() -> None:
    data = server_hello(0x0303, 0xC02C, [(65281, b"\x00"), (11, b"\x01\x00")])
    assert parse_server_hello(data) is not None
    assert parse_server_hello(data[:30]) is None
    assert parse_server_hello(b"HTTP/1.1 400 Bad Request\r\n") is None
    assert parse_server_hello(b"\x15\x03\x03\x00\x02\x02\x28") is None  # an alert record


@given(st.binary(max_size=200))
def test_parser_never_crashes(data: bytes) -> None:
    parse_server_hello(data)


@given(
    st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.lists(st.integers(0, 0xFFFF), max_size=10)
)
def test_round_trip(version: int, cipher: int, kinds: list[int]) -> None:
    hello = parse_server_hello(server_hello(version, cipher, [(k, b"") for k in kinds]))
    assert hello is not None and (hello.version, hello.cipher, hello.extensions) == (
        version,
        cipher,
        tuple(kinds),
    )
