"""What the experiments cost, measured against a baseline in the same run.

    python benchmarks/experiments_speed.py

A real POP3S server behind a device that resets every ClientHello naming mail3 (the filter of
`tests/servers/hello_filter.py`), on loopback:
- baseline: a check of mail1 through the same device (healthy: no experiment runs);
- a check of mail3 and mail1, where mail3's failed handshake calls for the six experiments
  and the retry: its time next to the baseline, the experiments' own longest time, and
  the run's deadline (goal: well inside it — the experiments run at once, not one by one).
Medians of five runs; printed, not asserted. Only loopback is used.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.tls_fixtures import NAMES, check, serving, vendor_pins  # noqa: E402
from tests.servers.dns import DnsServer  # noqa: E402
from tests.servers.hello_filter import HelloFilter, Policy  # noqa: E402
from tests.servers.mail import Pop3Handler, TlsPolicy, server_context  # noqa: E402
from tests.servers.pki import make_pki  # noqa: E402

RUNS = 5
MAIL1, MAIL3 = "mail1.dicommail.com", "mail3.dicommail.com"


def main() -> None:
    pki = make_pki()
    policy = TlsPolicy()
    with tempfile.TemporaryDirectory() as tmp, DnsServer(NAMES) as dns_server:
        folder = Path(tmp)
        client, pins = pki.client_pem(folder), vendor_pins(pki, folder)
        handler = Pop3Handler(server_context(pki, policy), policy)
        with (
            serving(handler) as server,
            HelloFilter(server.port, Policy(blocked_names=(MAIL3,))) as device,
        ):
            common = ("--pins", str(pins), "--cert", str(client))

            def timed(*targets: str) -> tuple[float, float, float]:
                extra = [arg for t in targets[1:] for arg in ("--target", t)]
                started = time.perf_counter()
                result = check(dns_server, targets[0], *common, *extra)
                wall = time.perf_counter() - started
                report = result.json()
                longest = max(
                    (
                        x["elapsed_ms"] / 1000
                        for e in report["endpoints"]
                        for x in e["observations"]["experiments"]
                    ),
                    default=0.0,
                )
                return wall, longest, report["duration_s"]

            healthy = [timed(f"{MAIL1}:{device.port}/pop3s") for _ in range(RUNS)]
            filtered = [
                timed(f"{MAIL3}:{device.port}/pop3s", f"{MAIL1}:{device.port}/pop3s")
                for _ in range(RUNS)
            ]
    base = statistics.median(w for w, _, _ in healthy)
    run = statistics.median(w for w, _, _ in filtered)
    longest = statistics.median(x for _, x, _ in filtered)
    from netdiag.settings.defaults import DEFAULT_DEADLINE_S

    print(f"== experiments (median of {RUNS} runs, loopback, --timeout 2)")
    print(f"healthy check (no experiment)   {base * 1000:8.1f} ms  (baseline)")
    print(
        f"filtered check (6 experiments)  {run * 1000:8.1f} ms  ratio {run / base:.2f}x "
        "(includes the one retry's 1 s pause)"
    )
    print(
        f"longest experiment              {longest * 1000:8.1f} ms  "
        f"{longest / DEFAULT_DEADLINE_S:.2%} of the run's deadline ({DEFAULT_DEADLINE_S:g} s)"
    )


if __name__ == "__main__":
    main()
