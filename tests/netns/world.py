"""The vendor's world in network namespaces, for commands as a user types them:

    python -m tests.netns.world [--exit-codes 0,1,2] -- 'netdiag check'

builds client -> router -> server namespaces, runs the vendor's site in the server namespace
(`tests.servers.vendor_site`: SMTP+STARTTLS, POP3S and TLS on one address per vendor host,
and the DNS server that names them), makes that DNS server the client namespace's system
resolver (`/etc/netns/<client>/resolv.conf`, which `ip netns exec` puts in place of
`/etc/resolv.conf`), and runs each command with `sh` inside the client namespace, in a
folder that holds the files the README's examples name (`gateway.p12`, `gw.pem`, `gw.key`,
`vendor-ca.pem`, `vendor-server-ca.pem`, `vendor-client-ca.pem`). Nothing leaves the
machine: the namespaces have no route but to each other.

As a command (CI runs the README's check command so), it prints the command's output and
fails on a traceback, an internal error, or an exit code outside `--exit-codes`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from tests.netns.topology import Topology
from tests.netns.vendor import DNS, VendorSite

# The vendor's hosts on public addresses, as on the Internet (198.18.0.0/15 is reserved, and
# netdiag rightly calls a vendor name that resolves there `dns.private_address`). They exist
# only on the server namespace's link; the router is the only way to them, and no namespace
# has a route off this machine.
PUBLIC = "198.20.0"
HOSTS = {f"mail{n}.dicommail.com": f"{PUBLIC}.{10 + n}" for n in range(1, 7)}
HOSTS["atlas79.mydhp.de"] = f"{PUBLIC}.17"
# The password of the example PKCS#12 file, given as a user would: in the environment.
P12_PASSWORD = "gateway-example"
BROKEN = ("Traceback (most recent call last)", "internal error")


class VendorWorld:
    """A healthy path to the vendor's site; commands run in the client namespace."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.site_files = directory / "site"
        self.work = directory / "work"
        self.config = directory / "config"
        for folder in (self.site_files, self.work, self.config):
            folder.mkdir(parents=True, exist_ok=True)
        self.topology = Topology("", [])
        self.site = VendorSite(self.topology, self.site_files, HOSTS)
        self._resolv_dir: Path | None = None

    def __enter__(self) -> VendorWorld:
        self.topology.__enter__()
        try:
            self.topology.ns(
                self.topology.router, "ip", "route", "add", f"{PUBLIC}.0/24",
                "via", self.topology.server4,
            )  # fmt: skip
            self.site.__enter__()
            self._resolv_dir = Path("/etc/netns") / self.topology.client
            self._resolv_dir.mkdir(parents=True, exist_ok=True)
            (self._resolv_dir / "resolv.conf").write_text(f"nameserver {DNS}\n", "utf-8")
            self._example_files()
            (self.site_files / "empty-store.pem").write_text("", "utf-8")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._resolv_dir is not None:
            shutil.rmtree(self._resolv_dir, ignore_errors=True)
        self.site.__exit__(kind, value, tb)
        self.topology.__exit__(kind, value, tb)

    def _example_files(self) -> None:
        """The files the README's examples name, from the site's PKI."""
        from cryptography.hazmat.primitives.serialization import (
            BestAvailableEncryption,
            Encoding,
            NoEncryption,
            PrivateFormat,
            load_pem_private_key,
            pkcs12,
        )
        from cryptography.x509 import load_pem_x509_certificates

        client = (self.site_files / "client.pem").read_bytes()
        certificates = load_pem_x509_certificates(client)
        key = load_pem_private_key(client, None)
        key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        (self.work / "gateway.p12").write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"gateway",
                key,  # type: ignore[arg-type]
                certificates[0],
                certificates[1:],
                BestAvailableEncryption(P12_PASSWORD.encode()),
            )
        )
        pems = b"".join(c.public_bytes(Encoding.PEM) for c in certificates)
        (self.work / "gw.pem").write_bytes(pems)
        (self.work / "gw.key").write_bytes(key_pem)
        ca = (self.site_files / "vendor-ca.pem").read_bytes()
        (self.work / "vendor-ca.pem").write_bytes(ca)
        (self.work / "vendor-server-ca.pem").write_bytes(ca)
        # One CA for everything in this world: it issues the gateway's certificate too.
        (self.work / "vendor-client-ca.pem").write_bytes(ca)

    def environment(self) -> dict[str, str]:
        """What a user's shell would hold: netdiag on the PATH, the PKCS#12 password, a
        configuration folder of its own (pins learnt land there, not in the real one)."""
        bin_dir = str(Path(sys.executable).parent)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.lower().endswith("_proxy") and key != "NETDIAG_LOCAL_TRUST_STORE"
        }
        env.update(
            # A netdiag already on the PATH (the one a user installed) comes first.
            PATH=f"{env.get('PATH', '/usr/bin:/bin')}:{bin_dir}",
            NETDIAG_CERT_PASSWORD=P12_PASSWORD,
            NETDIAG_CONFIG_DIR=str(self.config),
            # A check reads the machine's trust store as context; an empty one keeps the
            # run independent of what this machine trusts.
            NETDIAG_LOCAL_TRUST_STORE=str(self.site_files / "empty-store.pem"),
            LANG="C.UTF-8",
        )
        return env

    def run(
        self, command: str, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`command` with `sh` in the client namespace, in the examples' folder (or `cwd`),
        its input a terminal on which a user answers yes when netdiag asks (before writing
        pins)."""
        controller, terminal = os.openpty()
        try:
            os.write(controller, b"y\n" * 4)
            return subprocess.run(
                ["ip", "netns", "exec", self.topology.client, "sh", "-c", command],
                stdin=terminal,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=cwd or self.work,
                env=self.environment(),
            )
        finally:
            os.close(terminal)
            os.close(controller)


def broken(result: subprocess.CompletedProcess[str]) -> str | None:
    """What is wrong with a documented command's run that a user must never see."""
    for marker in BROKEN:
        if marker in result.stdout or marker in result.stderr:
            return f"its output holds {marker!r}"
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exit-codes", default="0,1,2", help="accepted exit codes")
    parser.add_argument("command", nargs="+", help="shell commands, run in order")
    args = parser.parse_args(argv)
    accepted = {int(code) for code in args.exit_codes.split(",")}
    failed = 0
    with tempfile.TemporaryDirectory() as directory, VendorWorld(Path(directory)) as world:
        for command in args.command:
            result = world.run(command)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            problem = broken(result)
            if problem is None and result.returncode not in accepted:
                problem = f"exit code {result.returncode}, not one of {sorted(accepted)}"
            print(f"[world] {command!r}: exit {result.returncode}", file=sys.stderr)
            if problem is not None:
                print(f"[world] {command!r}: {problem}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
