"""Windows facts from structured output: PowerShell's `ConvertTo-Json` and the registry.

The parsers are pure functions from the raw text to netdiag's types, tested with modelled
outputs of English and German Windows; the only untested part is `powershell()`, the thin
call of the command. Structured output is used wherever Windows offers it, since its
property names do not depend on the display language (the values may: dates are read from
their `/Date(…)/` form, architectures by their digits).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from netdiag.report.host_observations import DefenderExclusions

POWERSHELL_TIMEOUT_S = 20
_DATE = re.compile(r"/Date\((-?\d+)")
# Get-MpPreference without administrator rights fills the lists with this placeholder.
_NOT_ADMIN = re.compile(r"N/A: Must be an administrator|N/A: Administratorrechte", re.IGNORECASE)


# Every pipeline's items go out inside an envelope that is printed even when the pipeline
# yields nothing: an empty output is then never "no items" but "PowerShell did not run"
# (a stub, a policy, a crash) — silence is not success. The output is UTF-8 whatever the
# console's code page (Windows PowerShell 5.1 writes a pipe in the OEM code page, e.g.
# cp850, which would mangle "Bilder für Ärzte").
_ENVELOPE = (
    "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "
    "$items = @({pipeline}); "
    "ConvertTo-Json -InputObject @{{netdiag = 1; items = $items}} -Depth 4 -Compress"
)
_CONVERT = re.compile(r"\s*\|\s*ConvertTo-Json\s*$", re.IGNORECASE)


def enveloped(command: str) -> str:
    """The pipeline of `command` (without its trailing `| ConvertTo-Json`) in the envelope."""
    return _ENVELOPE.format(pipeline=_CONVERT.sub("", command))


def unwrap(output: bytes) -> str | None:
    """The items of an enveloped output as JSON text, or None when the envelope is not
    there (nothing printed, garbage); bytes that are not UTF-8 are replaced, never fatal."""
    text = output.decode("utf-8", "replace").lstrip("\ufeff").strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or value.get("netdiag") != 1:
        return None
    return json.dumps(value.get("items") or [])


def powershell(command: str, timeout: float = POWERSHELL_TIMEOUT_S) -> str | None:
    """Run one PowerShell pipeline (no profile, no prompts) and return its items as JSON,
    or None when PowerShell is not there, fails, times out or prints no envelope."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command of ours, no shell
            ["powershell", "-NoProfile", "-NonInteractive", "-Command", enveloped(command)],  # noqa: S607
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return unwrap(done.stdout) if done.returncode == 0 else None


def _records(text: str | None) -> list[dict[str, Any]]:
    """ConvertTo-Json gives an object for one result and a list for several."""
    if not text or not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return []
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def ps_date(value: Any) -> datetime | None:
    """A date as ConvertTo-Json writes it: "/Date(ms)/" (Windows PowerShell 5.1, also
    inside {"value": …, "DateTime": "Dienstag, 14. …"}) or ISO 8601 (PowerShell 7)."""
    if isinstance(value, dict):
        value = value.get("value", value.get("DateTime"))
    if not isinstance(value, str):
        return None
    match = _DATE.search(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_os(text: str | None) -> tuple[str, str, str, bool | None]:
    """Caption, version, build and 64-bit-ness from Win32_OperatingSystem as JSON."""
    records = _records(text)
    if not records:
        return "", "", "", None
    os = records[0]
    architecture = str(os.get("OSArchitecture") or "")
    is_64 = ("64" in architecture) if architecture else None
    return (
        str(os.get("Caption") or "").strip(),
        str(os.get("Version") or ""),
        str(os.get("BuildNumber") or ""),
        is_64,
    )


def parse_newest_update(text: str | None) -> str:
    """The date (ISO) of the newest update in Get-HotFix's JSON, or ""."""
    dates = [d for r in _records(text) if (d := ps_date(r.get("InstalledOn"))) is not None]
    return max(dates).date().isoformat() if dates else ""


def _list_or_none(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    texts = [str(v) for v in items if v is not None]
    if any(_NOT_ADMIN.search(t) for t in texts):
        return None
    return tuple(texts)


def parse_defender(text: str | None) -> DefenderExclusions | None:
    """Defender's exclusion lists from Get-MpPreference as JSON; None without output."""
    records = _records(text)
    if not records:
        return None
    preference = records[0]
    return DefenderExclusions(
        paths=_list_or_none(preference.get("ExclusionPath")),
        processes=_list_or_none(preference.get("ExclusionProcess")),
        extensions=_list_or_none(preference.get("ExclusionExtension")),
    )


def parse_antivirus(text: str | None) -> tuple[str, ...]:
    """The products in SecurityCenter2's AntiVirusProduct (workstations only)."""
    return tuple(str(r["displayName"]) for r in _records(text) if r.get("displayName"))


def parse_shares(text: str | None) -> tuple[str, ...] | None:
    """Share names from Get-SmbShare as JSON; None without output."""
    if text is None:
        return None
    return tuple(str(r["Name"]) for r in _records(text) if r.get("Name"))


# ServiceControllerStatus and ServiceStartMode as numbers (ConvertTo-Json writes enums so).
_STATUS = {1: "stopped", 2: "starting", 3: "stopping", 4: "running", 7: "paused"}
_START = {0: "boot", 1: "system", 2: "automatic", 3: "manual", 4: "disabled"}


def parse_service(text: str | None) -> str:
    """The state of a service from Get-Service's JSON: "running", "stopped", "disabled"
    (start type disabled wins), or ""."""
    records = _records(text)
    if not records:
        return ""
    service = records[0]
    start, status = service.get("StartType"), service.get("Status")
    start_text = _START.get(start, str(start or "")).lower() if start is not None else ""
    if start_text == "disabled":
        return "disabled"
    return _STATUS.get(status, str(status or "")).lower() if status is not None else ""


def parse_service_names(text: str | None) -> tuple[str, ...]:
    """The names (display names where given) of the services in Get-Service's JSON."""
    return tuple(
        str(r.get("DisplayName") or r.get("Name")) for r in _records(text) if r.get("Name")
    )


def matching_services(text: str | None, wanted: Sequence[str]) -> tuple[str, ...]:
    """The services of Get-Service's JSON whose name or display name contains one of
    `wanted` (case-insensitive, as text: no pattern syntax), display names where given."""
    needles = [w.casefold() for w in wanted if w]
    found = []
    for record in _records(text):
        name, display = str(record.get("Name") or ""), str(record.get("DisplayName") or "")
        if name and any(n in name.casefold() or n in display.casefold() for n in needles):
            found.append(display or name)
    return tuple(found)


def parse_task_names(text: str | None) -> tuple[str, ...] | None:
    """Scheduled task names from Get-ScheduledTask's JSON; None without output."""
    if text is None:
        return None
    return tuple(str(r["TaskName"]) for r in _records(text) if r.get("TaskName"))


class Absent:
    """A registry value that does not exist (unlike one that cannot be read: None)."""


ABSENT = Absent()


def registry_value(path: str, name: str) -> object:
    """A value under HKEY_LOCAL_MACHINE: its data, `ABSENT` when the key or value does not
    exist, None when it cannot be read (or not on Windows)."""
    if sys.platform != "win32":
        return None
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path) as key:
            value, _ = winreg.QueryValueEx(key, name)
    except FileNotFoundError:
        return ABSENT
    except OSError:
        return None
    return value


def read_winhttp_settings() -> bytes | None:
    """The WinHttpSettings value of the registry (what `netsh winhttp show proxy` shows)."""
    path = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections"
    value = registry_value(path, "WinHttpSettings")
    return bytes(value) if isinstance(value, bytes | bytearray) else None


def parse_winhttp_settings(blob: bytes | None) -> dict[str, str]:
    """WinHTTP's proxy from its registry blob: a DWORD structure size (0x18 or 0x28), a
    DWORD counter, DWORD flags (1 direct, 3 proxy), then the proxy server list and the
    bypass list, each a DWORD length and that many bytes."""
    if not blob or len(blob) < 12:
        return {"proxy": "", "bypass": "", "mode": "unknown" if blob is None else "direct"}
    flags = int.from_bytes(blob[8:12], "little")
    offset = 12
    texts = []
    for _ in range(2):
        if offset + 4 > len(blob):
            texts.append("")
            continue
        length = int.from_bytes(blob[offset : offset + 4], "little")
        offset += 4
        texts.append(blob[offset : offset + length].decode("latin-1"))
        offset += length
    mode = "proxy" if flags & 2 else "direct"
    return {"proxy": texts[0], "bypass": texts[1], "mode": mode}


def parse_dns_client_servers(text: str | None) -> dict[str, list[str]]:
    """Each interface's DNS servers from Get-DnsClientServerAddress as JSON (the property
    names are the same on every display language)."""
    servers: dict[str, list[str]] = {}
    for record in _records(text):
        alias = str(record.get("InterfaceAlias") or "")
        addresses = record.get("ServerAddresses") or []
        if isinstance(addresses, str):
            addresses = [addresses]
        if alias and addresses:
            servers.setdefault(alias, []).extend(str(a) for a in addresses)
    return servers
