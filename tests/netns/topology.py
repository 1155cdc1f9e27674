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

import itertools
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType

import pytest

from tests.conftest import IN_CI


@contextmanager
def nft_table(path: Topology, namespace: str, table: str, rules: str) -> Iterator[None]:
    """`rules`, an nft script that creates `table ip <table>`, loaded in `namespace` while
    the block runs, and the table deleted after it."""
    subprocess.run(
        ["ip", "netns", "exec", namespace, "nft", "-f", "-"],
        input=rules, text=True, check=True, capture_output=True, timeout=10,
    )  # fmt: skip
    try:
        yield
    finally:
        path.ns(namespace, "nft", "delete", "table", "ip", table, check=False)


def require_netns(*tools: str, packages: Mapping[str, str] | None = None) -> None:
    """Skip (fail under CI) where namespaces cannot be built, or a tool the test runs in
    them (a Debian package of the same name, or as `packages` names it) is missing."""
    missing = [tool for tool in ("ip", "nft", *tools) if shutil.which(tool) is None]
    if os.geteuid() != 0:
        reason = "needs root to create network namespaces"
    elif missing:
        named = (packages or {}).get
        packages_text = ", ".join(("iproute2", "nftables", *(named(t, t) for t in tools)))
        reason = f"needs {', '.join(missing)} (Debian packages {packages_text})"
    else:
        return
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true must run every test")
    pytest.skip(reason)


def sh(*args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 5) -> None:
    """A daemon a test started, stopped with SIGTERM (as its init script would), killed if
    it is still there after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


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


_INSTANCES = itertools.count()


class Topology:
    """client -> router 1 -> ... -> router n -> server, each link its own /24 and /64.

    On link i the node nearer the client is .2 for the client's own link and .1 after it,
    the other node the other one: with one router the addresses are the constants below.
    """

    CLIENT4, ROUTER4_C, ROUTER4_S, SERVER4 = "198.18.1.2", "198.18.1.1", "198.18.2.1", "198.18.2.2"
    CLIENT6, ROUTER6_C, ROUTER6_S, SERVER6 = (
        "2001:db8:1::2",
        "2001:db8:1::1",
        "2001:db8:2::1",
        "2001:db8:2::2",
    )

    def __init__(
        self,
        router_rules: str | dict[int, str],
        server_ports: Sequence[int],
        *,
        routers: int = 1,
        link_mtu: dict[int, int] | None = None,
        extra_servers: int = 0,
    ) -> None:
        tag = f"nd{os.getpid() % 100000}x{next(_INSTANCES)}"
        self.routers = [f"{tag}r{k}" for k in range(1, routers + 1)]
        self.client, self.server = f"{tag}c", f"{tag}s"
        self.router = self.routers[0]
        self.nodes = [self.client, *self.routers, self.server]
        self.rules = router_rules if isinstance(router_rules, dict) else {1: router_rules}
        self.server_ports = server_ports
        self.link_mtu = link_mtu or {}
        self._listener: subprocess.Popen[str] | None = None
        links = len(self.nodes) - 1
        self.server4, self.server6 = f"198.18.{links}.2", f"2001:db8:{links}::2"
        # More addresses on the server's link, as several vendor hosts behind one router.
        self.servers4 = [self.server4, *(f"198.18.{links}.{3 + n}" for n in range(extra_servers))]

    @staticmethod
    def address(link: int, side: str, version: int) -> str:
        """The address of the left or right node of a link."""
        host = ("2" if side == "left" else "1") if link == 1 else ("1" if side == "left" else "2")
        return f"198.18.{link}.{host}" if version == 4 else f"2001:db8:{link}::{host}"

    def router_address(self, k: int, version: int = 4) -> str:
        """Router k's address on the link towards the client: what its ICMP comes from."""
        return self.address(k, "right", version)

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
        for name in self.nodes:
            sh("ip", "netns", "add", name)
            self.ns(name, "ip", "link", "set", "lo", "up")
            # No duplicate address detection: a tentative link-local address would keep
            # neighbour discovery, and so every IPv6 test, waiting for a second or two.
            for scope in ("all", "default"):
                self.ns(name, "sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.accept_dad=0")
        for link in range(1, len(self.nodes)):
            left, right = self.nodes[link - 1], self.nodes[link]
            self._link(link, left, right)
        last = len(self.nodes) - 1
        for version, flag in ((4, "-4"), (6, "-6")):
            self.ns(
                self.client,
                "ip",
                flag,
                "route",
                "add",
                "default",
                "via",
                self.address(1, "right", version),
            )
            self.ns(
                self.server,
                "ip",
                flag,
                "route",
                "add",
                "default",
                "via",
                self.address(last, "left", version),
            )
            for k, router in enumerate(self.routers, start=1):
                if k < len(self.routers):
                    self.ns(
                        router,
                        "ip",
                        flag,
                        "route",
                        "add",
                        "default",
                        "via",
                        self.address(k + 1, "right", version),
                    )
                for j in range(1, k):
                    subnet = f"198.18.{j}.0/24" if version == 4 else f"2001:db8:{j}::/64"
                    self.ns(
                        router,
                        "ip",
                        flag,
                        "route",
                        "add",
                        subnet,
                        "via",
                        self.address(k, "left", version),
                    )
        last_link = len(self.nodes) - 1
        for extra in self.servers4[1:]:
            self.ns(self.server, "ip", "addr", "add", f"{extra}/24", "dev", f"l{last_link}b")
        for router in self.routers:
            for setting in (
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                # One ICMP error per test case must not be eaten by the router's rate limit.
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
            ):
                self.ns(router, "sysctl", "-q", "-w", setting)
        for k, rules in self.rules.items():
            if not rules:
                continue
            applied = subprocess.run(
                ["ip", "netns", "exec", self.routers[k - 1], "nft", "-f", "-"],
                input=rules,
                capture_output=True,
                text=True,
                timeout=10,
            )
            if applied.returncode:
                raise RuntimeError(f"nft rules rejected: {applied.stderr}")
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
        script = WARM_UP.format(port=port, v4=self.server4, v6=self.server6)
        result = self.ns(self.client, sys.executable, "-c", script, check=False)
        if result.returncode:
            raise RuntimeError(f"the namespace path does not carry traffic: {result.stderr}")

    def _link(self, link: int, left: str, right: str) -> None:
        left_if, right_if = f"l{link}a", f"l{link}b"
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
        for namespace, interface, side in ((left, left_if, "left"), (right, right_if, "right")):
            self.ns(
                namespace,
                "ip",
                "addr",
                "add",
                f"{self.address(link, side, 4)}/24",
                "dev",
                interface,
            )
            self.ns(
                namespace,
                "ip",
                "-6",
                "addr",
                "add",
                f"{self.address(link, side, 6)}/64",
                "dev",
                interface,
                "nodad",
            )
            if link in self.link_mtu:
                self.ns(namespace, "ip", "link", "set", interface, "mtu", str(self.link_mtu[link]))
            self.ns(namespace, "ip", "link", "set", interface, "up")

    def _teardown(self) -> None:
        if self._listener is not None:
            self._listener.kill()
            self._listener.wait(timeout=5)
            for stream in (self._listener.stdin, self._listener.stdout, self._listener.stderr):
                if stream is not None:
                    stream.close()
        for name in self.nodes:
            sh("ip", "netns", "del", name, check=False)

    def netdiag(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run netdiag inside the client namespace (with `env` added to the environment)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, "-m", "netdiag", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **env} if env else None,
        )
