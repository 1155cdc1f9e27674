"""Debian's squid on the router of a namespace path, as hospitals run it: the stock access
rules (CONNECT to 443 only, `deny !Safe_ports`) on one port, a variant that also lets
CONNECT to 995 through, one that wants authentication, each its own `http_port`."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.netns.topology import Topology, stop

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
            stop(self._process, timeout=10)
            if self._process.stderr is not None:
                self._process.stderr.close()


# Squid as a transparent TLS interceptor (SslBump), as pfSense's and many hospitals' proxies
# run it: the router redirects the vendor's ports to its `intercept ssl-bump` port; step 1
# peeks at the ClientHello, then the rules decide (bump: forge with the proxy's CA; splice:
# pass through; terminate: close).
BUMP_PORT = 3140

BUMP_CONFIG = """
http_port {address}:{http}
{listener}
sslcrtd_program /usr/lib/squid/security_file_certgen -s {directory}/ssl_db -M 4MB
acl step1 at_step SslBump1
acl step2 at_step SslBump2
acl blocked_names ssl::server_name {blocked}
ssl_bump peek step1
{rules}
tls_outgoing_options flags=DONT_VERIFY_PEER
{unsupported}
http_access allow all
dns_nameservers {dns}
cache deny all
cache_mem 8 MB
pid_filename {directory}/squid.pid
cache_log {directory}/cache.log
access_log stdio:{directory}/access.log
coredump_dir {directory}
shutdown_lifetime 0 seconds
"""


def bump_redirect(ports: tuple[int, ...]) -> str:
    """nftables on the router: these vendor ports go to Squid's interception port."""
    body = "\n".join(
        f"        ip daddr 198.18.2.0/24 tcp dport {port} redirect to :{BUMP_PORT}"
        for port in ports
    )
    return (
        "table ip netdiag_intercept {\n    chain prerouting {\n"
        "        type nat hook prerouting priority dstnat; policy accept;\n"
        f"{body}\n    }}\n}}\n"
    )


def has_ssl_bump() -> bool:
    """Debian's squid-openssl has SslBump; the GnuTLS squid does not."""
    found = subprocess.run(["squid", "-v"], capture_output=True, text=True, check=False)
    return "--with-openssl" in found.stdout


class SquidBump:
    """squid in the router's namespace, intercepting what the router redirects to
    BUMP_PORT, with its own CA made as Squid's documentation makes it (openssl req).
    `rules` are the ssl_bump lines after the step-1 peek; `blocked` fills the
    `blocked_names` ACL. Its own directory (the proxy user writes there), removed on exit."""

    def __init__(
        self,
        topology: Topology,
        rules: str,
        blocked: str = "none.invalid",
        http: bool = False,
        tunnel: bool = True,
    ) -> None:
        self.topology = topology
        # With `http`, the redirected port is an intercepting HTTP port (`http_port …
        # intercept`), no TLS at all: a transparent web proxy, as firewalls that send "web"
        # traffic to one have it.
        self.http = http
        # What is not its protocol: passed through to the server (`on_unsupported_protocol
        # tunnel`), or answered with its own error.
        self.tunnel = tunnel
        self.directory = Path(tempfile.mkdtemp(prefix="netdiag-squid-"))
        self.directory.chmod(0o755)
        self.rules, self.blocked = rules, blocked
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SquidBump:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        d = self.directory
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/O=Klinik IT/CN=Squid Inspection CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem")],
            capture_output=True, check=True, timeout=30,
        )  # fmt: skip
        (d / "ca.key").chmod(0o644)  # squid reads it as its own user
        subprocess.run(
            ["/usr/lib/squid/security_file_certgen", "-c", "-s", str(d / "ssl_db"), "-M", "4MB"],
            capture_output=True, check=True, timeout=30,
        )  # fmt: skip
        for path in (d / "ssl_db", *(d / "ssl_db").rglob("*")):
            shutil.chown(path, "proxy")
        d.chmod(0o777)  # its logs and pid file
        address = self.topology.router_address(1)
        config = d / "squid.conf"
        listener = (
            f"http_port {address}:{BUMP_PORT} intercept"
            if self.http
            else f"https_port {address}:{BUMP_PORT} intercept ssl-bump tls-cert={d}/ca.pem "
            f"tls-key={d}/ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB"
        )
        config.write_text(
            BUMP_CONFIG.format(
                address=address, http=STOCK, listener=listener, directory=d,
                unsupported="on_unsupported_protocol tunnel all" if self.tunnel else "",
                blocked=self.blocked, rules=self.rules, dns=self.topology.SERVER4,
            ),
            "utf-8",
        )  # fmt: skip
        self._process = subprocess.Popen(
            ["ip", "netns", "exec", self.topology.router, "squid", "-N", "-f", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):  # bounded: 10 s
            listening = self.topology.ns(self.topology.router, "ss", "-ltnH").stdout
            if f"{address}:{BUMP_PORT} " in listening:
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"squid did not start listening: {self.log()[-2000:]}")

    def log(self, name: str = "cache.log") -> str:
        path = self.directory / name
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            stop(self._process, timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)
