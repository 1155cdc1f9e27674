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
from typing import Any

from netdiag import __version__

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY")
_COMMAND_TIMEOUT_S = 5


def _strip_credentials(value: str) -> str:
    """user:secret@proxy:3128 -> ***@proxy:3128, in every form proxies are written."""
    from netdiag.privacy.audit import strip_userinfo

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
    """Every interface with its state, MTU and addresses (psutil: Windows, Linux, macOS)."""
    import psutil

    stats = psutil.net_if_stats()
    addresses = psutil.net_if_addrs()
    families = (socket.AF_INET, socket.AF_INET6)
    return [
        {
            "name": name,
            "is_up": bool(stats[name].isup) if name in stats else None,
            "mtu": int(stats[name].mtu) if name in stats else 0,
            "addresses": [
                a.address.split("%")[0] for a in addresses.get(name, []) if a.family in families
            ],
        }
        for name in sorted(set(stats) | set(addresses))
    ]


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


def _winhttp_proxy() -> dict[str, str]:
    """WinHTTP's proxy from the registry (structured, not `netsh`'s localised text), with
    any credentials stripped."""
    from netdiag.probes.windows import parse_winhttp_settings, read_winhttp_settings

    settings = parse_winhttp_settings(read_winhttp_settings())
    return {key: _strip_credentials(value) for key, value in settings.items()}


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
        from netdiag.probes.windows import parse_dns_client_servers, powershell

        environment["winhttp_proxy"] = _winhttp_proxy()
        environment["resolvers"]["per_interface"] = parse_dns_client_servers(
            powershell(
                "Get-DnsClientServerAddress | Select-Object InterfaceAlias,AddressFamily,"
                "ServerAddresses | ConvertTo-Json"
            )
        )
    return environment
