"""Host checks: Windows outputs parsed by pure functions, and the rules table-driven.

The outputs in `data/windows_outputs_modelled.json` are modelled, not captured: written in
the shape ConvertTo-Json gives on Windows PowerShell 5.1 and 7 (English and German
Windows, umlauts in paths and user names). The envelope every pipeline is wrapped in, and
its decoding, are tested on bytes as a pipe delivers them."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netdiag.diagnosis.host import diagnose_backup, diagnose_host, missing_exclusions
from netdiag.probes import windows as w
from netdiag.probes.host import observe_backup
from netdiag.report.host_observations import DefenderExclusions, HostObservation, WindowsFacts
from netdiag.settings.host_requirements import BackupRequirement
from netdiag.settings.targets import load_profile

OUTPUTS = json.loads(
    (Path(__file__).parent / "data" / "windows_outputs_modelled.json").read_text("utf-8")
)
REQUIREMENTS = load_profile().host
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_os_from_english_and_german_windows() -> None:
    assert w.parse_os(OUTPUTS["os_en"]) == (
        "Microsoft Windows Server 2019 Standard", "10.0.17763", "17763", True,
    )  # fmt: skip
    assert w.parse_os(OUTPUTS["os_de"])[3] is True  # "64-Bit"
    assert w.parse_os(None) == ("", "", "", None)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("hotfix_en", "2023-11-15"), ("hotfix_de", "2023-11-14"), ("hotfix_ps7", "2023-11-14")],
)
def test_newest_update_whatever_the_language(key: str, expected: str) -> None:
    assert w.parse_newest_update(OUTPUTS[key]) == expected


def test_defender_lists_and_the_placeholder_without_admin_rights() -> None:
    admin = w.parse_defender(OUTPUTS["defender_admin"])
    assert admin is not None and admin.paths == ("D:\\VISUS\\", "D:\\VISUS\\jivexcs\\images")
    assert admin.extensions == ()
    hidden = w.parse_defender(OUTPUTS["defender_not_admin_en"])
    assert hidden is not None and hidden.paths is None
    assert w.parse_defender("") is None


def test_shares_services_tasks_products() -> None:
    assert w.parse_shares(OUTPUTS["shares_de"]) == ("ADMIN$", "C$", "D$", "IPC$", "Bilder")
    assert w.parse_service(OUTPUTS["wuauserv_running"]) == "running"
    assert w.parse_service(OUTPUTS["wuauserv_disabled"]) == "disabled"
    assert w.parse_service_names(OUTPUTS["services_remote"]) == ("AnyDesk Service",)
    assert w.parse_task_names(OUTPUTS["tasks"]) == ("JiveX Backup",)
    assert w.parse_antivirus(OUTPUTS["av_products"]) == ("Windows Defender", "Sophos Anti-Virus")


HEALTHY = WindowsFacts(
    caption="Microsoft Windows Server 2022 Standard",
    is_64bit=True,
    newest_update="2026-11-20",
    update_service="running",
    updates_disabled_by_policy=False,
    defender=w.parse_defender(OUTPUTS["defender_extensions"]),
    antivirus_products=("Windows Defender",),
    shares=("ADMIN$", "C$", "IPC$"),
    remote_services=("SecureLink Connection Manager",),
)

ROWS = [
    ("healthy", HEALTHY, set(), {"host.remote_maintenance"}),
    (
        "Server 2012 R2",
        dataclasses.replace(HEALTHY, caption=w.parse_os(OUTPUTS["os_2012"])[0]),
        {"host.os_unsupported"},
        set(),
    ),
    ("32-bit", dataclasses.replace(HEALTHY, is_64bit=False), {"host.os_unsupported"}, set()),
    (
        "updates 60 days old",
        dataclasses.replace(HEALTHY, newest_update="2026-09-29"),
        {"host.updates_stale"},
        set(),
    ),
    (
        "update service disabled",
        dataclasses.replace(HEALTHY, update_service="disabled"),
        {"host.updates_unmanaged"},
        set(),
    ),
    (
        "a drive share",
        dataclasses.replace(HEALTHY, shares=w.parse_shares(OUTPUTS["shares_de"])),
        {"host.share_present"},
        set(),
    ),
    (
        "folders only partly excluded",
        dataclasses.replace(HEALTHY, defender=w.parse_defender(OUTPUTS["defender_admin"])),
        {"host.av_exclusion_missing"},
        set(),
    ),
    (
        "another antivirus",
        dataclasses.replace(HEALTHY, antivirus_products=w.parse_antivirus(OUTPUTS["av_products"])),
        set(),
        {"host.av_unknown"},
    ),
    (
        "not readable without admin rights",
        dataclasses.replace(
            HEALTHY,
            defender=w.parse_defender(OUTPUTS["defender_not_admin_en"]),
            unreadable=("the shares",),
        ),
        {"host.av_exclusion_missing"},
        {"host.not_readable"},
    ),
]


@pytest.mark.parametrize(
    ("facts", "problems", "infos"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_windows_rules(facts: WindowsFacts, problems: set[str], infos: set[str]) -> None:
    observation = HostObservation(
        platform="win32", os_name="Windows", cpu_logical=8, memory_bytes=32 * 1024**3,
        windows=facts, jcs_home="D:\\VISUS\\jivexcs",
    )  # fmt: skip
    requirements = dataclasses.replace(REQUIREMENTS, drives=(), backup=None)
    findings = diagnose_host(observation, requirements, NOW)
    codes = {f.code for f in findings if f.severity.value != "info"}
    assert codes == problems
    assert infos <= {f.code for f in findings if f.severity.value == "info"}


def test_jcs_home_is_expanded_and_its_absence_said() -> None:
    wanted = REQUIREMENTS.antivirus
    folders = DefenderExclusions(paths=wanted.folders, processes=(), extensions=())
    missing = missing_exclusions(folders, wanted, "D:\\VISUS\\jivexcs")
    assert "D:\\VISUS\\jivexcs\\bin\\CSNTService.exe" in missing
    assert "%JCS_HOME%\\bin\\CSNTService.exe" in missing_exclusions(folders, wanted, "")
    complete = DefenderExclusions(
        paths=wanted.folders,
        processes=tuple(p.replace("%JCS_HOME%", "d:\\visus\\JIVEXCS") for p in wanted.processes),
        extensions=(),
    )
    assert missing_exclusions(complete, wanted, "D:\\VISUS\\jivexcs\\") == []


# Backups: real folders, modification times set for every case.

WANTED = BackupRequirement(path="", max_age_hours=26, nights=5)


def _folder(tmp_path: Path, hours_ago: list[float]) -> Path:
    folder = tmp_path / "backup"
    folder.mkdir()
    for n, hours in enumerate(hours_ago):
        path = folder / f"jivex_{n}.zip"
        path.write_bytes(b"x")
        stamp = (NOW - timedelta(hours=hours)).timestamp()
        os.utime(path, (stamp, stamp))
    return folder


BACKUP_ROWS = [
    ("no folder", None, {"host.backup_missing"}),
    ("empty folder", [], {"host.backup_missing"}),
    ("newest 30 hours old", [30, 54, 78, 102, 126], {"host.backup_stale"}),
    ("3 of the last 5 nights", [8, 32, 56], {"host.backup_incomplete"}),
    ("all 5 nights", [8, 32, 56, 80, 104], set()),
    ("all 5 and older ones", [8, 32, 56, 80, 104, 128, 152, 500], set()),
]


@pytest.mark.parametrize(
    ("hours", "expected"), [r[1:] for r in BACKUP_ROWS], ids=[r[0] for r in BACKUP_ROWS]
)
def test_backup_rules(tmp_path: Path, hours: list[float] | None, expected: set[str]) -> None:
    folder = tmp_path / "backup" if hours is None else _folder(tmp_path, hours)
    findings = diagnose_backup(observe_backup(str(folder)), WANTED, NOW)
    assert {f.code for f in findings if f.severity.value != "info"} == expected
    if expected <= {"host.backup_incomplete", "host.backup_stale"} and hours:
        assert "host.backup_offsite" in {f.code for f in findings}


def test_a_missing_scheduled_task_is_a_warning(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [8, 32, 56, 80, 104])
    findings = diagnose_backup(observe_backup(str(folder), tasks=()), WANTED, NOW)
    assert "host.backup_task_missing" in {f.code for f in findings}
    with_task = diagnose_backup(observe_backup(str(folder), tasks=("JiveX Backup",)), WANTED, NOW)
    assert "host.backup_task_missing" not in {f.code for f in with_task}


def _winhttp_blob(flags: int, proxy: bytes, bypass: bytes) -> bytes:
    """WinHttpSettings as `netsh winhttp set proxy` writes it: size, counter, flags, then
    the proxy list and the bypass list, each with its length."""
    parts = [0x28, 0, flags]
    blob = b"".join(p.to_bytes(4, "little") for p in parts)
    for text in (proxy, bypass):
        blob += len(text).to_bytes(4, "little") + text
    return blob


def test_winhttp_settings_from_the_registry_blob() -> None:
    direct = _winhttp_blob(1, b"", b"")
    assert w.parse_winhttp_settings(direct) == {"proxy": "", "bypass": "", "mode": "direct"}
    proxied = _winhttp_blob(3, b"svc:pw@proxy.klinik.local:8080", b"<local>;*.klinik.local")
    assert w.parse_winhttp_settings(proxied) == {
        "proxy": "svc:pw@proxy.klinik.local:8080",
        "bypass": "<local>;*.klinik.local",
        "mode": "proxy",
    }
    assert w.parse_winhttp_settings(None)["mode"] == "unknown"
    assert w.parse_winhttp_settings(b"\x28\x00")["mode"] == "direct"  # cut short: no crash


def test_interfaces_and_their_mtu_from_psutil() -> None:
    from netdiag.probes.environment import collect_environment
    from netdiag.probes.mtu import mtu_of

    interfaces = {i["name"]: i for i in collect_environment()["interfaces"]}
    loopback = interfaces.get("lo")
    assert loopback is not None and "127.0.0.1" in loopback["addresses"]
    assert loopback["mtu"] == mtu_of("lo") > 1500
    assert mtu_of("no-such-interface") == 1500


def test_dns_servers_per_interface() -> None:
    assert w.parse_dns_client_servers(OUTPUTS["dns_client_de"]) == {
        "Ethernet": ["10.20.0.53", "10.20.0.54"]
    }
    assert w.parse_dns_client_servers(None) == {}


def test_umlauts_in_paths_and_user_names_survive() -> None:
    found = w.parse_defender(OUTPUTS["defender_umlauts"])
    assert found is not None and "E:\\Bilder für Ärzte" in (found.paths or ())
    assert w.parse_shares(OUTPUTS["shares_umlauts"]) == ("ADMIN$", "Röntgen")


def test_every_pipeline_is_wrapped_in_an_envelope_that_prints_even_when_empty() -> None:
    command = w.enveloped("Get-SmbShare | Select-Object Name,Path | ConvertTo-Json")
    assert "$items = @(Get-SmbShare | Select-Object Name,Path)" in command
    assert command.startswith("[Console]::OutputEncoding = [System.Text.Encoding]::UTF8")
    assert "ConvertTo-Json -InputObject" in command


@pytest.mark.parametrize(
    ("output", "items"),
    [
        (b"", None),  # a stub that prints nothing (Wine's powershell): not readable
        (b"\r\n", None),
        (b"garbage", None),
        (b'{"items": []}', None),  # not ours
        (b'{"netdiag":1,"items":[]}', "[]"),  # nothing found: readable, and empty
        (b'{"netdiag":1,"items":null}', "[]"),
        (
            '\ufeff{"netdiag":1,"items":[{"Name":"Röntgen"}]}'.encode(),
            '[{"Name": "R\\u00f6ntgen"}]',
        ),
        (b'{"netdiag":1,"items":[{"Name":"R\xf6ntgen"}]}', '[{"Name": "R\\ufffdntgen"}]'),
    ],
    ids=["silent", "blank", "garbage", "foreign json", "empty", "null", "utf-8 bom", "cp850 byte"],
)
def test_an_output_is_unwrapped_or_is_not_readable(output: bytes, items: str | None) -> None:
    assert w.unwrap(output) == items
