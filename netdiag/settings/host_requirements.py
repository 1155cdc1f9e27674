"""The vendor's requirements for the gateway itself, as data from the profile's `[host]`
table (see README.md, "Host requirements"): nothing of it is code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from netdiag.errors import ProfileError


@dataclass(frozen=True, slots=True, kw_only=True)
class DriveRequirement:
    name: str
    path: str
    min_gb: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupRequirement:
    path: str
    max_age_hours: float = 26.0
    nights: int = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class AntivirusRequirement:
    folders: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HostRequirements:
    supported_os: tuple[str, ...] = ()
    updates_max_age_days: int = 45
    cpu_cores: int = 0
    memory_gb: float = 0.0
    admin_shares: tuple[str, ...] = ("ADMIN$", "IPC$", "print$", "C$")
    remote_maintenance: tuple[str, ...] = ()
    drives: tuple[DriveRequirement, ...] = ()
    backup: BackupRequirement | None = None
    antivirus: AntivirusRequirement = field(default_factory=AntivirusRequirement)

    def with_paths(
        self, data_drive: str | None, archive_drive: str | None, backup_dir: str | None
    ) -> HostRequirements:
        """The requirements with the paths given on the command line."""
        import dataclasses

        given = {"data": data_drive, "archive": archive_drive}
        drives = tuple(
            dataclasses.replace(d, path=path) if (path := given.get(d.name)) else d
            for d in self.drives
        )
        backup = self.backup
        if backup is not None and backup_dir:
            backup = dataclasses.replace(backup, path=backup_dir)
        return dataclasses.replace(self, drives=drives, backup=backup)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(
            f"{where}: expected a list of strings", de=f"{where}: erwartet eine Liste von Texten"
        )
    return tuple(value)


# What a product's or a service's name can be: letters (any script), digits, spaces and
# `. _ - + ( ) &`. Quotes, `$`, `;`, `|`, backquotes and line breaks are not part of any.
_NAME = re.compile(r"[\w .+()&-]{1,64}")


def _names(value: Any, where: str) -> tuple[str, ...]:
    names = _strings(value, where)
    for name in names:
        if not _NAME.fullmatch(name):
            raise ProfileError(
                f"{where}: {name[:80]!r} is not a service or product name (letters, digits, "
                "spaces and . _ - + ( ) & only)",
                de=f"{where}: {name[:80]!r} ist kein Dienst- oder Produktname (nur Buchstaben, "
                "Ziffern, Leerzeichen und . _ - + ( ) &)",
            )
    return names


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ProfileError(
            f"{where}: expected a number of at least 0", de=f"{where}: erwartet eine Zahl ab 0"
        )
    return float(value)


def parse_host_requirements(data: Any, source: str) -> HostRequirements:
    """The `[host]` table of a profile; an empty one (no requirements) when absent."""
    if data is None:
        return HostRequirements()
    if not isinstance(data, dict):
        raise ProfileError(
            f"{source}: [host] must be a table", de=f"{source}: [host] muss eine Tabelle sein"
        )
    where = f"{source}: [host]"
    drives = []
    for index, entry in enumerate(data.get("drives", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ProfileError(
                f"{where} drives #{index}: needs a 'path'",
                de=f"{where} drives #{index}: braucht einen „path“",
            )
        drives.append(
            DriveRequirement(
                name=str(entry.get("name", f"drive{index}")),
                path=entry["path"],
                min_gb=_number(entry.get("min_gb", 0), f"{where} drives #{index} min_gb"),
            )
        )
    backup = None
    if "backup" in data:
        table = data["backup"]
        if not isinstance(table, dict) or not isinstance(table.get("path"), str):
            raise ProfileError(
                f"{where} backup: needs a 'path'", de=f"{where} backup: braucht einen „path“"
            )
        backup = BackupRequirement(
            path=table["path"],
            max_age_hours=_number(table.get("max_age_hours", 26), f"{where} backup"),
            nights=int(_number(table.get("nights", 5), f"{where} backup")),
        )
    antivirus = data.get("antivirus", {})
    if not isinstance(antivirus, dict):
        raise ProfileError(
            f"{where} antivirus: must be a table",
            de=f"{where} antivirus: muss eine Tabelle sein",
        )
    return HostRequirements(
        supported_os=_strings(data.get("supported_os", []), f"{where} supported_os"),
        updates_max_age_days=int(_number(data.get("updates_max_age_days", 45), where)),
        cpu_cores=int(_number(data.get("cpu_cores", 0), f"{where} cpu_cores")),
        memory_gb=_number(data.get("memory_gb", 0), f"{where} memory_gb"),
        admin_shares=_strings(
            data.get("admin_shares", ["ADMIN$", "IPC$", "print$", "C$"]), f"{where} admin_shares"
        ),
        remote_maintenance=_names(
            data.get("remote_maintenance", []), f"{where} remote_maintenance"
        ),
        drives=tuple(drives),
        backup=backup,
        antivirus=AntivirusRequirement(
            folders=_strings(antivirus.get("folders", []), f"{where} antivirus.folders"),
            processes=_strings(antivirus.get("processes", []), f"{where} antivirus.processes"),
            extensions=_strings(antivirus.get("extensions", []), f"{where} antivirus.extensions"),
        ),
    )
