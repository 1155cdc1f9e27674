"""The hop scan against a local TLS server (loopback delivers at any TTL, so hop 1
answers): an interceptor that restarts refuses connections for a moment, or gives way
under a batch and cuts every connection, and the scan sends its hellos once more, one
connection at a time, nearest first, rather than giving up."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable

import pytest
import trustme

from netdiag.probes.deadline import Deadline
from netdiag.probes.hello import probe_hello
from netdiag.probes.place import REPEATS_ONE_BY_ONE, RETRY_PAUSE_S, hop_scan
from netdiag.report.observations import Experiment, ExperimentResult, HelloAnswer
from netdiag.settings.targets import Service
from tests.servers import mail
from tests.servers.base import Server
from tests.servers.mail import SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki


class LateTlsServer:
    """A TLS server whose port refuses connections until `listen_after` seconds have
    passed (bound, not listening: the kernel answers a SYN with a reset); each connection
    is served by a thread of its own, as a hop scan's hellos arrive together."""

    def __init__(self, listen_after: float, cut_until: float = 0.0) -> None:
        ca = trustme.CA()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("mail1.dicommail.com").configure_cert(self.context)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.listen_after = listen_after
        # Until then (seconds from the start) every connection is accepted and closed at
        # once, as an interceptor that crashed under load closes what it held.
        self.cut_until = time.monotonic() + cut_until
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.handlers: list[threading.Thread] = []

    def _serve(self) -> None:
        if self.stop.wait(self.listen_after):
            return
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if time.monotonic() < self.cut_until:
                conn.close()
                continue
            handler = threading.Thread(target=self._handshake, args=(conn,), daemon=True)
            self.handlers.append(handler)
            handler.start()

    def _handshake(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            with self.context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            conn.close()

    def __enter__(self) -> LateTlsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for handler in self.handlers:
            handler.join(timeout=3)
        self.sock.close()


def scan(
    server: LateTlsServer, timeout: float, within: float
) -> tuple[tuple[ExperimentResult, ...], str, float]:
    """The hop scan of `server`'s port: its hellos, why it stopped short, and how long it took."""
    started = time.monotonic()
    hops, problem = hop_scan(
        "127.0.0.1", server.port, Service.TLS, "mail1.dicommail.com", timeout,
        Deadline.after(within),
    )  # fmt: skip
    return hops, problem, time.monotonic() - started


def test_a_batch_refused_by_a_restarting_interceptor_is_sent_once_more() -> None:
    with LateTlsServer(listen_after=RETRY_PAUSE_S / 2) as server:
        hops, problem, elapsed = scan(server, 3.0, 20)
    assert problem == ""
    first, again = hops[:4], hops[4:]
    assert all(h.answer is HelloAnswer.NOT_RUN for h in first), first
    # One connection at a time, nearest first, until one is answered: hop 1 alone.
    assert [(h.hop_limit, h.answer) for h in again] == [(1, HelloAnswer.SERVER_HELLO)], again
    assert elapsed < 10


def test_a_batch_cut_by_an_interceptor_that_gives_way_is_sent_one_by_one() -> None:
    """Every hello of the batch cut (the interceptor crashed under it and restarts): once
    more after the pause, one connection at a time, and hop 1 answers."""
    with LateTlsServer(listen_after=0, cut_until=RETRY_PAUSE_S / 2) as server:
        hops, problem, _ = scan(server, 3.0, 20)
    assert problem == ""
    first, again = hops[:4], hops[4:]
    assert all(h.answer in (HelloAnswer.CLOSED, HelloAnswer.RESET) for h in first), first
    assert [(h.hop_limit, h.answer) for h in again] == [(1, HelloAnswer.SERVER_HELLO)], again


def test_an_interceptor_that_gives_way_under_one_connection_too_gets_the_same_ttl_again() -> None:
    """Cut under the batch and under the first single connection (it restarts again): the
    same TTL once more after another pause, and hop 1 answers; not hop 2, one too far."""
    with LateTlsServer(listen_after=0, cut_until=RETRY_PAUSE_S * 1.5) as server:
        hops, problem, _ = scan(server, 3.0, 20)
    assert problem == ""
    again = [(h.hop_limit, h.answer.is_cut_by_peer, h.answer) for h in hops[4:]]
    assert [a[:2] for a in again[:-1]] == [(1, True)], again
    assert again[-1][0::2] == (1, HelloAnswer.SERVER_HELLO), again


def test_a_port_refused_under_the_first_single_connection_too_is_tried_again() -> None:
    with LateTlsServer(listen_after=RETRY_PAUSE_S * 1.5) as server:
        hops, problem, _ = scan(server, 3.0, 20)
    assert problem == ""
    again = [(h.hop_limit, h.answer) for h in hops[4:]]
    assert again == [(1, HelloAnswer.NOT_RUN), (1, HelloAnswer.SERVER_HELLO)], again


def test_a_port_that_stays_closed_is_tried_a_bounded_number_of_times_and_said() -> None:
    """Refused at any TTL: after the batch, hop 1 alone, and again as often as the repeats
    allow; then the scan stops (the next TTLs would be refused as well) and says why."""
    with LateTlsServer(listen_after=60) as server:
        hops, problem, elapsed = scan(server, 2.0, 20)
    assert all(h.answer is HelloAnswer.NOT_RUN for h in hops)
    assert [h.hop_limit for h in hops[4:]] == [1] * (1 + REPEATS_ONE_BY_ONE)
    assert problem == hops[-1].detail and "refused" in problem.lower(), problem
    assert elapsed < RETRY_PAUSE_S * (2 + REPEATS_ONE_BY_ONE)


def test_hellos_cut_every_time_are_repeated_a_bounded_number_of_times() -> None:
    """An interceptor that cuts every hop-limited hello: each TTL of the first batch is sent
    again once, and the repeats after a pause are spent once, not per TTL; the second batch
    is not retried. The scan ends with no answer and no problem (the hellos ran)."""
    with LateTlsServer(listen_after=0, cut_until=60) as server:
        hops, problem, elapsed = scan(server, 2.0, 30)
    assert problem == "" and all(h.answer.is_cut_by_peer for h in hops), hops
    retry = [h.hop_limit for h in hops[4:-4]]
    assert retry == [1] * (1 + REPEATS_ONE_BY_ONE) + [2, 3, 4], retry
    assert [h.hop_limit for h in hops[-4:]] == [5, 6, 7, 8]
    assert elapsed < RETRY_PAUSE_S * (3 + REPEATS_ONE_BY_ONE)


class SmtpCutAfterEhlo:
    """An SMTP server that greets, answers EHLO, then closes on STARTTLS (`cut`) or says 220 to
    STARTTLS and closes when the hello arrives (the twin: the hello itself is cut)."""

    def __init__(self, cut: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.cut = cut
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            conn.sendall(b"220 mail1.dicommail.com ESMTP\r\n")
            conn.recv(1024)
            conn.sendall(b"250-mail1.dicommail.com\r\n250 STARTTLS\r\n")
            if self.cut:
                # STARTTLS read first: a close with it unread would be a reset or a close,
                # as the threads happen to run.
                conn.recv(1024)
                return
            conn.recv(1024)
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            conn.recv(4096)  # the hello

    def __enter__(self) -> SmtpCutAfterEhlo:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.mark.parametrize(
    ("cut", "detail"),
    [(True, "connection closed in the STARTTLS dialogue"), (False, "closed without an answer")],
    ids=["the dialogue cut", "the hello cut"],
)
def test_a_cut_says_whether_the_dialogue_or_the_hello_was_cut(cut: bool, detail: str) -> None:
    with SmtpCutAfterEhlo(cut) as server:
        result = probe_hello(
            "127.0.0.1", server.port, Service.SMTP_STARTTLS, "mail1.dicommail.com",
            Experiment.HOP_LIMITED, 3.0, Deadline.after(10), None, 1, 2.0,
        )  # fmt: skip
    assert (result.answer, result.detail) == (HelloAnswer.CLOSED, detail)


@pytest.mark.parametrize(
    ("pause_s", "left_s", "answer"),
    [(1.5, 10.0, HelloAnswer.SERVER_HELLO), (8.0, 3.0, HelloAnswer.NOT_RUN)],
    ids=["a greeting pause waited out", "a greeting that never ends"],
)
def test_the_starttls_prelude_waits_out_a_greeting_pause(
    pki: Pki, pause_s: float, left_s: float, answer: HelloAnswer
) -> None:
    """Postfix's postscreen pauses its greeting after the first line, longer than a step:
    the experiment's prelude waits for it as the check does, and a greeting that never ends
    leaves the hello unsent (not run) — never the silence of a hello a filter swallowed."""
    policy = TlsPolicy()
    handler = SmtpHandler(server_context(pki, policy), policy, greeting_pause_s=pause_s)
    with Server(handler) as server:
        result = probe_hello(
            "127.0.0.1", server.port, Service.SMTP_STARTTLS, "mail1.dicommail.com",
            Experiment.SAME_HELLO, 1.0, Deadline.after(left_s),
        )  # fmt: skip
    assert result.answer is answer, result
    if answer is HelloAnswer.NOT_RUN:
        assert "STARTTLS dialogue" in result.detail


# The EHLO scan (a missing STARTTLS): every peer's answer is a result, never an exception.


def ehlo_without_starttls(conn: socket.socket) -> None:
    conn.sendall(b"220 smtp-gw.klinikum.example ESMTP\r\n")
    mail.read_line(conn)
    conn.sendall(b"250-smtp-gw.klinikum.example\r\n250 PIPELINING\r\n")
    mail.read_line(conn)


def garbage_after_ehlo(conn: socket.socket) -> None:
    conn.sendall(b"220 smtp-gw.klinikum.example ESMTP\r\n")
    mail.read_line(conn)
    conn.sendall(bytes(range(256)) * 4)
    time.sleep(0.5)


def postscreen_pause(conn: socket.socket) -> None:
    """Postfix's postscreen: the first line of the greeting at once, the rest after its
    greet wait (longer than the step's timeout)."""
    conn.sendall(b"220-mail1.dicommail.com ESMTP\r\n")
    time.sleep(1.5)
    ehlo_without_starttls(conn)


def silent_after_ehlo(conn: socket.socket) -> None:
    conn.sendall(b"220 smtp-gw.klinikum.example ESMTP\r\n")
    mail.read_line(conn)
    time.sleep(3)


@pytest.mark.parametrize(
    ("handler", "answer", "detail"),
    [
        (ehlo_without_starttls, HelloAnswer.SMTP_REPLY, "250 smtp-gw.klinikum.example"),
        (mail.huge_banner, HelloAnswer.NOT_RUN, "no banner: LineTooLong"),
        (mail.garbage, HelloAnswer.NOT_RUN, "no banner: Garbage"),
        (mail.busy, HelloAnswer.NOT_RUN, "the banner was 421"),
        (mail.close_at_once, HelloAnswer.NOT_RUN, "no banner: PeerClosed"),
        (garbage_after_ehlo, HelloAnswer.NOT_TLS, "an answer that is not SMTP"),
        (silent_after_ehlo, HelloAnswer.SILENCE, "no answer to the EHLO"),
        (postscreen_pause, HelloAnswer.SMTP_REPLY, "250 smtp-gw.klinikum.example"),
    ],
    ids=[
        "proxy",
        "huge banner",
        "garbage",
        "busy",
        "closed",
        "garbage after EHLO",
        "silent",
        "postscreen's greeting pause",
    ],  # fmt: skip
)
def test_the_ehlo_hop_limited_against_honest_and_hostile_peers(
    handler: Callable[[socket.socket], None], answer: HelloAnswer, detail: str
) -> None:
    with Server(handler) as server:
        started = time.monotonic()
        results, problem = hop_scan(
            "127.0.0.1", server.port, Service.SMTP_STARTTLS, "", 1.0, Deadline.after(20),
            kind=Experiment.EHLO_HOP_LIMITED,
        )  # fmt: skip
    assert time.monotonic() - started < 15  # bounded, whatever the peer does
    first = results[0]
    assert first.kind is Experiment.EHLO_HOP_LIMITED and first.hop_limit == 1
    assert first.answer is answer and first.detail.startswith(detail), first
    # Loopback delivers at any TTL: an answer at TTL 1 ends the scan there.
    if answer is HelloAnswer.SMTP_REPLY:
        assert [r.hop_limit for r in results] == [1, 2, 3, 4] and problem == ""
