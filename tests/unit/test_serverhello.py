"""The ServerHello parser behind the JA3S-style fingerprint."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from netdiag.probes.hello import read_answer
from netdiag.probes.serverhello import parse_server_hello
from netdiag.report.observations import HelloAnswer


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


def test_an_answer_in_a_version_not_offered_is_no_answer_to_the_hello() -> None:
    # An nginx that speaks TLS 1.0 and 1.1 only answers a hello offering TLS 1.2 alone with
    # a TLS 1.1 ServerHello (the highest it has below the one asked for): the peer speaks
    # TLS, but not TLS 1.2.
    tls11 = server_hello(0x0302, 0xC014, [(65281, b"\x00")])
    tls13 = server_hello(0x0303, 0x1302, [(43, b"\x03\x04")])
    only12, only13, old = (0x0303, 0x0303), (0x0304, 0x0304), (0x0301, 0x0302)
    assert read_answer(tls11, only12) == (
        HelloAnswer.OTHER_VERSION,
        "ServerHello, TLS 1.1, not offered",
    )
    assert read_answer(tls11, old) == (HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.1")
    assert read_answer(tls11) == (HelloAnswer.OTHER_VERSION, "ServerHello, TLS 1.1, not offered")
    assert read_answer(tls13, only13) == (HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")
    assert read_answer(tls13) == (HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")
    assert read_answer(tls13, only12)[0] is HelloAnswer.OTHER_VERSION  # type: ignore[index]
    # Still a TLS answer (the place measurement counts it), never a cut.
    assert HelloAnswer.OTHER_VERSION.is_tls and not HelloAnswer.OTHER_VERSION.is_cut
