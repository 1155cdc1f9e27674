"""Build the offline install bundle for a gateway without internet (maintainer script).

    python scripts/offline_bundle.py --platform win_amd64 --platform linux_x86_64 --out DIR

For each platform it writes DIR/netdiag-<version>-offline-<platform>.zip: netdiag's wheel
and every dependency's wheel for CPython 3.11, 3.12, 3.13 (and 3.14 where every dependency
has a wheel), a requirements.txt with the SHA-256 of every wheel, install scripts that make
a virtual environment next to them and install with `--no-index --find-links .
--require-hashes`, and a README.txt in German and English. Only wheels: a dependency
without a wheel for a platform and a required Python is an error that names it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_PYTHONS = ("3.11", "3.12", "3.13")
OPTIONAL_PYTHONS = ("3.14",)
# pip's platform tags for each bundle platform (manylinux wheels for Linux).
PLATFORM_TAGS = {
    "win_amd64": ("win_amd64",),
    "linux_x86_64": (
        "manylinux_2_28_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "linux_x86_64",
    ),
}
_MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-\[\]<>=!~, ]+)")

INSTALL_SH = """#!/bin/sh
# Installs netdiag into .venv next to this script, from the wheels here only (no network).
set -eu
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/python -m pip install --no-index --find-links . --require-hashes -r requirements.txt
echo "netdiag installed: $(pwd)/.venv/bin/netdiag check"
"""

INSTALL_PS1 = """# Installs netdiag into .venv next to this script, from the wheels here only (no network).
$ErrorActionPreference = "Stop"
Set-Location -Path $PSScriptRoot
py -3 -m venv .venv
if ($LASTEXITCODE -ne 0) { python -m venv .venv }
& .\\.venv\\Scripts\\python.exe -m pip install --no-index --find-links . --require-hashes -r requirements.txt
if ($LASTEXITCODE -ne 0) { throw "installation failed" }
Write-Host "netdiag installed: $PSScriptRoot\\.venv\\Scripts\\netdiag.exe check"
"""

INSTALL_CMD = """@echo off
rem Installs netdiag into .venv next to this script, from the wheels here only (no network).
cd /d "%~dp0"
py -3 -m venv .venv || python -m venv .venv || exit /b 1
.venv\\Scripts\\python.exe -m pip install --no-index --find-links . --require-hashes -r requirements.txt || exit /b 1
echo netdiag installed: %~dp0.venv\\Scripts\\netdiag.exe check
"""

README_WINDOWS = """netdiag {version} – Offline-Installation / offline installation ({platform})
{exe_note}
Deutsch
1. Python {pythons} mit dem Offline-Installer von python.org installieren (64 Bit,
   „Add python.exe to PATH“ ankreuzen) und diese Zip-Datei auf das Gateway kopieren.
2. Die Zip-Datei entpacken und install.ps1 ausführen (PowerShell: Rechtsklick,
   „Mit PowerShell ausführen“; oder install.cmd). Es wird kein Internet benötigt.
3. In einer Eingabeaufforderung (für Routenverfolgung als Administrator, mit Npcap):
   .venv\\Scripts\\netdiag check

English
1. Install Python {pythons} from python.org's offline installer (64-bit, tick
   "Add python.exe to PATH") and copy this zip file onto the gateway.
2. Unpack the zip file and run install.ps1 (PowerShell: right-click, "Run with
   PowerShell"; or install.cmd). No internet is needed.
3. In a command prompt (as Administrator, with Npcap, for traces):
   .venv\\Scripts\\netdiag check
"""

README_LINUX = """netdiag {version} – Offline-Installation / offline installation ({platform})

Deutsch
1. Python {pythons} mit venv aus den Paketen der Distribution bereitstellen (Debian und
   Ubuntu: python3 und python3-venv) und diese Zip-Datei auf den Rechner kopieren.
2. Die Zip-Datei entpacken und im entpackten Ordner „sh install.sh“ ausführen. Es wird
   kein Internet benötigt.
3. .venv/bin/netdiag check (Routenverfolgung und Mitschnitt als root, oder mit
   CAP_NET_RAW).

English
1. Provide Python {pythons} with venv from the distribution's packages (Debian and
   Ubuntu: python3 and python3-venv) and copy this zip file onto the machine.
2. Unpack the zip file and run "sh install.sh" in the unpacked folder. No internet is
   needed.
3. .venv/bin/netdiag check (traces and captures as root, or with CAP_NET_RAW).
"""


def readme_text(platform: str, version: str, pythons: list[str], has_exe: bool) -> bytes:
    """README.txt for the platform's bundle, German and English with their own letters:
    UTF-8 (with a byte-order mark and CRLF for Windows' Notepad), the Windows steps
    (python.org, PowerShell, Npcap) only in the Windows bundle."""
    is_windows = platform.startswith("win")
    template = README_WINDOWS if is_windows else README_LINUX
    text = template.format(
        version=version,
        platform=platform,
        pythons=" / ".join(pythons),
        exe_note=EXE_NOTE.format(version=version) if has_exe and is_windows else "",
    )
    if is_windows:
        return ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    return text.encode("utf-8")


def project() -> tuple[str, list[str]]:
    """netdiag's version and its runtime dependencies, from the project's own files."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    text = (ROOT / "netdiag" / "__init__.py").read_text("utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if match is None:
        raise SystemExit("no __version__ in netdiag/__init__.py")
    return match.group(1), list(data["project"]["dependencies"])


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def build_wheel(directory: Path) -> Path:
    result = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(directory), str(ROOT)]
    )
    if result.returncode:
        raise SystemExit(f"cannot build netdiag's wheel: {result.stderr.strip()[-500:]}")
    (wheel,) = directory.glob("netdiag-*.whl")
    return wheel


def download(platform: str, python: str, dependencies: list[str], directory: Path) -> str:
    """Every dependency's wheel for one platform and Python, and the dependencies that only
    the target platform's markers ask for; "" or the missing one.

    pip evaluates environment markers on the machine that downloads, even with
    `--platform`: on Linux it leaves out `colorama; platform_system == "Windows"` (typer's),
    and the Windows bundle would not install. So the wheels' own requirements are
    evaluated for the target here, and what they still need is downloaded, until nothing
    is missing (a handful of rounds at most)."""
    command = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:"]
    command += ["--implementation", "cp", "--python-version", python, "-d", str(directory)]
    for tag in PLATFORM_TAGS[platform]:
        command += ["--platform", tag]
    wanted = list(dependencies)
    for _ in range(10):
        result = run([*command, *wanted])
        if result.returncode != 0:
            match = _MISSING.search(result.stderr)
            return match.group(1).strip() if match else result.stderr.strip()[-300:]
        wanted = unmet_requirements(directory, marker_environment(platform, python))
        if not wanted:
            return ""
    return f"requirements still unmet after 10 rounds: {', '.join(wanted)}"


def marker_environment(platform: str, python: str) -> dict[str, str]:
    """PEP 508 marker values of CPython `python` on `platform`."""
    is_windows = platform.startswith("win")
    return {
        "sys_platform": "win32" if is_windows else "linux",
        "platform_system": "Windows" if is_windows else "Linux",
        "os_name": "nt" if is_windows else "posix",
        "platform_machine": "AMD64" if is_windows else "x86_64",
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def unmet_requirements(directory: Path, environment: dict[str, str]) -> list[str]:
    """The requirements of the wheels in `directory` that apply on the target and that no
    wheel there satisfies."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    present: dict[str, list[Version]] = defaultdict(list)
    for wheel in directory.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        present[canonicalize_name(name)].append(Version(version))
    unmet = []
    for wheel in directory.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(metadata).decode("utf-8", "replace").splitlines()
        for line in lines:
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            versions = present.get(canonicalize_name(requirement.name), [])
            if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
                unmet.append(str(requirement).split(";")[0].strip())
    return sorted(set(unmet))


def requirements_with_hashes(directory: Path) -> str:
    """name==version with the hash of every wheel of it, as pip's --require-hashes wants."""
    hashes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for wheel in sorted(directory.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        hashes[(name.replace("_", "-").lower(), version)].append(digest)
    lines = []
    for (name, version), digests in sorted(hashes.items()):
        options = " ".join(f"--hash=sha256:{d}" for d in sorted(set(digests)))
        lines.append(f"{name}=={version} {options}")
    return "\n".join(lines) + "\n"


EXE_NOTE = """
Kein Python? netdiag.exe starten (eine Datei; oder den Ordner aus
netdiag-{version}-win_amd64-folder.zip, startet schneller). Nicht code-signiert:
SmartScreen warnt; die SHA-256-Summen stehen in SHA256SUMS.txt.
No Python? Run netdiag.exe (one file; or the folder from
netdiag-{version}-win_amd64-folder.zip, which starts faster). Not code-signed:
SmartScreen warns; the SHA-256 sums are in SHA256SUMS.txt.
"""


def bundle(
    platform: str, out: Path, version: str, dependencies: list[str], exe: Path | None = None
) -> Path:
    with tempfile.TemporaryDirectory() as temp:
        wheels = Path(temp)
        netdiag_wheel = build_wheel(wheels)
        pythons = []
        for python in (*REQUIRED_PYTHONS, *OPTIONAL_PYTHONS):
            missing = download(platform, python, dependencies, wheels)
            if not missing:
                pythons.append(python)
            elif python in REQUIRED_PYTHONS:
                raise SystemExit(
                    f"no wheel of {missing} for {platform} and Python {python}: "
                    "the offline bundle holds wheels only"
                )
            else:
                print(f"{platform}: Python {python} left out, no wheel of {missing}")
        (wheels / "requirements.txt").write_text(requirements_with_hashes(wheels), "utf-8")
        is_windows = platform.startswith("win")
        scripts = (
            {"install.ps1": INSTALL_PS1, "install.cmd": INSTALL_CMD}
            if is_windows
            else {"install.sh": INSTALL_SH}
        )
        readme = readme_text(platform, version, pythons, exe is not None)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"netdiag-{version}-offline-{platform}.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for wheel in sorted(wheels.glob("*.whl")):
                archive.write(wheel, wheel.name)
            archive.write(wheels / "requirements.txt", "requirements.txt")
            for name, text in scripts.items():
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o755 << 16
                archive.writestr(info, text.replace("\n", "\r\n") if is_windows else text)
            archive.writestr("README.txt", readme)
            sums = []
            if exe is not None and is_windows:
                for built in ("netdiag.exe", f"netdiag-{version}-win_amd64-folder.zip"):
                    path = exe / built
                    archive.write(path, built)
                    sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {built}")
            for wheel in sorted(wheels.glob("*.whl")):
                sums.append(f"{hashlib.sha256(wheel.read_bytes()).hexdigest()}  {wheel.name}")
            archive.writestr("SHA256SUMS.txt", "\n".join(sums) + "\n")
        print(f"{target} ({netdiag_wheel.name}, Python {', '.join(pythons)})")
        return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORM_TAGS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--exe", type=Path, help="a folder scripts/build_exe.py wrote: netdiag.exe goes in too"
    )
    args = parser.parse_args(argv)
    version, dependencies = project()
    for platform in dict.fromkeys(args.platform):
        bundle(platform, args.out, version, dependencies, args.exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
