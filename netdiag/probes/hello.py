"""One experiment's ClientHello and the first answer to it (`Experiment`): the same address
and port as a failed handshake, one thing changed — the name in the SNI, the versions
offered, the hello's size. Nothing is completed and nothing is authenticated: the question
is only whether the server (or what answers for it) speaks TLS to this hello, states an
alert, or cuts it.

The hello is OpenSSL's own, taken from a memory BIO (so its exact size is known and the
answer is read raw from the socket); on port 25 the STARTTLS prelude runs first."""

from __future__ import annotations

import errno
import select
import socket
import struct
import time

from OpenSSL import SSL

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.lines import (
    LineReader,
    PeerClosed,
    PeerReset,
    PeerTimeout,
    PlainTransport,
    quote,
)
from netdiag.probes.serverhello import parse_server_hello
from netdiag.probes.tcp import SMALL_MSS, can_ask_for_small_segments, connect_tcp, limit_hops
from netdiag.probes.tls import ALERTS, offer_groups
from netdiag.report.observations import Experiment, ExperimentResult, HelloAnswer
from netdiag.settings.targets import Service

# What the kernel reports for an ICMP error on a connected socket (a hop-limited hello that
# expired on the way gets "No route to host").
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH})
_ALERT = 21
_HANDSHAKE = 22
_SUPPORTED_VERSIONS = 43
_VERSION_NAMES = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}

# The versions each experiment's hello offers (lowest, highest); the others offer 1.2-1.3.
_OFFERED = {
    Experiment.TLS12_ONLY: (0x0303, 0x0303),
    Experiment.TLS13_ONLY: (0x0304, 0x0304),
    Experiment.OLD_TLS: (0x0301, 0x0302),
}
_MODERN = (0x0303, 0x0304)
# An HTTP response's header is read up to this much (a proxy's error page follows it).
_MAX_HTTP_HEAD = 8192

# The big hello's size: more than one full-size packet carries (1460 bytes of TCP payload
# on Ethernet), so that its first segment is as large as this machine sends at all.
BIG_HELLO_BYTES = 1600
_PADDING = 21  # RFC 7685
# The split big hello's segments: smaller than any path's MTU (IPv4 guarantees 576 bytes),
# each sent on its own (no Nagle, a pause against the kernel's coalescing of small writes).
_SMALL_SEGMENT = 400
_SEGMENT_PAUSE_S = 0.005

# The small hello: one cipher per version, one key share, no session ticket.
_SMALL_CIPHERS = b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
_SMALL_TLS13 = b"TLS_AES_128_GCM_SHA256"


def client_hello(server_name: str, kind: Experiment) -> tuple[bytes, str]:
    """The ClientHello record(s) OpenSSL sends for this experiment, and the versions it
    offers in words."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE, None)
    # The probe's hello: 1.0 and 1.1 are allowed, but OpenSSL 3 offers them at security
    # level 0 only, so 1.2 and 1.3 go out.
    versions = "TLS 1.2-1.3"
    context.set_min_proto_version(SSL.TLS1_VERSION)
    if kind is Experiment.TLS12_ONLY:
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_max_proto_version(SSL.TLS1_2_VERSION)
        versions = "TLS 1.2"
    elif kind is Experiment.TLS13_ONLY:
        context.set_min_proto_version(SSL.TLS1_3_VERSION)
        versions = "TLS 1.3"
    elif kind is Experiment.OLD_TLS:
        context.set_max_proto_version(SSL.TLS1_1_VERSION)
        # OpenSSL offers 1.0 and 1.1 at security level 0 only. The hello asks which version
        # the peer speaks; no session follows it, nothing is sent after it.
        context.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
        versions = "TLS 1.0-1.1"
    if kind is Experiment.SMALL_HELLO:
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_cipher_list(_SMALL_CIPHERS)
        context.set_tls13_ciphersuites(_SMALL_TLS13)
        context.set_options(SSL.OP_NO_TICKET)
        offer_groups(context, small=True)
        versions = "TLS 1.2-1.3"
    else:
        offer_groups(context)
    conn = SSL.Connection(context, None)
    if server_name:
        conn.set_tlsext_host_name(server_name.encode("idna"))
    conn.set_connect_state()
    try:
        conn.do_handshake()
    except SSL.WantReadError:
        pass
    hello = conn.bio_read(65536)
    if kind in (Experiment.BIG_HELLO, Experiment.BIG_HELLO_SPLIT):
        hello = padded(hello, BIG_HELLO_BYTES)
    return hello, versions


def padded(record: bytes, size: int) -> bytes:
    """The ClientHello `record` (one TLS record, as OpenSSL writes it) grown to `size` bytes
    by a padding extension (RFC 7685: zeros, ignored by the server) appended to its
    extensions; the record unchanged where it is not one whole ClientHello with extensions
    or is as large already."""
    need = size - len(record) - 4  # the extension's own type and length
    if need < 0 or len(record) < 9 or record[0] != _HANDSHAKE or record[5] != 1:
        return record
    if struct.unpack_from("!H", record, 3)[0] != len(record) - 5:
        return record
    body = record[9:]
    try:
        at = 2 + 32  # legacy version, random
        at += 1 + body[at]  # session id
        at += 2 + struct.unpack_from("!H", body, at)[0]  # cipher suites
        at += 1 + body[at]  # compression methods
        if at + 2 + struct.unpack_from("!H", body, at)[0] != len(body):
            return record
    except (IndexError, struct.error):
        return record
    extensions = struct.unpack_from("!H", body, at)[0] + 4 + need
    grown = (
        body[:at]
        + struct.pack("!H", extensions)
        + body[at + 2 :]
        + struct.pack("!HH", _PADDING, need)
        + bytes(need)
    )
    handshake = b"\x01" + len(grown).to_bytes(3, "big") + grown
    return record[:3] + struct.pack("!H", len(handshake)) + handshake


def read_answer(data: bytes, offered: tuple[int, int] = _MODERN) -> tuple[HelloAnswer, str] | None:
    """The first answer in `data` (records as received), or None while it is incomplete; a
    ServerHello in a version outside `offered` is no answer to what was asked; an HTTP
    response is complete with its header."""
    if data.startswith(b"HTTP/"[: len(data)]):
        if b"\r\n\r\n" not in data and len(data) < _MAX_HTTP_HEAD:
            return None
        return HelloAnswer.HTTP_REPLY, http_said(data)
    if len(data) < 5:
        return None
    if data[0] == _ALERT:
        if len(data) < 7:
            return None
        return HelloAnswer.ALERT, ALERTS.get(data[6], f"alert {data[6]}")
    if data[0] != _HANDSHAKE:
        first_line = data.split(b"\n", 1)[0].rstrip(b"\r")
        return HelloAnswer.NOT_TLS, f"the answer starts with '{quote(first_line, 60)}'"
    hello = parse_server_hello(data)
    if hello is None:
        record_length = struct.unpack_from("!H", data, 3)[0]
        if len(data) >= 5 + record_length:
            return HelloAnswer.NOT_TLS, "a handshake record that is no ServerHello"
        return None
    version = hello.selected_version or hello.version
    said = f"ServerHello, {_VERSION_NAMES.get(version, hex(version))}"
    if not offered[0] <= version <= offered[1]:
        return HelloAnswer.OTHER_VERSION, f"{said}, not offered"
    return HelloAnswer.SERVER_HELLO, said


def http_said(data: bytes) -> str:
    """An HTTP response in words: its status line and the `Server` header, quoted (what a
    peer sends is shown, never interpreted)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    said = f"HTTP: '{quote(head[0], 80)}'"
    for line in head[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"server":
            said += f", Server: '{quote(value.strip(), 60)}'"
            break
    return said


def final_answer(data: bytes) -> tuple[HelloAnswer, str]:
    """What `data` was, once the peer has closed or gone quiet after it."""
    if data.startswith(b"HTTP/"):
        return HelloAnswer.HTTP_REPLY, http_said(data)
    return HelloAnswer.NOT_TLS, "closed after a partial answer"


def probe_hello(
    address: str,
    port: int,
    service: Service,
    server_name: str,
    kind: Experiment,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
    hop_limit: int = 0,
    answer_wait: float = 0.0,
) -> ExperimentResult:
    """Connect, run the STARTTLS prelude on 25, send the experiment's hello, and say what
    came back; every outcome is a result, never an exception. With `hop_limit`, the hello
    (and what follows it) leaves with that TTL: the connect and the prelude do not, so
    that only the TLS answer's origin is measured, as OONI's tlsmiddlebox does."""
    started = time.monotonic()
    hello, versions = client_hello(server_name, kind)
    base = {
        "kind": kind,
        "address": address,
        "port": port,
        "server_name": server_name,
        "versions": versions,
        "hello_bytes": len(hello),
        "hop_limit": hop_limit,
        "max_segment": SMALL_MSS if kind is Experiment.SMALL_SEGMENTS else 0,
    }

    def result(answer: HelloAnswer, detail: str) -> ExperimentResult:
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return ExperimentResult(**base, answer=answer, detail=detail, elapsed_ms=elapsed)  # type: ignore[arg-type]

    if deadline.remaining() < timeout / 2:
        return result(HelloAnswer.NOT_RUN, "no time left in the run")
    small = kind is Experiment.SMALL_SEGMENTS
    if small and not can_ask_for_small_segments():
        return result(HelloAnswer.NOT_RUN, "this system cannot ask for smaller segments")
    tcp, sock = connect_tcp(
        address, port, deadline.step(timeout), flows, max_segment=SMALL_MSS if small else None
    )
    if sock is None:
        detail = tcp.detail or tcp.outcome.value
        return result(HelloAnswer.NOT_RUN, f"the connection failed: {detail}")
    try:
        if service is Service.SMTP_STARTTLS:
            try:
                problem = _starttls(sock, timeout, deadline)
            except (PeerClosed, EOFError):
                return result(HelloAnswer.CLOSED, "connection closed in the STARTTLS dialogue")
            if problem:
                return result(HelloAnswer.NOT_RUN, problem)
        until = time.monotonic() + deadline.step(timeout)
        if hop_limit:
            limit_hops(sock, hop_limit)
        if answer_wait:
            # The connect and the prelude had the step's time; the answer its own.
            until = time.monotonic() + min(answer_wait, max(deadline.remaining(), 0.0))
        if kind is Experiment.BIG_HELLO_SPLIT:
            _send_in_small_segments(sock, hello)
        else:
            sock.sendall(hello)
        return result(*_first_answer(sock, until, _OFFERED.get(kind, _MODERN)))
    except (ConnectionResetError, BrokenPipeError, PeerReset):
        return result(HelloAnswer.RESET, "connection reset")
    except (PeerClosed, EOFError):
        return result(HelloAnswer.CLOSED, "connection closed")
    except (PeerTimeout, TimeoutError):
        return result(HelloAnswer.SILENCE, f"no answer within {timeout:g} s")
    except OSError as e:
        return result(*os_error_answer(e))
    finally:
        sock.close()


def _send_in_small_segments(sock: socket.socket, data: bytes) -> None:
    """`data` in segments of `_SMALL_SEGMENT` bytes, each its own packet."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for at in range(0, len(data), _SMALL_SEGMENT):
        if at:
            time.sleep(_SEGMENT_PAUSE_S)
        sock.sendall(data[at : at + _SMALL_SEGMENT])


def os_error_answer(error: OSError) -> tuple[HelloAnswer, str]:
    """An OS error on the experiment's connection: an ICMP error the kernel reported (the
    hop-limited message expired on the way), else a cut."""
    detail = error.strerror or str(error)
    if error.errno in _UNREACHABLE:
        return HelloAnswer.UNREACHABLE, detail
    return HelloAnswer.RESET, detail


def _first_answer(
    sock: socket.socket, until: float, offered: tuple[int, int]
) -> tuple[HelloAnswer, str]:
    data = b""
    while True:
        left = until - time.monotonic()
        readable = select.select([sock], [], [], left)[0] if left > 0 else []
        if not readable:
            if data.startswith(b"HTTP/"):
                return final_answer(data)
            return HelloAnswer.SILENCE, "no answer to the ClientHello"
        chunk = sock.recv(16384)
        if not chunk:
            if data:
                return final_answer(data)
            return HelloAnswer.CLOSED, "closed without an answer"
        data += chunk
        answer = read_answer(data, offered)
        if answer is not None:
            return answer
        if len(data) > 65536:
            return HelloAnswer.NOT_TLS, "an answer too long for a ServerHello"


def _starttls(sock: socket.socket, timeout: float, deadline: Deadline) -> str:
    """Banner, EHLO, STARTTLS: "" when the server said 220 to STARTTLS, else what stopped
    the dialogue. The banner may pause after its first line (Postfix's postscreen) as long
    as the check's own greeting may; a prelude that never ends is no answer to a hello,
    which was never sent."""
    from netdiag.probes.dialogue import Garbage
    from netdiag.probes.lines import LineTooLong, Transcript
    from netdiag.probes.smtp import GreetingUnfinished, helo_name, read_greeting, read_reply

    def step() -> float:
        return time.monotonic() + deadline.step(timeout)

    reader = LineReader(PlainTransport(sock), Transcript())
    try:
        banner, _ = read_greeting(reader, step(), deadline)
        if banner.code != 220:
            return f"the banner was {banner.code}"
        reader.send_line(f"EHLO {helo_name(sock.getsockname()[0])}", step())
        if read_reply(reader, step()).code != 250:
            return "EHLO was refused"
        reader.send_line("STARTTLS", step())
        reply = read_reply(reader, step())
    except GreetingUnfinished:
        return "the banner did not end"
    except (PeerTimeout, TimeoutError):
        return "no reply in time in the STARTTLS dialogue"
    except (Garbage, LineTooLong):
        return "an answer that is not SMTP in the STARTTLS dialogue"
    if reply.code != 220:
        return f"STARTTLS was answered {reply.code}"
    return ""
