"""Time to locate a drop at hop 2 of 3: `netdiag trace` next to `tcptraceroute`,
`traceroute -T` and `nmap --traceroute`, all run in the same network namespaces in this
script (root; Debian packages iproute2, nftables, traceroute, tcptraceroute, nmap).

    python benchmarks/trace_speed.py            # both parts
    python benchmarks/trace_speed.py --batch    # only the six-host batch (iproute2, nftables)

Path: client -> router 1 -> router 2 (drops tcp/25) -> server, built here and torn down.
Goal: netdiag takes about one probe timeout in total. The other tools are given the same
per-probe wait; what they print is shown, so the hop each one names can be compared.

The batch part: six hosts behind router 2, `check --trace` of all six (with their control
traces) against the same check without `--trace`, measured in the same run: what tracing
adds must stay within one probe timeout + 1 s, every host named at router 2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.netns.topology import Topology  # noqa: E402

PORT, OPEN = 25, 2500
WAIT_S = 1.0
DROP_AT_ROUTER_2 = f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        tcp dport {PORT} drop
    }}
}}
"""


def timed(path: Topology, command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        ["ip", "netns", "exec", path.client, *command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return time.perf_counter() - started, (done.stdout + done.stderr).strip()


def batch() -> None:
    """Six blocked hosts traced at once: the time tracing adds, against the same check
    without it (the baseline, measured in the same run)."""
    hosts = 6
    with Topology({2: DROP_AT_ROUTER_2}, [OPEN], routers=2, extra_servers=hosts - 1) as path:
        targets = [
            arg
            for address in path.servers4
            for arg in ("--target", f"{address}:{PORT}/tcp", "--target", f"{address}:{OPEN}/tcp")
        ]
        check = [sys.executable, "-m", "netdiag", "check", "--json", "--timeout", str(WAIT_S)]
        rounds = []
        for _ in range(3):
            plain, _ = timed(path, [*check, *targets])
            traced, output = timed(path, [*check, "--trace", *targets])
            rounds.append((plain, traced, output))
        expected = path.router_address(2)
    print(f"== {hosts} hosts dropped at router 2, traced at once; probe timeout {WAIT_S:g} s")
    for plain, traced, output in rounds:
        import json

        report = json.loads(output[output.index("{") :])
        named = {
            f["subject"]
            for e in report["endpoints"]
            for f in e["findings"]
            if f["code"] == "trace.dropped_after_hop"
        }
        added = traced - plain
        print(
            f"check {plain:5.2f} s, with --trace {traced:5.2f} s: tracing adds {added:5.2f} s "
            f"= {added / (WAIT_S + 1):4.2f}x the goal (timeout + 1 s); hops named: "
            f"{sorted(named)} ({'right' if named == {expected} else 'WRONG'})"
        )


def main() -> None:
    if "--batch" in sys.argv[1:]:
        batch()
        return
    batch()
    missing = [
        tool
        for tool in ("ip", "nft", "tcptraceroute", "traceroute", "nmap")
        if shutil.which(tool) is None
    ]
    if missing:
        sys.exit(
            f"needs {', '.join(missing)} "
            "(Debian packages iproute2 nftables tcptraceroute traceroute nmap)"
        )
    with Topology({2: DROP_AT_ROUTER_2}, [OPEN, PORT], routers=2) as path:
        server = path.server4
        runs = {
            "netdiag trace": [
                sys.executable,
                "-m",
                "netdiag",
                "trace",
                server,
                "--port",
                str(PORT),
                "--timeout",
                str(WAIT_S),
                "--max-hops",
                "10",
            ],
            "tcptraceroute": [
                "tcptraceroute",
                "-n",
                "-w",
                str(int(WAIT_S)),
                "-m",
                "10",
                server,
                str(PORT),
            ],
            "traceroute -T": [
                "traceroute",
                "-T",
                "-n",
                "-w",
                str(WAIT_S),
                "-m",
                "10",
                "-p",
                str(PORT),
                server,
            ],
            "nmap --traceroute": [
                "nmap",
                "-n",
                "-Pn",
                "-sS",
                "--traceroute",
                "--max-rtt-timeout",
                f"{int(WAIT_S * 1000)}ms",
                "-p",
                str(PORT),
                server,
            ],
        }
        results = {name: timed(path, command) for name, command in runs.items()}
    print(
        f"== drop of tcp/{PORT} at router 2 (hop 2 of 3); "
        f"per-probe wait {WAIT_S:g} s (the baseline)"
    )
    for name, (seconds, _) in results.items():
        print(f"{name:<18} {seconds:6.2f} s  ratio {seconds / WAIT_S:5.1f}x the wait")
    for name, (_, output) in results.items():
        print(f"\n-- {name}\n{output[-1500:]}")


if __name__ == "__main__":
    main()
