"""The hop scan against a local TLS server (loopback delivers at any TTL, so hop 1
answers): an interceptor that restarts refuses connections for a moment, and the scan
sends its batch once more rather than giving up."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import trustme

from netdiag.probes.deadline import Deadline
from netdiag.probes.place import RETRY_PAUSE_S, hop_scan
from netdiag.report.observations import HelloAnswer
from netdiag.settings.targets import Service


class LateTlsServer:
    """A TLS server whose port refuses connections until `listen_after` seconds have
    passed (bound, not listening: the kernel answers a SYN with a reset); each connection
    is served by a thread of its own, as a hop scan's hellos arrive together."""

    def __init__(self, listen_after: float) -> None:
        ca = trustme.CA()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("mail1.dicommail.com").configure_cert(self.context)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.listen_after = listen_after
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


def test_a_batch_refused_by_a_restarting_interceptor_is_sent_once_more() -> None:
    with LateTlsServer(listen_after=RETRY_PAUSE_S / 2) as server:
        started = time.monotonic()
        hops, problem = hop_scan(
            "127.0.0.1", server.port, Service.TLS, "mail1.dicommail.com", 3.0,
            Deadline.after(20),
        )  # fmt: skip
        elapsed = time.monotonic() - started
    assert problem == ""
    first, again = hops[:4], hops[4:]
    assert all(h.answer is HelloAnswer.NOT_RUN for h in first), first
    assert [h.hop_limit for h in again] == [1, 2, 3, 4]
    assert again[0].answer is HelloAnswer.SERVER_HELLO, again[0]
    assert elapsed < 10


def test_a_port_that_stays_closed_is_tried_twice_and_said() -> None:
    with LateTlsServer(listen_after=60) as server:
        hops, problem = hop_scan(
            "127.0.0.1", server.port, Service.TLS, "mail1.dicommail.com", 2.0,
            Deadline.after(20),
        )  # fmt: skip
    assert len(hops) == 8 and all(h.answer is HelloAnswer.NOT_RUN for h in hops)
    assert problem == hops[-1].detail and "refused" in problem.lower(), problem
