"""The experiments with packet sizes, on loopback against real servers: a connection that
asks for small segments makes the server send no segment larger than 500 bytes (its own
socket says so), a real OpenSSL server answers the hello sent on it, and the big hello
(padded past a packet, in one write or in small segments) — so that on a path that loses
large packets only the size can be what the experiments tell apart. No privilege."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

from netdiag.probes.deadline import Deadline
from netdiag.probes.hello import probe_hello
from netdiag.probes.tcp import SMALL_MSS, can_ask_for_small_segments, connect_tcp
from netdiag.report.observations import Experiment, HelloAnswer
from netdiag.settings.targets import Service
from tests.integration.tls_fixtures import serving
from tests.servers.mail import HttpsHandler, TlsPolicy, server_context
from tests.servers.pki import Pki

pytestmark = pytest.mark.skipif(
    not can_ask_for_small_segments(), reason="Linux announces a smaller MSS; Windows cannot"
)


def test_the_server_is_asked_for_segments_of_at_most_500_bytes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        accepted: list[int] = []

        def accept() -> None:
            conn, _ = listener.accept()
            with conn:
                accepted.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        _, sock = connect_tcp("127.0.0.1", port, 2.0, max_segment=SMALL_MSS)
        assert sock is not None
        sock.close()
        thread.join(timeout=5)
    # The server's own view of the largest segment it may send to us.
    assert accepted and 0 < accepted[0] <= SMALL_MSS, accepted
    _, plain = connect_tcp("127.0.0.1", port, 2.0)
    assert plain is None  # the listener is gone: nothing else was left open


@pytest.mark.parametrize(
    "kind", [Experiment.SMALL_SEGMENTS, Experiment.BIG_HELLO, Experiment.BIG_HELLO_SPLIT]
)
def test_a_real_tls_server_answers_every_size_experiment(pki: Pki, kind: Experiment) -> None:
    policy = TlsPolicy(verify=ssl.CERT_OPTIONAL)
    with serving(HttpsHandler(server_context(pki, policy), policy)) as server:
        result = probe_hello(
            "127.0.0.1", server.port, Service.TLS, "atlas79.mydhp.de", kind, 3.0,
            Deadline.after(10),
        )  # fmt: skip
    assert result.answer is HelloAnswer.SERVER_HELLO, result
    assert result.kind is kind
    assert result.max_segment == (SMALL_MSS if kind is Experiment.SMALL_SEGMENTS else 0)
    said = {
        Experiment.SMALL_SEGMENTS: "asking for segments of at most 500 bytes",
        Experiment.BIG_HELLO: "1600 bytes, padded)",
        Experiment.BIG_HELLO_SPLIT: "1600 bytes, padded, in small segments",
    }[kind]
    assert said in result.sent, result.sent
