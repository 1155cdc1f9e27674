"""`netdiag host`, `check --host` and the bundle against real folders: drive sizes from
psutil with thresholds from the profile so both outcomes occur, backups by their
modification times."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

from tests.conftest import run_cli
from tests.servers.tcp import OpenPort


def _profile(tmp_path: Path, data_gb: float, archive_gb: float) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(
        f"""
name = "test"
[[endpoints]]
host = "127.0.0.1"
port = 1
service = "tcp"

[host]
cpu_cores = 1
memory_gb = 0
[[host.drives]]
name = "data"
path = 'D:\\'
min_gb = {data_gb}
[[host.drives]]
name = "archive"
path = 'E:\\'
min_gb = {archive_gb}
[host.backup]
path = 'E:\\backup'
max_age_hours = 26
nights = 5
""",
        "utf-8",
    )
    return path


def _backups(folder: Path, hours_ago: list[float]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, hours in enumerate(hours_ago):
        path = folder / f"backup_{n}.sql.gz"
        path.write_bytes(b"x")
        stamp = time.time() - hours * 3600
        os.utime(path, (stamp, stamp))
    return folder


def test_host_gives_the_codes_for_the_test_folders(tmp_path: Path) -> None:
    data, archive = tmp_path / "d", tmp_path / "e"
    data.mkdir()
    backup = _backups(archive / "backup", [8, 32, 56])
    result = run_cli(
        "host", "--profile", str(_profile(tmp_path, 0.001, 10**9)),
        "--data-drive", str(data), "--archive-drive", str(archive),
        "--backup-dir", str(backup), "--json",
    )  # fmt: skip
    report = result.json()
    codes = {f["code"] for f in report["host"]["findings"]}
    assert codes == {"host.drive_small", "host.backup_incomplete", "host.backup_offsite"}
    small = next(f for f in report["host"]["findings"] if f["code"] == "host.drive_small")
    assert str(archive) in small["summary"]  # the huge threshold, not the tiny one
    assert report["status"] == "warn" and result.exit_code == 1
    drives = report["host"]["observation"]["drives"]
    assert [d["is_present"] for d in drives] == [True, True] and drives[0]["total_bytes"] > 0
    assert any("do not apply on Linux" in n for n in report["notes"])


def test_missing_drive_and_backups_are_critical(tmp_path: Path) -> None:
    result = run_cli(
        "host", "--profile", str(_profile(tmp_path, 1, 1)),
        "--data-drive", str(tmp_path / "nowhere"), "--archive-drive", str(tmp_path),
        "--backup-dir", str(tmp_path / "no-backup"), "--format", "checkmk",
    )  # fmt: skip
    assert result.exit_code == 2
    (line,) = result.stdout.splitlines()
    assert line.startswith('2 "netdiag host" - ')
    assert "host.drive_missing" in line and "host.backup_missing" in line


def test_check_host_and_the_bundle_include_it(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    backup = _backups(tmp_path / "e" / "backup", [8, 32, 56, 80, 104])
    profile = _profile(tmp_path, 0.001, 0.001)
    paths = ["--data-drive", str(data), "--archive-drive", str(tmp_path / "e")]
    paths += ["--backup-dir", str(backup)]
    with OpenPort() as port:
        target = ["--target", f"127.0.0.1:{port.port}/tcp", "--profile", str(profile)]
        checked = run_cli("check", "--json", *target, "--host", *paths)
        report = checked.json()
        assert report["host"] is not None and report["endpoints"]
        assert {f["code"] for f in report["host"]["findings"]} == {"host.backup_offsite"}
        assert checked.exit_code == 0
        out = tmp_path / "bundle.zip"
        bundled = run_cli("bundle", *target, *paths, "--out", str(out), "--lang", "de")
    assert bundled.exit_code == 0, bundled.stderr
    with zipfile.ZipFile(out) as archive:
        inside = json.loads(archive.read("report.json"))
        text = archive.read("report.txt").decode()
    assert inside["host"]["findings"][0]["code"] == "host.backup_offsite"
    assert "Gateway (Systemvoraussetzungen)" in text
