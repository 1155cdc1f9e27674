"""The greeting of an SMTP server read over a real socket pair: a pregreet test's pause
(Postfix's postscreen: "220-" at once, the rest seconds later) is waited for past the
step's timeout, bounded; a greeting that never ends is said as such; the run's deadline
still cuts it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from netdiag.probes.deadline import Deadline
from netdiag.probes.lines import LineReader, PeerTimeout, PlainTransport, Transcript
from netdiag.probes.smtp import GreetingUnfinished, read_greeting


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, LineReader]]:
    server, client = socket.socketpair()
    with server, client:
        yield server, LineReader(PlainTransport(client), Transcript())


def send_later(sock: socket.socket, *chunks: tuple[float, bytes]) -> threading.Thread:
    def send() -> None:
        for delay, data in chunks:
            time.sleep(delay)
            sock.sendall(data)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_the_rest_of_a_greeting_is_waited_for_past_the_step(
    pair: tuple[socket.socket, LineReader],
) -> None:
    server, reader = pair
    sender = send_later(server, (0.0, b"220-mail1 ESMTP\r\n"), (0.5, b"220 mail1 ESMTP\r\n"))
    step_end = time.monotonic() + 0.2  # the step's own timeout ends before the pause does
    reply, first_s = read_greeting(reader, step_end, Deadline.after(10), pause_s=3)
    sender.join(timeout=5)
    assert reply.code == 220 and reply.lines == ("mail1 ESMTP", "mail1 ESMTP")
    assert first_s < 0.2


def test_a_one_line_greeting_is_read_at_once(pair: tuple[socket.socket, LineReader]) -> None:
    server, reader = pair
    server.sendall(b"220 mail1 ESMTP\r\n")
    reply, first_s = read_greeting(reader, time.monotonic() + 1, Deadline.after(10), pause_s=3)
    assert reply.lines == ("mail1 ESMTP",) and first_s < 1


def test_a_greeting_that_never_ends_is_said_so(pair: tuple[socket.socket, LineReader]) -> None:
    server, reader = pair
    server.sendall(b"220-mail1 ESMTP\r\n")
    started = time.monotonic()
    with pytest.raises(GreetingUnfinished) as raised:
        read_greeting(reader, time.monotonic() + 1, Deadline.after(10), pause_s=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    assert raised.value.first_line == "220-mail1 ESMTP" and raised.value.first_s < 0.3


def test_the_runs_deadline_still_cuts_the_pause(pair: tuple[socket.socket, LineReader]) -> None:
    """Cut by the run, not the server's: a PeerTimeout that the dialogue reads as the
    deadline, never as an unfinished greeting."""
    server, reader = pair
    server.sendall(b"220-mail1 ESMTP\r\n")
    started = time.monotonic()
    with pytest.raises(PeerTimeout) as raised:
        read_greeting(reader, time.monotonic() + 1, Deadline.after(0.5), pause_s=30)
    assert not isinstance(raised.value, GreetingUnfinished)
    assert time.monotonic() - started < 2


def test_no_first_line_is_the_steps_timeout(pair: tuple[socket.socket, LineReader]) -> None:
    _, reader = pair
    started = time.monotonic()
    with pytest.raises(PeerTimeout):
        read_greeting(reader, time.monotonic() + 0.3, Deadline.after(10), pause_s=30)
    assert time.monotonic() - started < 2
