"""Debian's squid on the router of a namespace path, as hospitals run it: the stock access
rules (CONNECT to 443 only, `deny !Safe_ports`) on one port, a variant that also lets
CONNECT to 995 through, one that wants authentication, each its own `http_port`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from types import TracebackType

from tests.netns.topology import Topology

STOCK, OPEN_995, AUTH, DOWN = 3128, 3129, 3130, 3131

CONFIG = """
http_port {address}:{stock} name=stock
http_port {address}:{open995} name=open995
http_port {address}:{auth} name=auth
acl localnet src 198.18.0.0/15
acl SSL_ports port 443
acl Safe_ports port 80 21 443 70 210 1025-65535 280 488 591 777
acl Also995 port 995
acl CONNECT method CONNECT
acl stock myportname stock
acl open995 myportname open995
acl authport myportname auth
auth_param basic program /usr/lib/squid/basic_ncsa_auth {directory}/passwd
auth_param basic realm netdiag-test
acl authed proxy_auth REQUIRED
http_access deny authport !authed
http_access allow open995 CONNECT Also995 localnet
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localnet
http_access deny all
dns_nameservers {dns}
cache deny all
cache_mem 8 MB
pid_filename {directory}/squid.pid
cache_log {directory}/cache.log
access_log none
coredump_dir {directory}
shutdown_lifetime 0 seconds
"""


class Squid:
    """squid in the router's namespace on its client-side address; DNS from the vendor's
    server. Started in the foreground and stopped with the fixture."""

    def __init__(self, topology: Topology, directory: Path, dns: str) -> None:
        self.topology = topology
        self.address = topology.router_address(1)
        self.directory = directory
        directory.chmod(0o777)  # squid drops to its own user for its logs
        (directory / "passwd").write_text("gateway:$apr1$abc$7gIOPcQ2v5CRrf0TCKSak.\n", "utf-8")
        self.config = directory / "squid.conf"
        self.config.write_text(
            CONFIG.format(
                address=self.address, stock=STOCK, open995=OPEN_995, auth=AUTH,
                directory=directory, dns=dns,
            ),
            "utf-8",
        )  # fmt: skip
        self._process: subprocess.Popen[str] | None = None

    def proxy(self, port: int) -> str:
        return f"http://{self.address}:{port}"

    def __enter__(self) -> Squid:
        self._process = subprocess.Popen(
            ["ip", "netns", "exec", self.topology.router, "squid", "-N", "-f", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for _ in range(100):  # bounded: 10 s
            listening = self.topology.ns(self.topology.router, "ss", "-ltnH").stdout
            if all(f"{self.address}:{p} " in listening for p in (STOCK, OPEN_995, AUTH)):
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.1)
        log = (
            (self.directory / "cache.log").read_text("utf-8", "replace")[-2000:]
            if (self.directory / "cache.log").exists()
            else ""
        )
        self.__exit__(None, None, None)
        raise RuntimeError(f"squid did not start listening: {log}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            if self._process.stderr is not None:
                self._process.stderr.close()
