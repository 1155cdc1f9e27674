"""Interfaces as real gateways have them: a disconnected NIC, a disabled adapter, a VPN or
Hyper-V adapter beside the routed one. Traces listen where the route goes, captures on what
is up, and nothing fails because of an interface elsewhere; a receiver that cannot start
says its real reason, at once."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

OPEN, REJECTED = 8025, 8026
RULES = f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        tcp dport {REJECTED} reject with icmpx type admin-prohibited
    }}
}}
"""


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    require_netns()
    with Topology(RULES, [OPEN]) as topology:
        client = topology.client
        # Down: a bridge with no ports (a Hyper-V switch not in use), a VXLAN (a VPN that is
        # not connected), a veth pair (a NIC without a cable), a TUN device (an OpenVPN
        # adapter with no tunnel). Up but odd: an IFB device with no address.
        topology.ns(client, "ip", "link", "add", "vswitch0", "type", "bridge")
        topology.ns(client, "ip", "link", "add", "vpn0", "type", "vxlan", "id", "7",
                    "dstport", "4789")  # fmt: skip
        topology.ns(client, "ip", "link", "add", "nic1", "type", "veth", "peer", "name", "nic2")
        topology.ns(client, "ip", "tuntap", "add", "mode", "tun", "name", "tun0")
        topology.ns(client, "ip", "link", "add", "ifb0", "type", "ifb")
        topology.ns(client, "ip", "link", "set", "ifb0", "up")
        yield topology


def test_the_machine_has_interfaces_that_are_down(topology: Topology) -> None:
    links = topology.ns(topology.client, "ip", "-o", "link", "show").stdout
    for name in ("vswitch0", "vpn0", "nic1", "tun0"):
        line = next(line for line in links.splitlines() if f" {name}" in line)
        assert "state DOWN" in line, line


def test_a_trace_listens_where_the_route_goes(topology: Topology) -> None:
    result = topology.netdiag(
        "trace", topology.server4, "--port", str(REJECTED), "--control-port", str(OPEN),
        "--timeout", "2", "--json",
    )  # fmt: skip
    assert "internal error" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    endpoint = report["endpoints"][0]
    assert endpoint["observations"]["trace"]["error"] in (None, ""), endpoint
    assert {f["code"] for f in endpoint["findings"]} == {"trace.rejected_at_hop"}, endpoint
    assert result.returncode == 2


def test_a_check_with_trace_capture_and_bundle_works(topology: Topology, tmp_path: Path) -> None:
    bundle, captures = tmp_path / "ticket.zip", tmp_path / "captures"
    result = topology.netdiag(
        "check", "--json", "--trace", "--capture", "--capture-dir", str(captures),
        "--target", f"{topology.server4}:{REJECTED}/tcp",
        "--target", f"{topology.server4}:{OPEN}/tcp",
        "--bundle", str(bundle), "--timeout", "2",
    )  # fmt: skip
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert not [n for n in report["notes"] if "capture" in n.lower() and "No " in n], report
    [pcap] = captures.glob("*.pcap")
    assert pcap.stat().st_size > 24  # more than the pcap header: packets were kept
    assert bundle.stat().st_size > 0
    rejected = next(e for e in report["endpoints"] if e["port"] == REJECTED)
    trace = rejected["observations"]["trace"]
    assert trace is not None and not trace["error"], trace


RECEIVER = textwrap.dedent(
    """
    import sys, time
    from netdiag.probes.receiver import ReceiverError, start_receiver, stop_receiver
    started = time.monotonic()
    try:
        sniffer = start_receiver(sys.argv[1:], "tcp", lambda packet: None, 5.0)
    except ReceiverError as e:
        print(f"refused {time.monotonic() - started:.2f} {e}")
    else:
        stop_receiver(sniffer)
        print(f"listening {time.monotonic() - started:.2f}")
    """
)


def test_a_receiver_on_a_down_interface_says_why_at_once(topology: Topology) -> None:
    down = topology.ns(topology.client, sys.executable, "-c", RECEIVER, "nic1").stdout.strip()
    word, elapsed, reason = down.split(" ", 2)
    assert word == "refused" and "nic1" in reason and "Network is down" in reason, down
    assert float(elapsed) < 2  # not the whole start-up wait
    # The twin: the interface the route takes listens.
    routed = topology.ns(topology.client, sys.executable, "-c", RECEIVER, "l1a").stdout.strip()
    assert routed.startswith("listening"), routed


def test_a_capture_that_cannot_start_is_a_note_and_the_check_stands(
    topology: Topology, tmp_path: Path
) -> None:
    """The capture folder is a file: no capture, one note that says why, the check's own
    answer and exit code as without --capture, no stray pcap."""
    blocker = tmp_path / "captures"
    blocker.write_text("not a folder", "utf-8")
    result = topology.netdiag(
        "check", "--json", "--capture", "--capture-dir", str(blocker),
        "--target", f"{topology.server4}:{OPEN}/tcp", "--timeout", "2",
    )  # fmt: skip
    assert "internal error" not in result.stderr
    report = json.loads(result.stdout)
    assert report["endpoints"][0]["status"] == "ok" and result.returncode == 0
    assert any(n.startswith("No capture: ") and "captures" in n for n in report["notes"]), report
    assert report["captures"] == []
