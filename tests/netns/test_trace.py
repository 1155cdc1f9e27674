"""Tracing in a real multi-hop path: client -> router 1 -> router 2 -> server, with
nftables rules on one router per case; moving a rule moves the verdict's hop."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

OPEN, DROP_AT_R1, DROP_AT_R2, PROHIBIT, RESET = 2500, 25, 2525, 995, 8140
CLOSED = 2999  # nothing listens, no rule: the server's own kernel resets


def rules(body: str) -> str:
    return f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        {body}
    }}
}}
"""


@pytest.fixture(scope="module")
def path() -> Iterator[Topology]:
    require_netns()
    router_rules = {
        1: rules(
            f"tcp dport {DROP_AT_R1} drop\n"
            f"        tcp dport {PROHIBIT} reject with icmpx type admin-prohibited\n"
            f"        tcp dport {RESET} reject with tcp reset"
        ),
        2: rules(f"tcp dport {DROP_AT_R2} drop"),
    }
    with Topology(
        router_rules, [OPEN, DROP_AT_R1, DROP_AT_R2, PROHIBIT, RESET], routers=2
    ) as topology:
        yield topology


def trace(
    path: Topology, port: int, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`netdiag trace --json`: its report has the one endpoint traced."""
    result, report = trace_report(path, port, *extra)
    (endpoint,) = report["endpoints"]
    return result, endpoint


def trace_report(
    path: Topology, port: int, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = path.netdiag(
        "trace",
        path.server4,
        "--port",
        str(port),
        "--timeout",
        "1.5",
        "--max-hops",
        "6",
        "--json",
        *extra,
    )
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def without_raw_sockets(path: Topology, *args: str) -> subprocess.CompletedProcess[str]:
    """netdiag in the client namespace as root, but with CAP_NET_RAW dropped."""
    return subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            path.client,
            "setpriv",
            "--inh-caps=-all",
            "--bounding-set=-net_raw",
            sys.executable,
            "-m",
            "netdiag",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def codes(endpoint: dict[str, Any]) -> list[str]:
    return [f["code"] for f in endpoint["findings"]]


def test_open_port_is_reached_at_hop_3(path: Topology) -> None:
    result, doc = trace(path, OPEN)
    assert codes(doc) == ["trace.reached"] and result.returncode == 0
    assert "reached at hop 3" in doc["findings"][0]["summary"]
    senders = {
        r["ttl"]: r["sender"]
        for r in doc["observations"]["trace"]["replies"]
        if r["kind"] == "time_exceeded"
    }
    assert senders == {1: path.router_address(1), 2: path.router_address(2)}


@pytest.mark.parametrize(("port", "hop", "router"), [(DROP_AT_R1, 1, 1), (DROP_AT_R2, 2, 2)])
def test_drop_names_the_last_hop_that_answered(
    path: Topology, port: int, hop: int, router: int
) -> None:
    started = time.monotonic()
    result, doc = trace(path, port)
    elapsed = time.monotonic() - started
    assert codes(doc) == ["trace.dropped_after_hop"] and result.returncode == 2
    assert (
        f"dropped after hop {hop} ({path.router_address(router)})" in doc["findings"][0]["summary"]
    )
    # Every TTL in flight at once: about one timeout, not one per hop (the trace's own
    # time; the wall clock adds Python's start-up on a busy machine, and only has to stay
    # clear of one timeout per hop).
    assert doc["observations"]["trace"]["elapsed_ms"] < 1500 + 1000 and elapsed < 10


def test_admin_prohibited_names_the_router_and_the_code(path: Topology) -> None:
    _, doc = trace(path, PROHIBIT)
    assert codes(doc) == ["trace.rejected_at_hop"]
    summary = doc["findings"][0]["summary"]
    assert f"rejected at hop 1 ({path.router_address(1)}): administratively prohibited" in summary


def test_forged_reset_with_a_control_trace(path: Topology) -> None:
    _, doc = trace(path, RESET, "--control-port", str(OPEN))
    assert codes(doc) == ["trace.forged_reset"], doc["findings"]
    finding = doc["findings"][0]
    assert f"after hop 1 ({path.router_address(1)})" in finding["summary"]
    evidence = "\n".join(finding["evidence"])
    assert "but 198.18.3.2 is 3 hops away" in evidence
    assert f"control trace to port {OPEN}: the destination answers at hop 3" in evidence


def test_without_a_control_trace_the_reply_ttl_is_a_suspicion_not_a_verdict(
    path: Topology,
) -> None:
    """The same forged reset without a control trace: not convicted (return paths can be
    shorter), but never blamed on the server either — its IP TTL is router 1's."""
    _, doc = trace(path, RESET)
    assert codes(doc) == ["trace.reset_suspect"]
    found = doc["findings"][0]
    assert found["subject"] == path.router_address(1)
    assert f"most likely from {path.router_address(1)} (hop 1)" in found["summary"]
    assert "rejects" not in found["summary"]


def test_a_genuine_reset_from_the_destination_names_the_destination(path: Topology) -> None:
    """Negative twin: a closed port on the server, no rule anywhere: the reset's TTL fits
    the destination, which is named as the one that rejects."""
    _, doc = trace(path, CLOSED)
    assert codes(doc) == ["trace.rejected_at_hop"], doc["findings"]
    assert doc["findings"][0]["subject"] == path.server4
    # The trace stops at the destination: one line past it at most.
    hops = doc["observations"]["trace"]["replies"]
    assert max(r["ttl"] for r in hops) <= 3 + 1


def test_capture_holds_the_probes(path: Topology, tmp_path: Path) -> None:
    _, report = trace_report(path, DROP_AT_R1, "--capture", "--capture-dir", str(tmp_path))
    (pcap,) = report["captures"]
    assert Path(pcap).parent == tmp_path and "198.18.3.2_25" in Path(pcap).name
    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    syns = [
        p
        for p in rdpcap(pcap)
        if p.haslayer(TCP) and p[TCP].dport == DROP_AT_R1 and str(p[TCP].flags) == "S"
    ]
    assert len(syns) >= 6 * 2  # max hops x probes per hop


def test_check_trace_adds_the_hop_to_blocked_endpoints(path: Topology) -> None:
    s4 = path.server4
    result = path.netdiag(
        "check",
        "--json",
        "--timeout",
        "1.5",
        "--trace",
        "--target",
        f"{s4}:{OPEN}/tcp",
        "--target",
        f"{s4}:{DROP_AT_R2}/tcp",
        "--target",
        f"{s4}:{RESET}/tcp",
    )
    report = json.loads(result.stdout)
    by_port = {e["port"]: e for e in report["endpoints"]}
    assert {f["code"] for f in by_port[DROP_AT_R2]["findings"]} == {
        "tcp.filtered",
        "trace.dropped_after_hop",
    }
    assert by_port[DROP_AT_R2]["observations"]["trace"]["destination"] == s4
    # the open port of the same host is the control: the reset is forged one hop early
    assert "trace.forged_reset" in {f["code"] for f in by_port[RESET]["findings"]}
    assert by_port[RESET]["observations"]["control_trace"]["port"] == OPEN
    assert by_port[OPEN]["observations"]["trace"] is None
    # The answer first: each cause names the device where it is known; the open port works.
    causes = {c["code"]: c for c in report["causes"]}
    dropped = causes["trace.dropped_after_hop"]
    assert dropped["subject"] == path.router_address(2)
    assert dropped["sentence"]["en"] == (
        f"The firewall at or right after {path.router_address(2)} drops TCP {DROP_AT_R2} to {s4}."
    )
    assert causes["trace.forged_reset"]["endpoints"] == [f"{s4}:{RESET}"]
    assert "tcp.filtered" not in causes  # located by the trace: one cause, not two
    assert report["working"] == [f"{s4}:{OPEN}"]


def test_without_raw_sockets_trace_says_so_and_falls_back(path: Topology) -> None:
    result = without_raw_sockets(
        path,
        "trace",
        path.server4,
        "--port",
        str(DROP_AT_R1),
        "--timeout",
        "1",
    )
    # One line says why there is no trace; the connect() verdict stands instead.
    (note,) = [line for line in result.stdout.splitlines() if line.startswith("note: No trace")]
    assert "raw" in note and "Traceback" not in result.stderr and result.stderr == ""
    assert "tcp.filtered" in result.stdout and result.returncode == 2


REDIRECTED = 2580
PROXY_LISTENER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 3128)); s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""


def test_transparent_proxy_answers_in_the_destinations_name() -> None:
    """Router 1 redirects a port to a proxy of its own: its SYN/ACK claims to come from the
    server but answers one hop early."""
    require_netns()
    redirect = f"""
table ip netdiag_test {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        tcp dport {REDIRECTED} redirect to :3128
    }}
}}
"""
    with Topology({1: redirect}, [OPEN], routers=2) as path:
        proxy = subprocess.Popen(
            ["ip", "netns", "exec", path.routers[0], sys.executable, "-c", PROXY_LISTENER],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proxy.stdout is not None and proxy.stdout.readline().strip() == "ready"
            _, doc = trace(path, REDIRECTED, "--control-port", str(OPEN))
        finally:
            proxy.kill()
            proxy.communicate(timeout=5)
    assert codes(doc) == ["trace.transparent_proxy"], doc["findings"]
    assert "SYN/ACK in 198.18.3.2's name" in doc["findings"][0]["summary"]


def test_check_capture_writes_the_probes_syns(path: Topology, tmp_path: Path) -> None:
    result = path.netdiag(
        "check",
        "--json",
        "--timeout",
        "1",
        "--capture",
        "--capture-dir",
        str(tmp_path),
        "--target",
        f"{path.server4}:{OPEN}/tcp",
        "--target",
        f"{path.server4}:{DROP_AT_R1}/tcp",
    )
    (pcap,) = json.loads(result.stdout)["captures"]
    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    ports = {p[TCP].dport for p in rdpcap(pcap) if p.haslayer(TCP) and str(p[TCP].flags) == "S"}
    assert {OPEN, DROP_AT_R1} <= ports


def test_without_raw_sockets_capture_says_so(path: Topology, tmp_path: Path) -> None:
    """No capture, said in a note with the reason; the check's own answer stands and no
    empty pcap is left to look like evidence."""
    result = without_raw_sockets(
        path,
        "check",
        "--json",
        "--capture",
        "--capture-dir",
        str(tmp_path),
        "--target",
        f"{path.server4}:{OPEN}/tcp",
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    [note] = [n for n in report["notes"] if n.startswith("No capture: ")]
    assert "raw sockets" in note and report["captures"] == []
    assert list(tmp_path.iterdir()) == []
