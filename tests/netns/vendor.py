"""The vendor's site and a real TLS interception product (Debian's sslsplit) on a
namespace path: client -> router (nftables, sslsplit) -> server (the vendor's services)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import trustme

from tests.netns.topology import Topology, stop

REPO = Path(__file__).resolve().parents[2]
DNS = Topology.SERVER4
# One address per vendor host, as on the Internet: per-destination limits see each apart.
HOSTS = {f"mail{n}.dicommail.com": f"198.18.2.{10 + n}" for n in range(1, 7)}
HOSTS["atlas79.mydhp.de"] = "198.18.2.17"
SMTP_SPLIT, TLS_SPLIT = 10025, 10443


def redirect_rules(ports: tuple[int, ...]) -> str:
    """nftables on the router: the given vendor ports go to sslsplit (25 as autossl)."""
    lines = []
    for port in ports:
        to = SMTP_SPLIT if port == 25 else TLS_SPLIT
        lines.append(f"        ip daddr 198.18.2.0/24 tcp dport {port} redirect to :{to}")
    body = "\n".join(lines)
    return (
        "table ip netdiag_intercept {\n"
        "    chain prerouting {\n"
        "        type nat hook prerouting priority dstnat; policy accept;\n"
        f"{body}\n"
        "    }\n"
        "}\n"
    )


class SiteFiles:
    """What a vendor's site writes to its `directory` for netdiag in the client namespace."""

    directory: Path

    @property
    def client(self) -> Path:
        return self.directory / "client.pem"

    @property
    def pins(self) -> Path:
        return self.directory / "pins.toml"


class VendorSite(SiteFiles):
    """`tests.servers.vendor_site` in the server namespace, on one address per host."""

    def __init__(
        self, topology: Topology, directory: Path, hosts: dict[str, str] | None = None
    ) -> None:
        self.topology = topology
        self.directory = directory
        self.hosts = hosts or HOSTS
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> VendorSite:
        server_if = f"l{len(self.topology.nodes) - 1}b"
        for address in self.hosts.values():
            self.topology.ns(
                self.topology.server, "ip", "addr", "add", f"{address}/24", "dev", server_if
            )
        self._process = subprocess.Popen(
            [
                "ip", "netns", "exec", self.topology.server, sys.executable, "-m",
                "tests.servers.vendor_site", str(self.directory), DNS,
                *(f"{host}={address}" for host, address in self.hosts.items()),
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=REPO,
        )  # fmt: skip
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            self.__exit__(None, None, None)
            raise RuntimeError("the vendor site did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.communicate(timeout=5)


class Sslsplit:
    """sslsplit on the router, forging with a generic CA of its own (no product name):
    `ssl` for implicit TLS, `autossl` for STARTTLS on 25. It is supervised as systemd's
    `Restart=always` would: sslsplit 0.5.5 aborts now and then under a full check's load
    ("readcb called when other end not connected"), and a restarting interceptor is part
    of the real world netdiag must be right in."""

    MAX_RESTARTS = 50
    RESTART_S = 0.1

    def __init__(self, topology: Topology, directory: Path, namespace: str = "") -> None:
        self.topology = topology
        # The router by default; the client's own namespace for software on the gateway.
        self.namespace = namespace or topology.router
        ca = trustme.CA(organization_name="Klinikum IT Security")
        self.key, self.cert = directory / "proxy.key", directory / "proxy.crt"
        ca.private_key_pem.write_to_path(str(self.key))
        ca.cert_pem.write_to_path(str(self.cert))
        # The key for the forged leaves, made once: sslsplit would otherwise generate one at
        # every start, and a restart after a crash would take a second instead of a moment.
        self.leaf_key = directory / "leaf.key"
        subprocess.run(
            ["openssl", "genrsa", "-out", str(self.leaf_key), "2048"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.restarts = 0
        self._process: subprocess.Popen[str] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                "ip", "netns", "exec", self.namespace, "sslsplit",
                "-K", str(self.leaf_key), "-k", str(self.key), "-c", str(self.cert),
                "ssl", "0.0.0.0", str(TLS_SPLIT), "autossl", "0.0.0.0", str(SMTP_SPLIT),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def _supervise(self) -> None:
        while not self._stop.is_set() and self.restarts < self.MAX_RESTARTS:
            with self._lock:
                process = self._process
            assert process is not None
            process.wait()
            if self._stop.wait(self.RESTART_S):
                return
            with self._lock:
                if self._stop.is_set():
                    return
                self.restarts += 1
                self._process = self._start()

    def __enter__(self) -> Sslsplit:
        self._process = self._start()
        for _ in range(100):  # bounded: 10 s
            listening = self.topology.ns(self.namespace, "ss", "-ltnH").stdout
            if f":{TLS_SPLIT} " in listening and f":{SMTP_SPLIT} " in listening:
                self._supervisor.start()
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("sslsplit did not start listening")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        with self._lock:
            process = self._process
        if process is not None:
            stop(process)
        if self._supervisor.is_alive():
            self._supervisor.join(timeout=5)
