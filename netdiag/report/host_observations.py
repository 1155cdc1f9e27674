"""What the host checks saw of the gateway itself (`netdiag host`, `check --host`): kept
apart from the round's observations, so that a plain check does not define them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class DriveObservation:
    """One drive (or the path standing for it) and its size."""

    name: str
    path: str
    is_present: bool
    total_bytes: int = 0
    free_bytes: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupFile:
    name: str
    modified: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupObservation:
    """The backup folder: what is in it, and the scheduled task that fills it."""

    path: str
    is_present: bool
    files: tuple[BackupFile, ...] = ()
    error: str = ""
    # The scheduled tasks that mention backups (Windows); None where not looked at.
    tasks: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DefenderExclusions:
    """Microsoft Defender's exclusions (Get-MpPreference); None fields: not readable."""

    paths: tuple[str, ...] | None = None
    processes: tuple[str, ...] | None = None
    extensions: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowsFacts:
    """What Windows says about itself; "" or None where it could not be read."""

    caption: str = ""
    version: str = ""
    build: str = ""
    is_64bit: bool | None = None
    newest_update: str = ""  # ISO date of the newest installed update
    update_service: str = ""  # running, stopped, disabled, …
    updates_disabled_by_policy: bool | None = None
    defender: DefenderExclusions | None = None
    antivirus_products: tuple[str, ...] = ()
    shares: tuple[str, ...] | None = None
    remote_services: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HostObservation:
    """The gateway itself against the vendor's system requirements."""

    platform: str
    os_name: str
    cpu_logical: int
    memory_bytes: int
    drives: tuple[DriveObservation, ...] = ()
    backup: BackupObservation | None = None
    windows: WindowsFacts | None = None
    # %JCS_HOME% as this machine's environment has it ("" when not set).
    jcs_home: str = ""
