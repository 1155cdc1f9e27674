"""The hop scan when an interceptor cuts a nearer hop's hello while a farther one is
answered (sslsplit aborting under load and restarting, a server refusing a client's
burst): the nearer hops are sent once more, so that the place is not read farther away
than it is. In a namespace of its own, where nftables resets the first hello that leaves
with a TTL of 1 (loopback delivers every TTL: unhindered, hop 1 answers)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.netns.topology import require_netns, sh

pytestmark = pytest.mark.netns

REPO = Path(__file__).resolve().parents[2]
_INSTANCES = itertools.count()

# Resets the first hello that arrives with a TTL of `ttl` (a PSH segment to the port), then
# lets every one through: its sender goes into a set on the way.
CUT_RULES = """
table ip netdiag_cut {{
    set cut {{ type ipv4_addr; flags dynamic; }}
    chain input {{
        type filter hook input priority 0; policy accept;
        ip ttl {ttl} tcp dport {port} tcp flags & psh == psh ip saddr != @cut \\
            add @cut {{ ip saddr }} reject with tcp reset
    }}
}}
"""

SCAN = textwrap.dedent(
    """
    import json, sys
    from netdiag.probes.deadline import Deadline
    from netdiag.probes.place import hop_scan
    from netdiag.settings.targets import Service
    from tests.integration.test_place_scan import LateTlsServer
    with LateTlsServer(listen_after=0) as server:
        print(server.port, flush=True)
        sys.stdin.readline()  # the cut is in place
        hops, problem = hop_scan(
            "127.0.0.1", server.port, Service.TLS, "mail1.dicommail.com", 3.0,
            Deadline.after(20),
        )
    print(json.dumps({"problem": problem, "hops": [[h.hop_limit, h.answer.value] for h in hops]}))
    """
)


def _scan_with_cut(ttl: int) -> tuple[str, list[list[object]]]:
    namespace = f"nd{os.getpid() % 100000}cut{next(_INSTANCES)}"
    sh("ip", "netns", "add", namespace)
    try:
        sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        scan = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", SCAN],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=REPO,
        )  # fmt: skip
        try:
            assert scan.stdout is not None and scan.stdin is not None
            port = int(scan.stdout.readline())
            rules = CUT_RULES.format(ttl=ttl, port=port)
            subprocess.run(
                ["ip", "netns", "exec", namespace, "nft", "-f", "-"],
                input=rules, text=True, check=True, capture_output=True, timeout=10,
            )  # fmt: skip
            out, err = scan.communicate("go\n", timeout=60)
        finally:
            if scan.poll() is None:
                scan.kill()
                scan.communicate(timeout=5)
        assert scan.returncode == 0, err[-2000:]
        said = json.loads(out.strip().splitlines()[-1])
        return said["problem"], said["hops"]
    finally:
        sh("ip", "netns", "del", namespace, check=False)


def test_a_nearer_hop_cut_while_a_farther_one_answers_is_sent_once_more() -> None:
    require_netns()
    problem, hops = _scan_with_cut(ttl=1)
    assert problem == ""
    first, again = hops[:4], hops[4:]
    assert first[0] == [1, "reset"], hops  # the cut
    assert all(answer == "server_hello" for _, answer in first[1:]), hops
    assert again == [[1, "server_hello"]], hops  # hop 1 once more: it answers
    assert min(h for h, a in hops if a == "server_hello") == 1


def test_a_farther_hop_cut_sends_nothing_more() -> None:
    """The twin: the nearest hop answered; a cut farther away cannot move the place."""
    require_netns()
    problem, hops = _scan_with_cut(ttl=3)
    assert problem == ""
    assert len(hops) == 4 and hops[0] == [1, "server_hello"] and hops[2] == [3, "reset"], hops
