"""A server that replays a genuine chain without its key: the TLS 1.2 first flight written
by hand (RFC 5246 7.4), because no real server software will present a certificate whose
key it does not hold.

ServerHello (ECDHE with ECDSA, TLS 1.2), the vendor's Certificate message, a
ServerKeyExchange whose signature is made with a key of its own, ServerHelloDone. A client
reads and (in its verify callback) records the chain, then checks the signature with the
leaf's public key: it fails, and the handshake ends with an alert. What an impostor that
copied the vendor's chain off the wire can do, and no more."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TLS12 = b"\x03\x03"
HANDSHAKE = 22
ECDHE_ECDSA_AES128_GCM = b"\xc0\x2b"
X25519 = b"\x00\x1d"
ECDSA_SECP256R1_SHA256 = b"\x04\x03"
MAX_RECORD = 16384


def _record(content_type: int, body: bytes) -> bytes:
    return struct.pack("!B2sH", content_type, TLS12, len(body)) + body


def _handshake(kind: int, body: bytes) -> bytes:
    return struct.pack("!B", kind) + len(body).to_bytes(3, "big") + body


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _read_client_hello(conn: socket.socket) -> bytes:
    """The client's random, from its ClientHello record (which must be one record)."""
    header = _read_exactly(conn, 5)
    length = struct.unpack("!H", header[3:5])[0]
    body = _read_exactly(conn, min(length, MAX_RECORD))
    if header[0] != HANDSHAKE or body[0] != 1:
        raise ValueError("not a ClientHello")
    return body[6:38]


def _read_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


def replay_chain(chain_der: Sequence[bytes]):  # type: ignore[no-untyped-def]
    """A connection handler for `tests.servers.base.Server` that replays `chain_der`."""

    def serve(conn: socket.socket) -> None:
        client_random = _read_client_hello(conn)
        server_random = os.urandom(32)
        hello = (
            TLS12
            + server_random
            + _vector(b"", 1)  # no session id
            + ECDHE_ECDSA_AES128_GCM
            + b"\x00"  # no compression
            + _vector(b"\xff\x01\x00\x01\x00", 2)  # renegotiation_info, empty
        )
        certificates = _vector(b"".join(_vector(der, 3) for der in chain_der), 3)
        share = os.urandom(32)
        params = b"\x03" + X25519 + _vector(share, 1)
        # Signed, as RFC 5246 7.4.3 asks, over both randoms and the parameters — by a key
        # that is not the leaf's: the one thing the impostor cannot do right.
        own_key = ec.generate_private_key(ec.SECP256R1())
        signature = own_key.sign(client_random + server_random + params, ec.ECDSA(hashes.SHA256()))
        key_exchange = params + ECDSA_SECP256R1_SHA256 + _vector(signature, 2)
        flight = (
            _handshake(2, hello)
            + _handshake(11, certificates)
            + _handshake(12, key_exchange)
            + _handshake(14, b"")
        )
        conn.sendall(_record(HANDSHAKE, flight))
        # Whatever the client says now (its alert), the impostor has nothing to answer.
        try:
            conn.recv(4096)
        except OSError:
            pass

    return serve
