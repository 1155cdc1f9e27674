"""The web proxies this machine is configured with, and a `CONNECT host:port` through one.

Where proxies are configured: the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
`NO_PROXY`, either case), WinHTTP (the machine-wide setting services use) and WinINET (the
user's Internet Options: `ProxyEnable`, `ProxyServer` in its plain and per-protocol forms,
`ProxyOverride`, `AutoConfigURL`). A PAC URL is reported, never fetched or run: no kept
library evaluates a PAC script under a time bound, and a gateway must not hang on one.
Credentials in any of them are never kept, shown or sent: only that some were configured.

The parsers are pure functions of the raw values (tested with real-shaped values); only
`read_*` touch the machine.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.tcp import connect_tcp
from netdiag.report.observations import (
    ConfiguredProxy,
    ProxyAttempt,
    ProxyOutcome,
    ProxySettings,
    TcpOutcome,
)

PROXY_ENV = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
NO_PROXY_ENV = "NO_PROXY"
INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
MAX_REPLY_BYTES = 16 * 1024
# The protocols of a WinINET/WinHTTP per-protocol list whose proxy could carry a CONNECT.
_TUNNEL_PROTOCOLS = ("https", "http")


def _env(environ: Mapping[str, str], name: str) -> str:
    """A proxy variable in either case (curl and Python read the lower case first)."""
    return environ.get(name.lower()) or environ.get(name) or ""


def parse_proxy_url(value: str, source: str, bypass: tuple[str, ...] = ()) -> ConfiguredProxy | str:
    """A proxy from a URL or `host:port` as the variables hold it; else why it is not used
    (a SOCKS or HTTPS proxy, no host). Credentials are dropped, their presence kept."""
    text = value.strip()
    if not text:
        return f"{source}: empty"
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return f"{source}: not a proxy address"
    scheme = parts.scheme.lower()
    if scheme != "http":
        return f"{source}: a {scheme} proxy, not tried (netdiag speaks to HTTP proxies)"
    if not parts.hostname:
        return f"{source}: no host"
    from netdiag.settings.targets import host_problem

    problem = host_problem(parts.hostname)
    if problem is not None:
        return f"{source}: {problem[0]}"
    return ConfiguredProxy(
        source=source,
        host=parts.hostname,
        port=port or 80,
        has_credentials=bool(parts.username or parts.password),
        bypass=bypass,
    )


def parse_bypass(value: str) -> tuple[str, ...]:
    """`NO_PROXY` (commas) or WinINET's `ProxyOverride` (semicolons) as a list."""
    return tuple(p.strip() for p in value.replace(";", ",").split(",") if p.strip())


def proxies_from_environment(environ: Mapping[str, str]) -> tuple[list[ConfiguredProxy], list[str]]:
    bypass = parse_bypass(_env(environ, NO_PROXY_ENV))
    proxies: list[ConfiguredProxy] = []
    remarks: list[str] = []
    for name in PROXY_ENV:
        value = _env(environ, name)
        if not value:
            continue
        found = parse_proxy_url(value, name, bypass)
        if isinstance(found, str):
            remarks.append(found)
        else:
            proxies.append(found)
    return proxies, remarks


def parse_proxy_server(
    value: str, source: str, bypass: tuple[str, ...] = ()
) -> tuple[list[ConfiguredProxy], list[str]]:
    """WinINET's and WinHTTP's proxy list: `host:port` for every protocol, or per protocol
    `http=host:port;https=host:port;socks=…` (entries may also carry a scheme)."""
    proxies: list[ConfiguredProxy] = []
    remarks: list[str] = []
    entries = [e.strip() for e in value.replace(" ", ";").split(";") if e.strip()]
    for entry in entries:
        protocol, equals, address = entry.partition("=")
        if not equals:
            protocol, address = "", entry
        protocol = protocol.strip().lower()
        if protocol and protocol not in _TUNNEL_PROTOCOLS:
            remarks.append(f"{source}: a {protocol} proxy, not tried")
            continue
        name = f"{source} ({protocol}=)" if protocol else source
        found = parse_proxy_url(address, name, bypass)
        if isinstance(found, str):
            remarks.append(found)
        else:
            proxies.append(found)
    return proxies, remarks


def parse_wininet(values: Mapping[str, object]) -> ProxySettings:
    """The user's Internet Options from their registry values: a proxy only when
    `ProxyEnable` is 1; `AutoConfigURL` reported as a PAC URL."""
    remarks: list[str] = []
    proxies: list[ConfiguredProxy] = []
    bypass = parse_bypass(str(values.get("ProxyOverride") or ""))
    server = str(values.get("ProxyServer") or "")
    if values.get("ProxyEnable") == 1 and server:
        proxies, remarks = parse_proxy_server(server, "WinINET", bypass)
    elif server:
        remarks.append("WinINET: a proxy is entered but switched off (ProxyEnable = 0)")
    pac = str(values.get("AutoConfigURL") or "").strip()
    pac_urls = (("WinINET AutoConfigURL", _without_credentials(pac)),) if pac else ()
    return ProxySettings(proxies=tuple(proxies), pac_urls=pac_urls, remarks=tuple(remarks))


def parse_winhttp(settings: Mapping[str, str]) -> ProxySettings:
    """WinHTTP's proxy as `parse_winhttp_settings` reads it from the registry blob."""
    if settings.get("mode") != "proxy" or not settings.get("proxy"):
        return ProxySettings()
    proxies, remarks = parse_proxy_server(
        settings["proxy"], "WinHTTP", parse_bypass(settings.get("bypass", ""))
    )
    return ProxySettings(proxies=tuple(proxies), remarks=tuple(remarks))


def _without_credentials(url: str) -> str:
    from netdiag.privacy.audit import strip_userinfo

    return strip_userinfo(url)


def merged(*parts: ProxySettings) -> ProxySettings:
    return ProxySettings(
        proxies=tuple(p for part in parts for p in part.proxies),
        pac_urls=tuple(u for part in parts for u in part.pac_urls),
        remarks=tuple(r for part in parts for r in part.remarks),
    )


def read_wininet() -> dict[str, object]:
    """The Internet Options values under HKEY_CURRENT_USER ({} off Windows or unreadable)."""
    if sys.platform != "win32":
        return {}
    import winreg

    values: dict[str, object] = {}
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, INTERNET_SETTINGS) as key:
            for name in ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"):
                try:
                    values[name] = winreg.QueryValueEx(key, name)[0]
                except OSError:
                    continue
    except OSError:
        return {}
    return values


def read_proxy_settings(environ: Mapping[str, str] | None = None) -> ProxySettings:
    """Every proxy this machine is configured with, and where from."""
    proxies, remarks = proxies_from_environment(os.environ if environ is None else environ)
    found = ProxySettings(proxies=tuple(proxies), remarks=tuple(remarks))
    if sys.platform == "win32":
        from netdiag.probes.windows import parse_winhttp_settings, read_winhttp_settings

        found = merged(
            found,
            parse_winhttp(parse_winhttp_settings(read_winhttp_settings())),
            parse_wininet(read_wininet()),
        )
    return found


def proxy_credentials_here(environ: Mapping[str, str] | None = None) -> list[tuple[str, bytes]]:
    """The user names and passwords this machine's proxy settings carry (the environment
    in either case, WinHTTP, WinINET's proxy and PAC URL), as the exact bytes a bundle's
    audit must never find in a file."""
    from netdiag.privacy.audit import proxy_credentials

    environ = os.environ if environ is None else environ
    values = [
        environ.get(key, "")
        for name in (*PROXY_ENV, NO_PROXY_ENV, "FTP_PROXY")
        for key in (name, name.lower())
    ]
    if sys.platform == "win32":
        from netdiag.probes.windows import parse_winhttp_settings, read_winhttp_settings

        values.append(parse_winhttp_settings(read_winhttp_settings()).get("proxy", ""))
        wininet = read_wininet()
        values += [str(wininet.get("ProxyServer") or ""), str(wininet.get("AutoConfigURL") or "")]
    return [found for value in values if value for found in proxy_credentials(value)]


def is_bypassed(host: str, bypass: tuple[str, ...], address: str = "") -> bool:
    """Whether `host` is one the proxy is configured not to be used for (`*`, a domain
    suffix `.example`/`*.example`/`example`, or the name itself; `<local>` for dotless; a
    network `127.0.0.0/8` or an address for an address literal, or for `address`, the one
    the name resolved to — as curl and Python's requests read NO_PROXY)."""
    import ipaddress

    name = host.lower().rstrip(".")
    addresses = []
    for candidate in (name.strip("[]"), address):
        try:
            addresses.append(ipaddress.ip_address(candidate.split("%")[0]))
        except ValueError:
            continue
    for entry in (b.lower().strip() for b in bypass):
        if entry == "*":
            return True
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            network = None
        if network is not None:
            if any(a.version == network.version and a in network for a in addresses):
                return True
            continue
        if entry == "<local>":
            if "." not in name:
                return True
            continue
        suffix = entry.lstrip("*").lstrip(".")
        if suffix and (name == suffix or name.endswith("." + suffix)):
            return True
    return False


def connect_request(host: str, port: int, version: str) -> bytes:
    """The CONNECT request for `host:port`: a host that is no host name or address (a zone
    carrying a line break and a header, say) is refused, never written into the request."""
    from netdiag.settings.targets import host_problem

    problem = host_problem(host)
    if problem is not None or not 0 < port < 65536:
        raise ValueError(f"not sent through the proxy: {problem[0] if problem else port}")
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: netdiag/{version}\r\n\r\n"
    ).encode("ascii")


def connect_through(
    proxy: ConfiguredProxy,
    host: str,
    port: int,
    timeout: float,
    flows: FlowLog | None = None,
) -> tuple[ProxyAttempt, socket.socket | None]:
    """`CONNECT host:port` through `proxy` (no credentials sent, ever): its status line, and
    the open tunnel on 200 (the caller owns and closes it)."""
    from netdiag import __version__
    from netdiag.probes.dns import address_for

    started = time.monotonic()

    def seen(outcome: ProxyOutcome, **fields: object) -> ProxyAttempt:
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return ProxyAttempt(proxy=proxy, outcome=outcome, elapsed_ms=elapsed, **fields)  # type: ignore[arg-type]

    try:
        address = address_for(proxy.host, timeout)
    except Exception as e:  # noqa: BLE001 - a proxy name that does not resolve is a fact
        return seen(ProxyOutcome.ERROR, detail=f"{proxy.host} does not resolve: {e}"[:200]), None
    tcp, sock = connect_tcp(address, proxy.port, timeout, flows)
    if sock is None:
        outcome = {
            TcpOutcome.REFUSED: ProxyOutcome.REFUSED,
            TcpOutcome.TIMEOUT: ProxyOutcome.TIMEOUT,
        }.get(tcp.outcome, ProxyOutcome.ERROR)
        return seen(outcome, detail=tcp.detail or tcp.outcome.value), None
    try:
        request = connect_request(host, port, __version__)
    except ValueError as e:
        sock.close()
        return seen(ProxyOutcome.ERROR, detail=str(e)), None
    ends = time.monotonic() + timeout
    try:
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply and len(reply) < MAX_REPLY_BYTES:
            left = ends - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            # One byte at a time: nothing of the tunnelled protocol may be read here.
            chunk = sock.recv(1)
            if not chunk:
                break
            reply += chunk
    except TimeoutError:
        sock.close()
        return seen(ProxyOutcome.TIMEOUT, detail=f"no answer to CONNECT within {timeout:g} s"), None
    except OSError as e:
        sock.close()
        return seen(ProxyOutcome.ERROR, detail=e.strerror or str(e)), None
    line = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace").strip()[:200]
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        sock.close()
        return seen(ProxyOutcome.ERROR, detail=f"not an HTTP answer: {line[:80]!r}"), None
    status = int(parts[1])
    attempt = seen(ProxyOutcome.ANSWERED, status=status, status_line=line)
    if status != 200:
        sock.close()
        return attempt, None
    sock.settimeout(timeout)
    return attempt, sock
