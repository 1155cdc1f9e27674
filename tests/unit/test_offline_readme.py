"""The offline bundle's README.txt: the platform's own steps, German with its own letters."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "offline_bundle.py"
WINDOWS_ONLY = ("python.org", "PowerShell", "Npcap", "Add python.exe to PATH", "install.ps1")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("offline_bundle", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_linux_readme_speaks_of_linux_only() -> None:
    text = _script().readme_text("linux_x86_64", "1.0", ["3.11", "3.12"], False).decode("utf-8")
    assert "install.sh" in text and ".venv/bin/netdiag check" in text
    assert [word for word in WINDOWS_ONLY if word in text] == []


def test_the_windows_readme_opens_in_notepad_with_its_umlauts() -> None:
    raw = _script().readme_text("win_amd64", "1.0", ["3.11"], True)
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    assert "ausführen" in text and "benötigt" in text and "für" in text
    assert all(word in text for word in WINDOWS_ONLY) and "netdiag.exe" in text
    assert ".venv\\Scripts\\netdiag check" in text


@pytest.mark.parametrize("platform", ["win_amd64", "linux_x86_64"])
def test_no_german_word_written_without_its_letters(platform: str) -> None:
    text = _script().readme_text(platform, "1.0", ["3.11"], False).decode("utf-8-sig")
    for ascii_form in ("ausfuehren", "benoetigt", "fuer ", "Ausfuehren"):
        assert ascii_form not in text
