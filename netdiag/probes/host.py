"""The gateway's own facts for `netdiag host`: CPU, memory and drives (psutil), the
backup folder, and on Windows the OS, updates, Defender, shares and remote-maintenance
services. Every command has a timeout; what cannot be read is said, not guessed."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from netdiag.report.host_observations import (
    BackupFile,
    BackupObservation,
    DriveObservation,
    HostObservation,
    WindowsFacts,
)
from netdiag.settings.host_requirements import HostRequirements

MAX_BACKUP_FILES = 2000
# The fixed PowerShell scripts: no value from a profile or the network is ever part of one.
SERVICES_SCRIPT = "Get-Service | Select-Object Name,DisplayName | ConvertTo-Json"


def observe_host(requirements: HostRequirements) -> HostObservation:
    """Everything `requirements` asks about, as this machine has it."""
    import psutil

    return HostObservation(
        platform=sys.platform,
        os_name=f"{platform.system()} {platform.release()}".strip(),
        cpu_logical=psutil.cpu_count(logical=True) or 0,
        memory_bytes=int(psutil.virtual_memory().total),
        drives=tuple(observe_drive(d.name, d.path) for d in requirements.drives),
        backup=(
            observe_backup(
                requirements.backup.path, backup_tasks() if sys.platform == "win32" else None
            )
            if requirements.backup
            else None
        ),
        windows=observe_windows(requirements) if sys.platform == "win32" else None,
        jcs_home=os.environ.get("JCS_HOME", ""),
    )


def observe_drive(name: str, path: str) -> DriveObservation:
    import psutil

    if not Path(path).exists():
        return DriveObservation(name=name, path=path, is_present=False)
    try:
        usage = psutil.disk_usage(path)
    except OSError as e:
        return DriveObservation(name=name, path=path, is_present=True, error=e.strerror or str(e))
    return DriveObservation(
        name=name,
        path=path,
        is_present=True,
        total_bytes=int(usage.total),
        free_bytes=int(usage.free),
    )


def observe_backup(path: str, tasks: tuple[str, ...] | None = None) -> BackupObservation:
    folder = Path(path)
    if not folder.is_dir():
        return BackupObservation(path=path, is_present=False, tasks=tasks)
    files: list[BackupFile] = []
    try:
        for entry in sorted(folder.iterdir())[:MAX_BACKUP_FILES]:
            modified = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
            files.append(BackupFile(name=entry.name, modified=modified.isoformat()))
    except OSError as e:
        return BackupObservation(
            path=path, is_present=True, error=e.strerror or str(e), tasks=tasks
        )
    return BackupObservation(path=path, is_present=True, files=tuple(files), tasks=tasks)


def observe_windows(requirements: HostRequirements) -> WindowsFacts:
    """The Windows facts, one PowerShell pipeline each (JSON out)."""
    from netdiag.probes import windows as w

    unreadable: list[str] = []

    def ask(what: str, command: str) -> str | None:
        text = w.powershell(command)
        if text is None:
            unreadable.append(what)
        return text

    caption, version, build, is_64 = w.parse_os(
        ask(
            "the operating system",
            "Get-CimInstance Win32_OperatingSystem | "
            "Select-Object Caption,Version,BuildNumber,OSArchitecture | ConvertTo-Json",
        )
    )
    newest = w.parse_newest_update(
        ask(
            "the installed updates",
            "Get-HotFix | Select-Object HotFixID,InstalledOn | ConvertTo-Json",
        )
    )
    service = w.parse_service(
        ask(
            "the Windows Update service",
            "Get-Service wuauserv | Select-Object Status,StartType | ConvertTo-Json",
        )
    )
    defender = w.parse_defender(
        ask(
            "Microsoft Defender's exclusions",
            "Get-MpPreference | Select-Object ExclusionPath,ExclusionProcess,ExclusionExtension"
            " | ConvertTo-Json",
        )
    )
    products = w.parse_antivirus(
        w.powershell(
            "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct"
            " | Select-Object displayName | ConvertTo-Json"
        )
    )
    shares = w.parse_shares(
        ask("the shares", "Get-SmbShare | Select-Object Name,Path | ConvertTo-Json")
    )
    # Every service, by a fixed script; which ones are remote maintenance is decided here
    # in Python: a name from a profile never becomes part of a command (a name like
    # "AnyDesk' -or $(Start-Process calc) -or 'x" stays a name).
    remote = w.matching_services(w.powershell(SERVICES_SCRIPT), requirements.remote_maintenance)
    return WindowsFacts(
        caption=caption,
        version=version,
        build=build,
        is_64bit=is_64,
        newest_update=newest,
        update_service=service,
        updates_disabled_by_policy=_updates_disabled_by_policy(),
        defender=defender,
        antivirus_products=products,
        shares=shares,
        remote_services=remote,
        unreadable=tuple(unreadable),
    )


def backup_tasks() -> tuple[str, ...] | None:
    """Scheduled tasks whose name or action mentions a backup (Windows)."""
    from netdiag.probes import windows as w

    return w.parse_task_names(
        w.powershell(
            "Get-ScheduledTask | Where-Object { $_.TaskName -match 'backup|sicherung' -or "
            "($_.Actions | Out-String) -match 'backup' } | Select-Object TaskName | ConvertTo-Json"
        )
    )


def _updates_disabled_by_policy() -> bool | None:
    """NoAutoUpdate in the Windows Update policy (registry), None where not readable."""
    from netdiag.probes.windows import ABSENT, registry_value

    value = registry_value(r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU", "NoAutoUpdate")
    if value is ABSENT:
        return False
    return None if value is None else bool(value)
