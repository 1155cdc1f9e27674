"""Every import is declared where it is needed: what netdiag imports is a dependency, what
the tests and benchmarks import is in `[test]`, what the maintainer scripts import is in
`[scripts]`. An import that some other package happens to bring (typer used to bring click)
is a failure on the next fresh machine, so each must be named by the project itself."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
OWN = {"netdiag", "tests", "benchmarks", "scripts"}
# Imported only where the platform has them, from packages that exist only there, or by
# name inside a Windows CPython that the test drives (never in this interpreter).
PLATFORM_ONLY = {"winreg", "_winapi", "msvcrt", "PyInstaller"}


def _name(requirement: str) -> str:
    """`typer>=0.12; python_version<'4'` -> `typer` (PEP 503 normalised)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def declared(*extras: str) -> set[str]:
    names = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    for extra in extras:
        names |= {_name(r) for r in PYPROJECT["project"]["optional-dependencies"][extra]}
    return names


def top_level_imports(files: Iterable[Path]) -> dict[str, str]:
    """Every top-level module imported anywhere in `files`, with one place that does."""
    found: dict[str, str] = {}
    for path in files:
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], f"{path.name}:{node.lineno}")
    return found


def undeclared(folder: Path, *extras: str) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    allowed = declared(*extras)
    missing = []
    for module, where in sorted(top_level_imports(folder.rglob("*.py")).items()):
        if module in OWN or module in sys.stdlib_module_names or module in PLATFORM_ONLY:
            continue
        providers = {_name(d) for d in distributions.get(module, [])}
        if not providers:
            missing.append(f"{module} ({where}): no installed distribution provides it")
        elif not providers & allowed:
            missing.append(f"{module} ({where}): from {sorted(providers)}, not declared")
    return missing


@pytest.mark.parametrize(
    ("folder", "extras"),
    [
        ("netdiag", ()),
        ("tests", ("test",)),
        ("benchmarks", ("test",)),
        ("scripts", ("scripts",)),
    ],
)
def test_every_import_is_declared(folder: str, extras: tuple[str, ...]) -> None:
    assert undeclared(REPO / folder, *extras) == []


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    """The twin: a module importing what only the test extra (or nothing) declares."""
    (tmp_path / "tool.py").write_text(
        "import json\nimport pytest\nfrom netdiag import cli\nimport no_such_module_xyz\n",
        "utf-8",
    )
    assert undeclared(tmp_path) == [
        "no_such_module_xyz (tool.py:4): no installed distribution provides it",
        "pytest (tool.py:2): from ['pytest'], not declared",
    ]
    assert undeclared(tmp_path, "test") == [
        "no_such_module_xyz (tool.py:4): no installed distribution provides it"
    ]
