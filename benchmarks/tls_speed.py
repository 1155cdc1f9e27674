"""A full check with client certificates against local servers, next to a sequential
`openssl s_client` loop over the same 13 endpoints, on plain loopback and on loopback with
20 ms added in each direction by a relay (a distant server; this kernel has no netem).

    python benchmarks/tls_speed.py

Prints, measured in one run (the package byte-compiled first, as an installation is):
- netdiag (a fresh process, Python's start-up included) against the openssl loop
  (goal on plain loopback: <= 2 x the loop);
- `netdiag --help` (goal: <= 0.15 s), next to a bare interpreter's start on this machine;
- the same check in-process against its own slowest endpoint checked alone
  (goal: <= 1.2 x the slowest endpoint).
Only loopback is used: an SMTP server with STARTTLS, a POP3S and a TLS/HTTP server, each
asking for and verifying the client certificate, run in a separate process so that they do
not compete with the client for the interpreter, and a DNS server for the vendor's names.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.connection
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netdiag.cli import main  # noqa: E402
from netdiag.console import Console  # noqa: E402
from tests.integration.tls_fixtures import NAMES  # noqa: E402
from tests.servers.base import Server  # noqa: E402
from tests.servers.dns import DnsServer  # noqa: E402
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context  # noqa: E402
from tests.servers.pki import make_pki  # noqa: E402
from tests.servers.proxies import LatencyProxy  # noqa: E402

RUNS = 5
HELP_GOAL_S = 0.15


def startup() -> tuple[float, float]:
    """Median wall time of a bare interpreter and of `netdiag --help`, each a new process."""

    def timed(*args: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, timeout=30, check=True)
        return time.perf_counter() - started

    bare = statistics.median(timed("-c", "pass") for _ in range(RUNS))
    help_s = statistics.median(timed("-m", "netdiag", "--help") for _ in range(RUNS))
    return bare, help_s


# The chosen stack's modules every check needs, imported by nothing of netdiag's own.
STACK = (
    "typer, cryptography.x509, OpenSSL.SSL, dns.message, dns.query, dns.resolver, "
    "service_identity.cryptography, certifi, ssl, json, tomllib"
)


def stack_floor() -> float:
    """Median wall time of a new interpreter that only imports the chosen stack: what any
    check pays before a line of netdiag runs."""

    def timed() -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", f"import {STACK}"], capture_output=True, timeout=30, check=True
        )
        return time.perf_counter() - started

    return statistics.median(timed() for _ in range(RUNS))


BARE = Path(__file__).resolve().parent / "bare_handshakes.py"


def bare_handshakes(smtp: int, pop3: int, tls: int, client: Path) -> float:
    """Wall time of a new interpreter that imports the stack and does the 13 handshakes
    at once and nothing else (bare_handshakes.py): the floor of any check with this stack."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BARE), str(smtp), str(pop3), str(tls), str(client)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return time.perf_counter() - started


HOSTS = [f"mail{n}.dicommail.com" for n in range(1, 7)]
ATLAS = "atlas79.mydhp.de"


def endpoints(smtp: int, pop3: int, tls: int) -> list[tuple[str, int, str]]:
    result = [(h, smtp, "smtp-starttls") for h in HOSTS] + [(h, pop3, "pop3s") for h in HOSTS]
    return [*result, (ATLAS, tls, "tls")]


def profile(directory: Path, smtp: int, pop3: int, tls: int) -> Path:
    hosts = ", ".join(f'"{h}"' for h in HOSTS)
    path = directory / "bench.toml"
    path.write_text(
        f'name = "bench"\nexpected_networks = ["127.0.0.0/8"]\n'
        f'[[endpoints]]\nhosts = [{hosts}]\nport = {smtp}\nservice = "smtp-starttls"\n'
        f'[[endpoints]]\nhosts = [{hosts}]\nport = {pop3}\nservice = "pop3s"\n'
        f'[[endpoints]]\nhost = "{ATLAS}"\nport = {tls}\nservice = "tls"\n',
        "utf-8",
    )
    return path


def openssl_loop(items: list[tuple[str, int, str]], cert: Path, key: Path, ca: Path) -> float:
    started = time.perf_counter()
    for host, port, service in items:
        command = [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            host,
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-CAfile",
            str(ca),
            "-brief",
        ]
        if service == "smtp-starttls":
            command += ["-starttls", "smtp"]
        subprocess.run(command, input=b"", capture_output=True, timeout=30, check=False)
    return time.perf_counter() - started


def in_process(*args: str) -> float:
    started = time.perf_counter()
    code = main(["check", "--json", *args], Console(io.StringIO(), io.StringIO()))
    assert code == 0, f"check failed with {code}"
    return time.perf_counter() - started


def serve(pki: object, delay: float, ports: multiprocessing.connection.Connection) -> None:
    """In a child process: the three servers, behind latency relays when `delay` > 0."""
    policy = TlsPolicy()
    context = server_context(pki, policy)  # type: ignore[arg-type]
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Server(handler))
            for handler in (
                SmtpHandler(context, policy),
                Pop3Handler(context, policy),
                HttpsHandler(context, policy),
            )
        ]
        if delay:
            servers = [stack.enter_context(Server(LatencyProxy(s.port, delay))) for s in servers]
        ports.send([s.port for s in servers])
        ports.recv()  # until the benchmark says stop


def measure(pki: object, tmp: Path, dns_server: DnsServer, delay: float) -> None:
    client = pki.client_pem(tmp)  # type: ignore[attr-defined]
    cert, key, ca = tmp / "cert.pem", tmp / "key.pem", pki.ca_pem(tmp)  # type: ignore[attr-defined]
    cert.write_bytes(b"".join(p.bytes() for p in pki.client.cert_chain_pems))  # type: ignore[attr-defined]
    key.write_bytes(pki.client.private_key_pem.bytes())  # type: ignore[attr-defined]
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve, args=(pki, delay, child), daemon=True
    )
    process.start()
    try:
        smtp, pop3, https = parent.recv()
        items = endpoints(smtp, pop3, https)
        pins = tmp / "pins.toml"
        imported = main(
            ["pins", "import", str(ca), "--out", str(pins), "--yes"],
            Console(io.StringIO(), io.StringIO()),
        )
        assert imported == 0, "pins import failed"
        common = [
            "--no-system-resolver",
            *("--resolver", dns_server.spec, "--cert", str(client), "--pins", str(pins)),
        ]
        path = str(profile(tmp, smtp, pop3, https))
        loop = statistics.median(openssl_loop(items, cert, key, ca) for _ in range(RUNS))
        floor = stack_floor() if not delay else 0.0
        bare = statistics.median(bare_handshakes(smtp, pop3, https, client) for _ in range(RUNS))
        runs = []
        for _ in range(RUNS):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "netdiag", "check", "--profile", path, *common],
                capture_output=True,
                timeout=60,
                check=False,
            )
            runs.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stdout.decode()[-2000:]
        full = statistics.median(in_process("--profile", path, *common) for _ in range(RUNS))
        singles = [
            statistics.median(
                in_process(
                    "--target", f"{h}:{port}/{svc}", "--expect-network", "127.0.0.0/8", *common
                )
                for _ in range(3)
            )
            for h, port, svc in items
        ]
    finally:
        parent.send("stop")
        process.join(timeout=10)
    netdiag = statistics.median(runs)
    where = f"loopback + {delay * 1000:.0f} ms each way" if delay else "plain loopback"
    print(f"\n== 13 endpoints with client certificates (SMTP STARTTLS, POP3S, TLS), {where}")
    print(
        f"openssl s_client loop   {loop * 1000:8.1f} ms  (baseline: sequential, one process each)"
    )
    print(
        f"netdiag check (process) {netdiag * 1000:8.1f} ms  "
        f"ratio {netdiag / loop:.2f}x the loop" + (" (goal <= 2)" if not delay else "")
    )
    if floor:
        print(
            f"the stack's imports     {floor * 1000:8.1f} ms  ratio {floor / loop:.2f}x the loop "
            "(a new interpreter importing typer, cryptography, pyOpenSSL, dnspython, "
            "service_identity, certifi: the floor of any check)"
        )
    print(
        f"stack + handshakes only {bare * 1000:8.1f} ms  ratio {bare / loop:.2f}x the loop "
        "(a new interpreter importing the stack, then the 13 handshakes at once and nothing "
        "else: the floor of any check with this stack)"
    )
    print(f"slowest endpoint alone  {max(singles) * 1000:8.1f} ms  (baseline, in-process)")
    print(
        f"netdiag check (in-proc) {full * 1000:8.1f} ms  "
        f"ratio {full / max(singles):.2f}x the slowest (goal <= 1.2)"
    )


def run() -> None:
    if shutil.which("openssl") is None:
        sys.exit("needs the openssl command (Debian package openssl)")
    package = Path(__file__).resolve().parent.parent / "netdiag"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    bare, help_s = startup()
    print("== start-up")
    print(f"python -c pass          {bare * 1000:8.1f} ms  (baseline: the interpreter alone)")
    print(
        f"netdiag --help          {help_s * 1000:8.1f} ms  ratio {help_s / HELP_GOAL_S:.2f}x "
        f"the goal of {HELP_GOAL_S * 1000:.0f} ms, {(help_s - bare) * 1000:.0f} ms over the "
        "bare interpreter"
    )
    pki = make_pki()
    with tempfile.TemporaryDirectory() as tmp_name, DnsServer(NAMES) as dns_server:
        for delay in (0.0, 0.02):
            measure(pki, Path(tmp_name), dns_server, delay)
    print("\nOn plain loopback a handshake costs ~10 ms, so Python's start-up (~0.2 s with the")
    print("TLS and DNS libraries) dominates; with realistic latency the concurrency shows.")


if __name__ == "__main__":
    run()
