"""Build netdiag.exe for gateways without Python (maintainer script).

    python scripts/build_exe.py --out DIR                    # on Windows
    python scripts/build_exe.py --out DIR --wine-root ROOT   # on Linux, under Wine

PyInstaller (pinned below), run inside a Windows CPython — the running one on Windows, the
one `tests/windows/setup.sh ROOT` makes under Wine elsewhere — builds both forms:
`DIR/netdiag.exe` (one file: unpacks into %TEMP% at every start, ~2 s; blocked where
AppLocker forbids running from %TEMP%) and `DIR/netdiag-<version>-win_amd64-folder.zip`
(one folder: starts in a fraction of a second), and `DIR/SHA256SUMS.txt`. The exe is not
code-signed: SmartScreen warns; a hospital checks it against the SHA-256 sums.

What each trap looks like when it is not handled (tests/windows/smoke.py runs the result):
- package data: without `--collect-data netdiag` the built-in profile is not found;
- the exit code: `main()` returns it, so the entry is `sys.exit(main())` (else always 0);
- setuptools' start-up hook adds ~2 s to every start: excluded;
- the versions in a support bundle come from the packages' metadata: `--copy-metadata`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYINSTALLER = ("pyinstaller==6.22.3", "pyinstaller-hooks-contrib==2026.9")
METADATA = (
    "netdiag", "typer", "dnspython", "pyOpenSSL", "cryptography", "scapy", "tabulate",
    "certifi", "service-identity", "psutil",
)  # fmt: skip
# setuptools: its start-up hook costs ~2 s per start; scapy's contrib layers and tools are
# never loaded by netdiag (its traces use scapy.layers.inet/inet6), and analysing them is
# most of a build's time under Wine.
EXCLUDED = ("setuptools", "tkinter", "scapy.contrib", "scapy.tools", "IPython", "matplotlib")
ENTRY = "import sys\n\nfrom netdiag.cli import entry_point\n\nsys.exit(entry_point())\n"
WINE_ENV = {"WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml=;wbemprox=d"}


class WindowsPython:
    """A Windows CPython to run commands with: this one on Windows, or python.exe under
    Wine (a copy of ROOT/py, so that the cached one stays as it was)."""

    def __init__(self, wine_root: Path | None, work: Path) -> None:
        self.wine_root = wine_root
        # Where it installs packages, where that is known (the copy under Wine).
        self.site_packages: Path | None = None
        if wine_root is None:
            self.python = [sys.executable]
            return
        copy = work / "py"
        shutil.copytree(wine_root / "py", copy)
        self.python = ["wine", str(copy / "python.exe")]
        self.site_packages = copy / "Lib" / "site-packages"
        # Wine's services started with no pipe attached: started by the first command, they
        # would hold its pipes open and the build would wait for ever.
        subprocess.run(
            ["wine", "cmd", "/c", "exit"], env=self.env(), check=False, timeout=300,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def path(self, path: Path) -> str:
        return str(path) if self.wine_root is None else "Z:" + str(path).replace("/", "\\")

    def env(self) -> dict[str, str] | None:
        """A clean environment for Wine (Linux variables such as PIP_* would leak in)."""
        if self.wine_root is None:
            return None
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "WINEPREFIX": str(self.wine_root / "prefix"),
            **WINE_ENV,
        }

    def run(self, *args: str, cwd: Path | None = None) -> None:
        env = self.env()
        done = subprocess.run(
            [*self.python, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            check=False,
            timeout=1200,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"failed: {' '.join(args[:4])} …\n{(done.stdout + done.stderr)[-3000:]}"
            )


def differing_sources(site_packages: Path) -> list[str]:
    """The netdiag source files that the installation in `site_packages` holds otherwise
    than this tree (missing, or other bytes): an earlier netdiag of the same version, which
    pip keeps as "already satisfied" in a Windows CPython that is cached between runs."""
    source = ROOT / "netdiag"
    installed = site_packages / "netdiag"
    return [
        str(path.relative_to(source))
        for path in sorted(source.rglob("*.py"))
        if not (installed / path.relative_to(source)).is_file()
        or (installed / path.relative_to(source)).read_bytes() != path.read_bytes()
    ]


def version() -> str:
    text = (ROOT / "netdiag" / "__init__.py").read_text("utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if match is None:
        raise SystemExit("no __version__ in netdiag/__init__.py")
    return match.group(1)


def build(out: Path, wine_root: Path | None) -> list[Path]:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        wheels = work / "wheels"
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
            check=True,
        )
        (wheel,) = wheels.glob("netdiag-*.whl")
        python = WindowsPython(wine_root, work)
        # Resolved by the Windows interpreter itself: its markers are Windows'.
        python.run(
            "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", python.path(wheels),
            python.path(wheel), *PYINSTALLER,
        )  # fmt: skip
        python.run(
            "-m", "pip", "install", "-q", "--no-index", "--no-warn-script-location",
            "--find-links", python.path(wheels), python.path(wheel), *PYINSTALLER,
        )  # fmt: skip
        # The same version may be installed already (the cached interpreter held one): this
        # tree's, whatever pip thinks of the version number.
        python.run(
            "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--force-reinstall",
            "--no-warn-script-location", python.path(wheel),
        )  # fmt: skip
        if python.site_packages is not None and (stale := differing_sources(python.site_packages)):
            raise SystemExit(f"netdiag.exe would carry another netdiag: {', '.join(stale[:5])}")
        (work / "entry.py").write_text(ENTRY, "utf-8")
        # No --clean: the work folder is new, and the one-folder build reuses the analysis
        # of the one-file build (a minute and more under Wine).
        options = ["--noconfirm", "--name", "netdiag", "--collect-data", "netdiag"]
        for package in METADATA:
            options += ["--copy-metadata", package]
        for module in EXCLUDED:
            options += ["--exclude-module", module]
        common = [
            "--workpath", python.path(work / "build"), "--specpath", python.path(work),
        ]  # fmt: skip
        python.run(
            "-m", "PyInstaller", *options, *common, "--onefile",
            "--distpath", python.path(out), python.path(work / "entry.py"),
            cwd=work,
        )  # fmt: skip
        folder = work / "folder"
        python.run(
            "-m", "PyInstaller", *options, *common, "--onedir",
            "--distpath", python.path(folder), python.path(work / "entry.py"),
            cwd=work,
        )  # fmt: skip
        archive = out / f"netdiag-{version()}-win_amd64-folder.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted((folder / "netdiag").rglob("*")):
                if path.is_file():
                    zipped.write(path, Path("netdiag") / path.relative_to(folder / "netdiag"))
    built = [out / "netdiag.exe", archive]
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in built)
    (out / "SHA256SUMS.txt").write_text(sums, "utf-8")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--wine-root", type=Path, help="a Windows CPython under Wine (tests/windows/setup.sh)"
    )
    args = parser.parse_args(argv)
    if sys.platform != "win32" and args.wine_root is None:
        raise SystemExit("not on Windows: give --wine-root (made by tests/windows/setup.sh)")
    for path in build(args.out, args.wine_root.resolve() if args.wine_root else None):
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
