"""Targets and profiles: which endpoints to check, as data rather than code.

A profile is a TOML file (format in README.md). The connectMT endpoints ship with the package
as `netdiag/data/profiles/connectmt.toml`.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from netdiag.errors import ProfileError, UsageError
from netdiag.files import MIB, FileKind, read_text_bounded
from netdiag.settings.host_requirements import HostRequirements, parse_host_requirements

DEFAULT_PROFILE = "connectmt.toml"
PROFILE_FILE = FileKind("profile", "Profil")
MAX_PROFILE = MIB
# The profile name of targets given on the command line (`--target`, `trace`, `mtu`).
COMMAND_LINE = "command line"
MAX_ENDPOINTS = 256

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Service(StrEnum):
    """What is spoken on a port once TCP is open."""

    SMTP_STARTTLS = "smtp-starttls"
    POP3S = "pop3s"
    TLS = "tls"
    TCP = "tcp"
    # ICMP echo towards a host (`netdiag mtu`): no port, and no service a profile may name.
    ICMP = "icmp"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One endpoint: a host name (or address literal), a port and the service on it."""

    host: str
    port: int
    service: Service
    group: str = ""

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.service is Service.ICMP else f"{host}:{self.port}"

    @property
    def is_address_literal(self) -> bool:
        return parse_address(self.host) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A named set of targets and the private networks that are expected answers."""

    name: str
    description: str = ""
    targets: tuple[Target, ...]
    expected_networks: tuple[Network, ...] = ()
    source: str = ""
    host: HostRequirements = field(default_factory=lambda: HostRequirements())


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# One label of a host name (RFC 1123, with the underscore some internal names carry); the
# name is checked label by label, in time linear in its length.
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
MAX_NAME = 253


def is_host_name(name: str) -> bool:
    """Whether `name` is a syntactically valid host name."""
    if not 0 < len(name) <= MAX_NAME:
        return False
    return all(_LABEL.fullmatch(label) for label in name.split("."))


# An IPv6 zone (`fe80::1%eth0`, `%12` on Windows) names an interface: nothing else may
# ride on it into a firewall snippet, a CONNECT request or a report line.
_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def host_problem(host: str) -> tuple[str, str] | None:
    """Why `host` is no host netdiag may probe (in English and German), or None when it is
    one: a host name by label rules (RFC 1123, with the underscore of internal names), or
    an IP address whose IPv6 zone, if any, is an interface name of letters, digits, `_`,
    `.` and `-`."""
    shown = visible_repr(host)
    address = parse_address(host)
    if address is not None:
        zone = getattr(address, "scope_id", None)
        if zone is not None and not _ZONE.fullmatch(zone):
            return (
                f"{shown}: the IPv6 zone must be an interface name ([A-Za-z0-9_.-])",
                f"{shown}: die IPv6-Zone muss ein Schnittstellenname sein ([A-Za-z0-9_.-])",
            )
        return None
    if not is_host_name(host):
        return (
            f"{shown} is neither a host name nor an IP address",
            f"{shown} ist weder ein Hostname noch eine IP-Adresse",
        )
    return None


def visible_repr(text: str, limit: int = 80) -> str:
    """`text` quoted for one line of an error message: control characters escaped (repr
    does that), long text cut."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def valid_host(text: str, where: str) -> str:
    """`text` as a host netdiag may probe (stripped, without a trailing dot), or a
    UsageError that names `where` it came from. Every entry point goes through here."""
    host = text.strip().rstrip(".")
    problem = host_problem(host)
    if problem is not None:
        raise UsageError(f"{where}: {problem[0]}", de=f"{where}: {problem[1]}")
    return host


def _check_host(host: str, where: str) -> str:
    try:
        return valid_host(host, where)
    except UsageError as e:
        raise ProfileError(str(e), de=e.german) from None


def _check_port(port: object, where: str) -> int:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ProfileError(
            f"{where}: port must be a number from 1 to 65535, not {port!r}",
            de=f"{where}: der Port muss eine Zahl von 1 bis 65535 sein, nicht {port!r}",
        )
    return port


# What a profile or --target may name (ICMP is netdiag's own, for `netdiag mtu`).
PROFILE_SERVICES = tuple(s for s in Service if s is not Service.ICMP)


def _check_service(service: object, where: str) -> Service:
    if str(service) not in PROFILE_SERVICES:
        known = ", ".join(s.value for s in PROFILE_SERVICES)
        raise ProfileError(
            f"{where}: unknown service {service!r} (known: {known})",
            de=f"{where}: unbekannter Dienst {service!r} (bekannt: {known})",
        )
    return Service(str(service))


def _check_network(text: object, where: str) -> Network:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        raise ProfileError(
            f"{where}: {text!r} is not a network such as 10.0.0.0/8",
            de=f"{where}: {text!r} ist kein Netz wie 10.0.0.0/8",
        ) from None


def parse_profile(data: dict[str, Any], source: str) -> Profile:
    """Build a profile from the parsed TOML document; `source` names it in errors."""
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        raise ProfileError(
            f"{source}: no [[endpoints]] table", de=f"{source}: keine Tabelle [[endpoints]]"
        )
    targets: list[Target] = []
    for index, entry in enumerate(endpoints, start=1):
        where = f"{source}: endpoints #{index}"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where}: not a table", de=f"{where}: keine Tabelle")
        hosts = entry.get("hosts", [entry["host"]] if "host" in entry else None)
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
            raise ProfileError(
                f"{where}: needs 'host' or a list 'hosts'",
                de=f"{where}: braucht „host“ oder eine Liste „hosts“",
            )
        port = _check_port(entry.get("port"), where)
        service = _check_service(entry.get("service", "tcp"), where)
        group = str(entry.get("group", ""))
        targets.extend(
            Target(host=_check_host(h, where), port=port, service=service, group=group)
            for h in hosts
        )
    if len(targets) > MAX_ENDPOINTS:
        raise ProfileError(
            f"{source}: {len(targets)} endpoints, at most {MAX_ENDPOINTS}",
            de=f"{source}: {len(targets)} Endpunkte, höchstens {MAX_ENDPOINTS}",
        )
    networks = data.get("expected_networks", [])
    if not isinstance(networks, list):
        raise ProfileError(
            f"{source}: expected_networks must be a list",
            de=f"{source}: expected_networks muss eine Liste sein",
        )
    return Profile(
        name=str(data.get("name", Path(source).stem)),
        description=str(data.get("description", "")),
        targets=tuple(dict.fromkeys(targets)),
        expected_networks=tuple(_check_network(n, source) for n in networks),
        source=source,
        host=parse_host_requirements(data.get("host"), source),
    )


def load_profile(path: Path | None = None) -> Profile:
    """The profile in `path`, or the connectMT profile shipped with the package."""
    if path is None:
        text = (
            resources.files("netdiag")
            .joinpath("data", "profiles", DEFAULT_PROFILE)
            .read_text("utf-8")
        )
        source = f"built-in {DEFAULT_PROFILE}"
    else:
        source = str(path)
        text = read_text_bounded(path, MAX_PROFILE, PROFILE_FILE, ProfileError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(
            f"{source} is not valid TOML: {e}", de=f"{source} ist kein gültiges TOML: {e}"
        ) from e
    return parse_profile(data, source)


_TARGET = re.compile(
    r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:/\[\]]+)):(?P<port>\d{1,5})(?:/(?P<svc>[\w-]+))?$"
)


def parse_target(text: str) -> Target:
    """`HOST:PORT[/SERVICE]`, `[IPv6]:PORT[/SERVICE]`; the service defaults to plain tcp."""
    match = _TARGET.match(text.strip())
    if match is None:
        raise UsageError(
            f"--target {visible_repr(text)}: expected HOST:PORT/SERVICE, e.g. "
            "mail1.example:25/smtp-starttls",
            de=f"--target {visible_repr(text)}: erwartet HOST:PORT/DIENST, z. B. "
            "mail1.example:25/smtp-starttls",
        )
    host = match["v6"] or match["host"]
    where = f"--target {visible_repr(text)}"
    try:
        return Target(
            host=_check_host(host, where),
            port=_check_port(int(match["port"]), where),
            service=_check_service(match["svc"] or "tcp", where),
        )
    except ProfileError as e:
        raise UsageError(str(e), de=e.german) from None


def select_targets(targets: Iterable[Target], only: Sequence[str]) -> tuple[Target, ...]:
    """Keep the targets that `only` selects. Each value is of one kind: a port (digits), a
    service (`smtp-starttls`, `pop3s`, `tls`, `tcp`) or text the host contains. Values of
    one kind are alternatives, kinds together must all hold: `--only mail1 --only 25` is
    mail1's port 25, `--only mail1 --only mail2` both hosts on every port."""
    tokens = [t.strip().lower() for t in only if t.strip()]
    if not tokens:
        return tuple(targets)
    ports = {t for t in tokens if t.isdigit()}
    services = {t for t in tokens if t in {s.value for s in Service}}
    texts = [t for t in tokens if t not in ports and t not in services]
    return tuple(
        t
        for t in targets
        if (not ports or str(t.port) in ports)
        and (not services or t.service.value in services)
        and (not texts or any(text in t.host.lower() for text in texts))
    )
