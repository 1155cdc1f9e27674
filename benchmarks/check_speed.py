"""Start-up and concurrency of `netdiag check`, measured against baselines in the same run.

    python benchmarks/check_speed.py

Prints:
- start-up of `netdiag --help` next to `python -c pass` (baseline: the interpreter alone);
- a full check of 13 endpoints (the connectMT profile's names on loopback, a local DNS
  server answering each name after 50-300 ms) next to the sum and the maximum of the
  same endpoints checked one at a time (goal: full check <= 1.3 x the slowest endpoint);
- a full check where every endpoint drops SYNs next to the timeout (goal: about 1 x).
Only loopback is used.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netdiag.cli import main  # noqa: E402
from netdiag.console import Console  # noqa: E402
from tests.servers.dns import DnsServer, addresses  # noqa: E402
from tests.servers.tcp import DroppingPort, OpenPort  # noqa: E402

HOSTS = [f"mail{n}.dicommail.com" for n in range(1, 7)] + ["atlas79.mydhp.de"]
RUNS = 7


def median_wall(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, timeout=60)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def profile_file(directory: Path, smtp: int, pop3: int, tls: int) -> Path:
    hosts = ", ".join(f'"{h}"' for h in HOSTS[:6])
    path = directory / "bench.toml"
    path.write_text(
        f'name = "bench"\nexpected_networks = ["127.0.0.0/8"]\n'
        f'[[endpoints]]\nhosts = [{hosts}]\nport = {smtp}\nservice = "smtp-starttls"\n'
        f'[[endpoints]]\nhosts = [{hosts}]\nport = {pop3}\nservice = "pop3s"\n'
        f'[[endpoints]]\nhost = "{HOSTS[6]}"\nport = {tls}\nservice = "tls"\n',
        "utf-8",
    )
    return path


def timed_check(*args: str) -> float:
    started = time.perf_counter()
    main(["check", "--json", *args], Console(io.StringIO(), io.StringIO()))
    return time.perf_counter() - started


def main_benchmark() -> None:
    print("== start-up (median of", RUNS, "runs)")
    baseline = median_wall([sys.executable, "-c", "pass"])
    help_time = median_wall([sys.executable, "-m", "netdiag", "--help"])
    print(f"python -c pass      {baseline * 1000:8.1f} ms  (baseline)")
    print(
        f"netdiag --help      {help_time * 1000:8.1f} ms  ratio {help_time / baseline:.2f}x, "
        f"netdiag's own {1000 * (help_time - baseline):.1f} ms"
    )

    delays = {host: 0.05 + 0.25 * n / (len(HOSTS) - 1) for n, host in enumerate(HOSTS)}
    zone = {host: addresses("127.0.0.1", delay_s=delay) for host, delay in delays.items()}
    with tempfile.TemporaryDirectory() as tmp, DnsServer(zone) as dns_server:
        with OpenPort() as smtp, OpenPort() as pop3, OpenPort() as tls:
            profile = profile_file(Path(tmp), smtp.port, pop3.port, tls.port)
            common = ["--no-system-resolver", "--resolver", dns_server.spec, "--timeout", "2"]
            full = statistics.median(
                timed_check("--profile", str(profile), *common) for _ in range(3)
            )
            endpoints = [(h, smtp.port, "smtp-starttls") for h in HOSTS[:6]]
            endpoints += [(h, pop3.port, "pop3s") for h in HOSTS[:6]]
            endpoints += [(HOSTS[6], tls.port, "tls")]
            singles = [
                statistics.median(
                    timed_check("--target", f"{h}:{port}/{svc}", *common) for _ in range(3)
                )
                for h, port, svc in endpoints
            ]
        print("\n== concurrency: 13 endpoints, DNS answers after 50-300 ms")
        print(f"sum of endpoints    {sum(singles) * 1000:8.1f} ms  (baseline: one at a time)")
        print(f"slowest endpoint    {max(singles) * 1000:8.1f} ms")
        print(
            f"full check          {full * 1000:8.1f} ms  ratio {full / max(singles):.2f}x slowest "
            f"(goal <= 1.3), {full / sum(singles):.2f}x sum"
        )

        with DroppingPort() as a, DroppingPort() as b, DroppingPort() as c:
            profile = profile_file(Path(tmp), a.port, b.port, c.port)
            fast_zone = DnsServer({host: addresses("127.0.0.1") for host in HOSTS})
            with fast_zone:
                timeout = 1.0
                dropped = timed_check(
                    "--profile",
                    str(profile),
                    "--no-system-resolver",
                    "--resolver",
                    fast_zone.spec,
                    "--timeout",
                    str(timeout),
                )
        print("\n== everything dropped: 13 endpoints")
        print(f"timeout             {timeout * 1000:8.1f} ms  (baseline)")
        print(
            f"full check          {dropped * 1000:8.1f} ms  ratio {dropped / timeout:.2f}x timeout"
        )


if __name__ == "__main__":
    main_benchmark()
