"""Every error netdiag raises on purpose is one line in both languages, said where it is
raised; the command line speaks it in the run's language (`--lang`, else the locale)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from netdiag.errors import NetdiagError
from tests.conftest import run_cli

PACKAGE = Path(__file__).resolve().parents[2] / "netdiag"


def _error_classes() -> set[str]:
    names = {"NetdiagError"}
    trees = [ast.parse(p.read_text("utf-8")) for p in PACKAGE.rglob("*.py")]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    if any(isinstance(b, ast.Name) and b.id in names for b in node.bases):
                        names.add(node.name)
                        grew = True
    return names


def test_every_error_is_raised_in_both_languages() -> None:
    classes = _error_classes()
    assert {"UsageError", "CertificateError", "PinError", "DiffError"} <= classes
    english_only = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text("utf-8")
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in classes
                and not any(k.arg == "de" for k in node.keywords)
            ):
                english_only.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert english_only == []


def test_the_line_in_each_language() -> None:
    error = NetdiagError("no password given", de="kein Passwort angegeben")
    assert (error.text("en"), error.text("de"), str(error)) == (
        "no password given",
        "kein Passwort angegeben",
        "no password given",
    )
    assert NetdiagError("only English").text("de") == "only English"


@pytest.mark.parametrize(
    ("args", "english", "german"),
    [
        (["check", "--lang", "fr", "--target", "127.0.0.1:1/tcp"], "de or en", "de oder en"),
        (["check", "--only", "nothing-at-all"], "no endpoint matches", "kein Endpunkt passt"),
        (["check", "--target", "a..b:25/tcp"], "neither a host name", "weder ein Hostname"),
        (["diff", "/no/such/a.json", "/no/such/b.json"], "cannot read report", "nicht lesbar"),
    ],
)
def test_the_command_line_says_it_in_the_runs_language(
    args: list[str], english: str, german: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    en = run_cli(*args)
    assert en.exit_code == 3 and english in en.stderr and en.stderr.count("\n") == 1
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    de = run_cli(*args, *(["--lang", "de"] if args[0] == "check" and "--lang" not in args else []))
    assert de.exit_code == 3 and german in de.stderr, de.stderr
