"""A real network path in Linux network namespaces: client -> router -> server.

    client 198.18.1.2 / 2001:db8:1::2
      |  veth
    router 198.18.1.1 | 198.18.2.1  (forwarding, nftables rules of the test)
      |  veth
    server 198.18.2.2 / 2001:db8:2::2  (listeners of the test)

198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8::/32 (documentation) exist only inside
these namespaces; nothing is routed off the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from types import TracebackType

import pytest

from tests.conftest import IN_CI


def require_netns() -> None:
    """Skip (fail under CI) where namespaces cannot be built."""
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        reason = "needs root to create network namespaces"
    elif missing:
        reason = f"needs {', '.join(missing)} (Debian packages iproute2, nftables)"
    else:
        return
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true must run every test")
    pytest.skip(reason)


def sh(*args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


LISTENER = textwrap.dedent(
    """
    import socket, sys, threading
    socks = []
    for port in map(int, sys.argv[1:]):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        s.listen(64)
        socks.append(s)
    def serve(s):
        while True:
            c, _ = s.accept()
            c.close()
    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


WARM_UP = textwrap.dedent(
    """
    import socket, sys, time
    for address in ("{v4}", "{v6}"):
        for attempt in range(30):
            try:
                socket.create_connection((address, {port}), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("no connection to " + address)
    """
)


class Topology:
    CLIENT4, ROUTER4_C, ROUTER4_S, SERVER4 = "198.18.1.2", "198.18.1.1", "198.18.2.1", "198.18.2.2"
    CLIENT6, ROUTER6_C, ROUTER6_S, SERVER6 = (
        "2001:db8:1::2",
        "2001:db8:1::1",
        "2001:db8:2::1",
        "2001:db8:2::2",
    )

    def __init__(self, router_rules: str, server_ports: Sequence[int]) -> None:
        tag = f"nd{os.getpid() % 100000}"
        self.client, self.router, self.server = f"{tag}c", f"{tag}r", f"{tag}s"
        self.router_rules = router_rules
        self.server_ports = server_ports
        self._listener: subprocess.Popen[str] | None = None

    def __enter__(self) -> Topology:
        try:
            self._build()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._teardown()

    def ns(
        self, namespace: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", namespace, *args, check=check)

    def _build(self) -> None:
        for name in (self.client, self.router, self.server):
            sh("ip", "netns", "add", name)
            self.ns(name, "ip", "link", "set", "lo", "up")
            # No duplicate address detection: a tentative link-local address would keep
            # neighbour discovery, and so every IPv6 test, waiting for a second or two.
            for scope in ("all", "default"):
                self.ns(name, "sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.accept_dad=0")
        self._link(
            self.client,
            "c0",
            self.CLIENT4,
            self.CLIENT6,
            self.router,
            "rc",
            self.ROUTER4_C,
            self.ROUTER6_C,
        )
        self._link(
            self.server,
            "s0",
            self.SERVER4,
            self.SERVER6,
            self.router,
            "rs",
            self.ROUTER4_S,
            self.ROUTER6_S,
        )
        self.ns(self.client, "ip", "route", "add", "default", "via", self.ROUTER4_C)
        self.ns(self.client, "ip", "-6", "route", "add", "default", "via", self.ROUTER6_C)
        self.ns(self.server, "ip", "route", "add", "default", "via", self.ROUTER4_S)
        self.ns(self.server, "ip", "-6", "route", "add", "default", "via", self.ROUTER6_S)
        for setting in (
            "net.ipv4.ip_forward=1",
            "net.ipv6.conf.all.forwarding=1",
            # One ICMP error per test case must not be eaten by the router's rate limit.
            "net.ipv4.icmp_ratelimit=0",
            "net.ipv6.icmp.ratelimit=0",
        ):
            self.ns(self.router, "sysctl", "-q", "-w", setting)
        if self.router_rules:
            rules = subprocess.run(
                ["ip", "netns", "exec", self.router, "nft", "-f", "-"],
                input=self.router_rules,
                capture_output=True,
                text=True,
                timeout=10,
            )
            if rules.returncode:
                raise RuntimeError(f"nft rules rejected: {rules.stderr}")
        self._listener = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.server,
                sys.executable,
                "-c",
                LISTENER,
                *map(str, self.server_ports),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._listener.stdout is not None
        ready = self._listener.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"server listeners did not start: {self._listener.stderr}")
        if self.server_ports:
            self._warm_up(self.server_ports[0])

    def _warm_up(self, port: int) -> None:
        """Connect once over each family until it works, so that link bring-up and neighbour
        discovery are done before a test measures anything (bounded: 30 tries of 0.2 s)."""
        script = WARM_UP.format(port=port, v4=self.SERVER4, v6=self.SERVER6)
        result = self.ns(self.client, sys.executable, "-c", script, check=False)
        if result.returncode:
            raise RuntimeError(f"the namespace path does not carry traffic: {result.stderr}")

    def _link(
        self,
        left: str,
        left_if: str,
        left4: str,
        left6: str,
        right: str,
        right_if: str,
        right4: str,
        right6: str,
    ) -> None:
        sh(
            "ip",
            "link",
            "add",
            left_if,
            "netns",
            left,
            "type",
            "veth",
            "peer",
            "name",
            right_if,
            "netns",
            right,
        )
        for namespace, interface, v4, v6 in (
            (left, left_if, left4, left6),
            (right, right_if, right4, right6),
        ):
            self.ns(namespace, "ip", "addr", "add", f"{v4}/24", "dev", interface)
            self.ns(namespace, "ip", "-6", "addr", "add", f"{v6}/64", "dev", interface, "nodad")
            self.ns(namespace, "ip", "link", "set", interface, "up")

    def _teardown(self) -> None:
        if self._listener is not None:
            self._listener.kill()
            self._listener.wait(timeout=5)
            for stream in (self._listener.stdin, self._listener.stdout, self._listener.stderr):
                if stream is not None:
                    stream.close()
        for name in (self.client, self.router, self.server):
            sh("ip", "netns", "del", name, check=False)

    def netdiag(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run netdiag inside the client namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, "-m", "netdiag", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
