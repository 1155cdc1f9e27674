"""Facts about the machine for a support ticket: OS, resolvers, proxies, interfaces, routes,
clock, versions. Every command has a timeout; anything unavailable is said, not raised.
Proxy settings lose any password they carry."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from netdiag import __version__

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY")
_COMMAND_TIMEOUT_S = 5


def _strip_credentials(value: str) -> str:
    """user:secret@proxy:3128 -> ***@proxy:3128, in every form proxies are written."""
    from netdiag.secrecy import strip_userinfo

    return strip_userinfo(value)


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed commands, no shell
            command, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({command[0]} not available: {type(e).__name__})"
    return (done.stdout or done.stderr).strip()[:20000]


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "netdiag": __version__}
    for package in (
        "typer",
        "dnspython",
        "pyOpenSSL",
        "cryptography",
        "scapy",
        "tabulate",
        "certifi",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _resolvers() -> dict[str, Any]:
    try:
        import dns.resolver

        configured = dns.resolver.Resolver(configure=True)
        return {
            "nameservers": [str(getattr(n, "address", n)) for n in configured.nameservers],
            "search": [str(d) for d in configured.search],
        }
    except Exception as e:  # noqa: BLE001 - no configuration is a fact worth reporting
        return {"error": type(e).__name__}


def _interfaces() -> list[dict[str, Any]]:
    if sys.platform == "linux":
        result = []
        for path in sorted(Path("/sys/class/net").glob("*")):
            try:
                mtu = int((path / "mtu").read_text().strip())
            except (OSError, ValueError):
                mtu = 0
            result.append({"name": path.name, "mtu": mtu})
        addresses = _run(["ip", "-o", "addr", "show"])
        for entry in result:
            entry["addresses"] = [
                line.split()[3]
                for line in addresses.splitlines()
                if len(line.split()) > 3 and line.split()[1] == entry["name"]
            ]
        return result
    if sys.platform == "win32":
        return [
            {
                "ipconfig": _run(["ipconfig", "/all"]),
                "mtu": _run(["netsh", "interface", "ipv4", "show", "subinterfaces"]),
            }
        ]
    return [{"ifconfig": _run(["ifconfig"])}]


def _default_route() -> str:
    if sys.platform == "linux":
        return (
            _run(["ip", "route", "show", "default"])
            + "\n"
            + _run(["ip", "-6", "route", "show", "default"])
        )
    if sys.platform == "win32":
        return _run(["route", "print", "-4"])
    return _run(["netstat", "-rn"])


def collect_environment(server_date: str = "") -> dict[str, Any]:
    """Everything support asks about the gateway; `server_date` is an HTTP Date header seen
    during the run, to tell the clock's offset."""
    now = datetime.now(UTC)
    clock: dict[str, Any] = {"utc": now.isoformat(timespec="seconds")}
    if server_date:
        from email.utils import parsedate_to_datetime

        try:
            server = parsedate_to_datetime(server_date)
            clock["server_date"] = server_date
            clock["offset_s"] = round((now - server).total_seconds(), 1)
        except (TypeError, ValueError):
            clock["server_date"] = server_date
    environment: dict[str, Any] = {
        "host": {"name": socket.gethostname(), "fqdn": socket.getfqdn()},
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
        },
        "versions": _versions(),
        "clock": clock,
        "resolvers": _resolvers(),
        "proxy_environment": {
            name: _strip_credentials(os.environ[key])
            for name in PROXY_VARIABLES
            for key in (name, name.lower())
            if key in os.environ
        },
        "interfaces": _interfaces(),
        "default_route": _default_route(),
    }
    if sys.platform == "win32":
        environment["winhttp_proxy"] = _strip_credentials(
            _run(["netsh", "winhttp", "show", "proxy"])
        )
    return environment
