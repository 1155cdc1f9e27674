"""TLS on a port of its own (8140, the monitoring agent): the handshake with the client
certificate, then one step further — what the server says first, or its answer to an
HTTP request — so that a rejection after the handshake is seen."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import EXPECTED_ERRORS, Connected, Dialogue, TlsSettings
from netdiag.probes.lines import PeerClosed, PeerTimeout, quote
from netdiag.probes.server_clock import from_http_date
from netdiag.report.observations import ProtocolStage, Reply, StageFailure, TlsPortObservation

MAX_RESPONSE = 16384


def parse_http_response(data: bytes) -> Reply | None:
    """Status code, status line and the telling lines of an HTTP response, or None."""
    text = data.decode("latin-1")
    head, _, body = text.partition("\r\n\r\n")
    status_line = head.split("\r\n", 1)[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return None
    body_lines = [line.strip() for line in body.replace("<", "\n<").splitlines()]
    telling = [line for line in body_lines if line and not line.startswith("</")][:20]
    return Reply(code=int(parts[1]), lines=(status_line, *telling))


def http_header(data: bytes, name: str) -> str:
    """The value of one header of an HTTP response, or ""."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()[:100]
    return ""


def probe_tls_port(
    address: str,
    port: int,
    server_name: str,
    tls_settings: TlsSettings,
    timeout: float,
    deadline: Deadline,
    connected: Connected | None = None,
    flows: FlowLog | None = None,
) -> TlsPortObservation:
    start = TlsPortObservation(service="tls", address=address, port=port)
    dialogue = Dialogue(start, timeout, deadline, connected, flows)
    stage = ProtocolStage.CONNECT
    try:
        dialogue.connect()
        stage = ProtocolStage.TLS
        transport = dialogue.start_tls(server_name, tls_settings)
        if transport is None:
            return dialogue.finish()

        stage = ProtocolStage.REQUEST
        # A server that speaks first (an agent sending its output) has done so by now, or
        # does within a few round trips; an HTTP server waits for our request.
        first: bytes | None = (dialogue.reader.buffer if dialogue.reader else b"") or None
        if not first and not dialogue.has_listened:
            try:
                first = transport.recv(4096, time.monotonic() + dialogue.listen_s())
            except PeerTimeout:
                first = None
        if first is not None:
            if not first:
                raise PeerClosed("")
            dialogue.observation = dataclasses.replace(
                dialogue.observation, first_bytes=quote(first, 300)
            )
            dialogue.transcript.add("S", quote(first, 300))
            dialogue.stop(ProtocolStage.DONE, StageFailure.NONE)
            return dialogue.finish()

        host = server_name or address
        request = (
            f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: netdiag\r\nConnection: close\r\n\r\n"
        )
        dialogue.transcript.add("C", f"GET / HTTP/1.1 (Host: {host})")
        until = dialogue.until()
        transport.send(request.encode("ascii"), until)
        response = b""
        while len(response) < MAX_RESPONSE:
            try:
                data = transport.recv(4096, until)
            except PeerTimeout:
                break
            if not data:
                break
            response += data
        if not response:
            raise PeerClosed("")
        arrived = datetime.now(UTC)
        reply = parse_http_response(response)
        date = http_header(response, "date")
        dialogue.observation = dataclasses.replace(
            dialogue.observation,
            first_bytes=quote(response, 300),
            server_date=date,
            server_clock=from_http_date(date, arrived),
            response=reply,
        )
        if reply is None:
            dialogue.transcript.add("S", quote(response, 300))
        else:
            for line in reply.lines[:5]:
                dialogue.transcript.add("S", line)
        dialogue.stop(ProtocolStage.DONE, StageFailure.NONE)
    except EXPECTED_ERRORS as error:
        dialogue.stop_on(stage, error)
    finally:
        dialogue.close()
    return dialogue.finish()


def probe_hello_at_once(
    address: str,
    port: int,
    server_name: str,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
) -> TlsPortObservation:
    """A TLS handshake started at once on a new connection to a port whose protocol speaks
    first (SMTP), for a port that sent no banner: a device that inspects TLS there waits
    for a ClientHello and answers it with a chain of its own. Nothing is authenticated (no
    client certificate) and nothing is sent after the handshake: it stops at the TLS stage,
    never completed, whatever answered."""
    start = TlsPortObservation(service="tls", address=address, port=port)
    dialogue = Dialogue(start, timeout, deadline, None, flows)
    stage = ProtocolStage.CONNECT
    try:
        dialogue.connect()
        stage = ProtocolStage.TLS
        if dialogue.start_tls(server_name, TlsSettings()) is not None:
            dialogue.stop(ProtocolStage.TLS, StageFailure.NONE, "nothing is sent after the hello")
    except EXPECTED_ERRORS as error:
        dialogue.stop_on(stage, error)
    finally:
        dialogue.close()
    return dialogue.finish()
