"""A path MTU black hole: a 1400-byte link between the routers, and the routers' ICMP
fragmentation-needed dropped, so the server's large certificate packets vanish."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

OPEN, TLS_PORT = 2500, 2600
NO_FRAG_NEEDED = """
table inet netdiag_test {
    chain output {
        type filter hook output priority 0; policy accept;
        icmp type destination-unreachable icmp code frag-needed drop
    }
}
"""
TLS_SERVER = textwrap.dedent(
    """
    import socket, ssl, sys, threading
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    listener = socket.create_server(("0.0.0.0", int(sys.argv[3])))
    def serve(conn):
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(100)
        except OSError:
            pass
    def accept():
        while True:
            conn, _ = listener.accept()
            conn.settimeout(30)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    require_netns()
    # RSA certificates: a chain large enough to fill full-size segments.
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = ca.issue_cert("198.18.3.2", key_type=trustme.KeyType.RSA)
    directory = tmp_path_factory.mktemp("mtu")
    chain, key = directory / "chain.pem", directory / "key.pem"
    chain.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems) + ca.cert_pem.bytes())
    key.write_bytes(leaf.private_key_pem.bytes())
    rules = {1: NO_FRAG_NEEDED, 2: NO_FRAG_NEEDED}
    with Topology(rules, [OPEN], routers=2, link_mtu={2: 1400}) as topology:
        server = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                topology.server,
                sys.executable,
                "-c",
                TLS_SERVER,
                str(chain),
                str(key),
                str(TLS_PORT),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            yield topology
        finally:
            server.kill()
            server.communicate(timeout=5)


def test_stalled_handshake_is_explained_by_an_mtu_black_hole(path: Topology) -> None:
    result = path.netdiag(
        "check", "--json", "--timeout", "2", "--trace", "--target", f"{path.server4}:{TLS_PORT}/tls"
    )
    (endpoint,) = json.loads(result.stdout)["endpoints"]
    found = [f["code"] for f in endpoint["findings"]]
    # The check's own experiments name it (the hello asking for small segments answered);
    # the trace's MTU probe measures the size into the same finding, not a second one.
    assert sorted(found) == ["path.mtu_blackhole", "tcp.open", "trace.reached"], endpoint[
        "findings"
    ]
    mtu = endpoint["observations"]["mtu"]
    assert mtu["interface_mtu"] == 1500 and mtu["largest_passing"] == 1400
    assert mtu["frag_needed_from"] == ""
    blackhole = next(f for f in endpoint["findings"] if f["code"] == "path.mtu_blackhole")
    assert blackhole["severity"] == "crit" and blackhole["detail"] == "received"
    assert "lost on the way back" in blackhole["summary"]
    assert any("over 1400 bytes vanish" in line for line in blackhole["evidence"]), blackhole
    assert result.returncode == 2


def test_without_trace_the_black_hole_is_named_by_the_experiments(path: Topology) -> None:
    """No raw sockets needed: the same world, without --trace, is path.mtu_blackhole
    (detail "received") by the hello that asked for small segments."""
    result = path.netdiag(
        "check", "--json", "--timeout", "2", "--target", f"{path.server4}:{TLS_PORT}/tls"
    )
    (endpoint,) = json.loads(result.stdout)["endpoints"]
    blackhole = next(f for f in endpoint["findings"] if f["code"] == "path.mtu_blackhole")
    assert blackhole["detail"] == "received" and endpoint["observations"]["mtu"] is None
    assert "tls.handshake_stalled" not in [f["code"] for f in endpoint["findings"]]
    assert result.returncode == 2


def test_mtu_command(path: Path | Topology) -> None:
    assert isinstance(path, Topology)
    result = path.netdiag("mtu", path.server4, "--timeout", "1.5")
    assert "largest packet through 1400" in result.stdout
    assert "path.mtu_blackhole" in result.stdout and result.returncode == 1


def test_with_icmp_feedback_there_is_no_black_hole(tmp_path: Path) -> None:
    require_netns()
    with Topology({}, [OPEN], routers=2, link_mtu={2: 1400}) as topology:
        result = topology.netdiag("mtu", topology.server4, "--timeout", "1.5")
    assert (
        "fragmentation-needed from" in result.stdout and "path.mtu_blackhole" not in result.stdout
    )
    assert result.returncode == 0
