"""Host rules: the gateway against the vendor's system requirements (profile `[host]`).
Pure: (HostObservation, HostRequirements, now) -> findings."""

from __future__ import annotations

import ntpath
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from netdiag.diagnosis.catalogue import finding
from netdiag.report.host_observations import (
    BackupObservation,
    DefenderExclusions,
    DriveObservation,
    HostObservation,
    WindowsFacts,
)
from netdiag.report.model import Finding, Note
from netdiag.settings.host_requirements import (
    AntivirusRequirement,
    BackupRequirement,
    HostRequirements,
)

GB = 1024**3


def host_notes(observation: HostObservation) -> list[Note]:
    """What was not checked here, said once."""
    if observation.windows is None:
        return [Note.of("windows_only", platform=platform_name(observation.platform))]
    return []


# sys.platform as its makers write it.
_PLATFORMS = {"linux": "Linux", "darwin": "macOS", "win32": "Windows", "cygwin": "Cygwin"}


def platform_name(platform: str) -> str:
    """`linux` -> `Linux`, `darwin` -> `macOS`; another platform as Python names it."""
    return _PLATFORMS.get(platform, platform[:1].upper() + platform[1:])


def diagnose_host(
    observation: HostObservation, requirements: HostRequirements, now: datetime
) -> list[Finding]:
    findings: list[Finding] = []
    findings += _sizing(observation, requirements)
    on_windows = observation.windows is not None
    for drive, wanted in zip(observation.drives, requirements.drives, strict=True):
        if on_windows or not is_windows_path(drive.path):
            findings += _drive(drive, wanted.min_gb)
    backup = requirements.backup
    if observation.backup is not None and backup is not None:
        if on_windows or not is_windows_path(backup.path):
            findings += diagnose_backup(observation.backup, backup, now)
    if observation.windows is not None:
        findings += _windows(observation.windows, observation, requirements, now)
    return findings


def is_windows_path(path: str) -> bool:
    """A path with a drive letter (`D:\\`, `E:\\backup`): a Windows requirement, which does
    not apply on another system (the Windows-only note says so once)."""
    return bool(ntpath.splitdrive(path)[0]) and not path.startswith("/")


def _sizing(observation: HostObservation, requirements: HostRequirements) -> list[Finding]:
    findings = []
    if requirements.cpu_cores and observation.cpu_logical < requirements.cpu_cores:
        findings.append(
            finding(
                "host.cpu_below",
                f"{observation.cpu_logical} CPU cores, {requirements.cpu_cores} recommended",
                [f"logical cores: {observation.cpu_logical}"],
            )
        )
    memory_gb = observation.memory_bytes / GB
    if requirements.memory_gb and memory_gb < requirements.memory_gb * 0.97:
        findings.append(
            finding(
                "host.memory_below",
                f"{memory_gb:.1f} GB memory, {requirements.memory_gb:g} GB recommended",
                [f"physical memory: {observation.memory_bytes} bytes"],
            )
        )
    return findings


def _drive(drive: DriveObservation, min_gb: float) -> list[Finding]:
    if not drive.is_present:
        return [
            finding(
                "host.drive_missing",
                f"the {drive.name} drive {drive.path} does not exist",
                [f"{drive.path}: not found"],
            )
        ]
    if drive.error:
        return [
            finding(
                "host.not_readable",
                f"the size of {drive.path} cannot be read",
                [f"{drive.path}: {drive.error}"],
            )
        ]
    total_gb = drive.total_bytes / GB
    if total_gb < min_gb:
        return [
            finding(
                "host.drive_small",
                f"the {drive.name} drive {drive.path} has {total_gb:.1f} GB, "
                f"{min_gb:g} GB required",
                [f"{drive.path}: {total_gb:.1f} GB in all, {drive.free_bytes / GB:.1f} GB free"],
            )
        ]
    return []


def diagnose_backup(
    backup: BackupObservation, wanted: BackupRequirement, now: datetime
) -> list[Finding]:
    """Missing or empty folder, the newest backup too old, nights without one."""
    if not backup.is_present or (not backup.files and not backup.error):
        where = "does not exist" if not backup.is_present else "is empty"
        return [
            finding(
                "host.backup_missing", f"the backup folder {backup.path} {where}", [backup.path]
            )
        ]
    if backup.error:
        return [
            finding(
                "host.not_readable",
                f"the backup folder {backup.path} cannot be read",
                [f"{backup.path}: {backup.error}"],
            )
        ]
    times = sorted(
        ((datetime.fromisoformat(f.modified), f.name) for f in backup.files), reverse=True
    )
    newest, newest_name = times[0]
    age = now - newest
    evidence = [f"{name}: {when.isoformat(timespec='minutes')}" for when, name in times[:8]]
    findings: list[Finding] = []
    if age > timedelta(hours=wanted.max_age_hours):
        findings.append(
            finding(
                "host.backup_stale",
                f"the newest backup in {backup.path} is {age.total_seconds() / 3600:.0f} hours "
                f"old ({newest_name}), at most {wanted.max_age_hours:g} expected",
                evidence,
            )
        )
    missing = _nights_without_backup([t for t, _ in times], wanted, now)
    if missing and not findings:
        findings.append(
            finding(
                "host.backup_incomplete",
                f"{backup.path}: no backup for {len(missing)} of the last {wanted.nights} nights",
                [*(f"no backup in the night before {d.isoformat()}" for d in missing), *evidence],
            )
        )
    if backup.tasks is not None and not backup.tasks:
        findings.append(
            finding(
                "host.backup_task_missing",
                "no scheduled task for the nightly backup was found",
                ["Get-ScheduledTask: no task whose name or action mentions a backup"],
            )
        )
    findings.append(
        finding(
            "host.backup_offsite",
            f"copy the backups in {backup.path} to other storage as well",
            [f"{len(backup.files)} files, the newest {newest.isoformat(timespec='minutes')}"],
        )
    )
    return findings


def _nights_without_backup(
    times: Sequence[datetime], wanted: BackupRequirement, now: datetime
) -> list[date]:
    """Each of the last nights is a 24-hour window back from now (the first one as long as
    the freshness limit); a night without a file in its window is missing."""
    missing = []
    for night in range(wanted.nights):
        end = now - timedelta(hours=24 * night)
        start = end - timedelta(hours=max(wanted.max_age_hours, 24))
        if not any(start < t <= end for t in times):
            missing.append(end.date())
    return missing


def _windows(
    facts: WindowsFacts,
    observation: HostObservation,
    requirements: HostRequirements,
    now: datetime,
) -> list[Finding]:
    findings: list[Finding] = []
    if facts.caption:
        supported = any(
            name.lower().replace("windows ", "") in facts.caption.lower()
            for name in requirements.supported_os
        )
        if not supported or facts.is_64bit is False:
            findings.append(
                finding(
                    "host.os_unsupported",
                    f"{facts.caption} ({'64' if facts.is_64bit else '32'}-bit) is not supported",
                    [
                        f"OS: {facts.caption}, version {facts.version}, build {facts.build}",
                        "supported: " + ", ".join(requirements.supported_os) + " (64-bit)",
                    ],
                )
            )
    if facts.newest_update:
        age = (now.date() - date.fromisoformat(facts.newest_update)).days
        if age > requirements.updates_max_age_days:
            findings.append(
                finding(
                    "host.updates_stale",
                    f"the newest installed update is {age} days old ({facts.newest_update})",
                    [f"at most {requirements.updates_max_age_days} days expected"],
                )
            )
    if facts.update_service == "disabled" or facts.updates_disabled_by_policy:
        findings.append(
            finding(
                "host.updates_unmanaged",
                "Windows Update is switched off",
                [
                    f"service wuauserv: {facts.update_service or 'unknown'}",
                    f"policy NoAutoUpdate: {facts.updates_disabled_by_policy}",
                ],
            )
        )
    findings += _antivirus(facts, requirements.antivirus, observation.jcs_home)
    if facts.shares is not None:
        admin = {s.lower() for s in requirements.admin_shares}
        extra = [
            s
            for s in facts.shares
            if s.lower() not in admin and not (len(s) == 2 and s.endswith("$"))
        ]
        if extra:
            findings.append(
                finding(
                    "host.share_present",
                    f"{len(extra)} drive share(s) on the gateway: {', '.join(extra)}",
                    [f"shares: {', '.join(facts.shares)}"],
                )
            )
    if requirements.remote_maintenance:
        found = ", ".join(facts.remote_services) or "none of " + ", ".join(
            requirements.remote_maintenance
        )
        findings.append(
            finding(
                "host.remote_maintenance",
                f"remote maintenance services: {found}",
                ["an IPsec site-to-site tunnel would not show here"],
            )
        )
    if facts.unreadable:
        findings.append(
            finding(
                "host.not_readable",
                "not readable without administrator rights (or not on this Windows): "
                + ", ".join(facts.unreadable),
                list(facts.unreadable),
            )
        )
    return findings


def expand(path: str, jcs_home: str) -> str:
    return path.replace("%JCS_HOME%", jcs_home.rstrip("\\/")) if jcs_home else path


def _normal(path: str) -> str:
    return ntpath.normcase(ntpath.normpath(path)).rstrip("\\")


def _antivirus(facts: WindowsFacts, wanted: AntivirusRequirement, jcs_home: str) -> list[Finding]:
    others = [p for p in facts.antivirus_products if "defender" not in p.lower()]
    findings: list[Finding] = []
    if others:
        findings.append(
            finding(
                "host.av_unknown",
                f"antivirus: {', '.join(others)}; check its exclusions by hand",
                [f"required folder exclusions: {', '.join(wanted.folders)}"],
            )
        )
    defender = facts.defender
    if defender is None or others:
        return findings
    missing = missing_exclusions(defender, wanted, jcs_home)
    if missing:
        evidence = [f"missing: {m}" for m in missing]
        if not jcs_home and any("%JCS_HOME%" in p for p in wanted.processes):
            evidence.append("%JCS_HOME% is not set in this machine's environment")
        findings.append(
            finding(
                "host.av_exclusion_missing",
                f"Microsoft Defender lacks {len(missing)} of the exclusions JiveX needs",
                evidence,
            )
        )
    return findings


def missing_exclusions(
    defender: DefenderExclusions, wanted: AntivirusRequirement, jcs_home: str
) -> list[str]:
    """What is missing: the folders and processes, unless the file types are all
    excluded instead. A list Defender would not show (no administrator rights) is said."""
    if defender.paths is None or defender.processes is None:
        return ["Defender's exclusions cannot be read without administrator rights"]
    paths = {_normal(p) for p in defender.paths}
    processes = {_normal(p) for p in defender.processes} | paths
    missing = [f for f in wanted.folders if _normal(f) not in paths]
    missing += [
        expand(p, jcs_home)
        for p in wanted.processes
        if _normal(expand(p, jcs_home)) not in processes
    ]
    if not missing:
        return []
    extensions = {e.lower().lstrip(".") for e in defender.extensions or ()}
    if wanted.extensions and all(e.lower().lstrip(".") in extensions for e in wanted.extensions):
        return []
    return missing
