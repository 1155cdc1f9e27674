"""The layers hold: each stage folder imports only the stages below it, directly and
transitively (every import counts, at the top or inside a function, for types too) — and
the command line neither probes nor diagnoses, the session never renders."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "netdiag"
BASE = frozenset({"errors", "console", "files"})
# The stages each stage may import (besides itself and the base).
ALLOWED: dict[str, frozenset[str]] = {
    "privacy": frozenset(),
    "settings": frozenset({"privacy"}),
    "report": frozenset({"settings", "privacy"}),
    "trust": frozenset({"report", "settings", "privacy"}),
    "probes": frozenset({"trust", "report", "settings", "privacy"}),
    "diagnosis": frozenset({"trust", "report", "settings", "privacy"}),
    "renderers": frozenset({"trust", "report", "settings", "privacy"}),
    "session": frozenset({"probes", "diagnosis", "trust", "report", "settings", "privacy"}),
    # The command line calls the session and the renderers: it neither probes nor diagnoses.
    "cli": frozenset({"session", "renderers", "trust", "report", "settings", "privacy"}),
}
# Stages that may reach the others only through what they import (the session probes and
# diagnoses for the command line); the rest may not reach further even indirectly.
ONLY_DIRECT = frozenset({"cli", "session"})


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> set[str]:
    """Every netdiag module imported anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.startswith("netdiag.")}


def graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _reach(imports: dict[str, set[str]], module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in imports.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def crossings(imports: dict[str, set[str]] | None = None) -> list[str]:
    imports = graph() if imports is None else imports
    found = []
    for module, direct in sorted(imports.items()):
        stage = _stage(module)
        if stage not in ALLOWED:
            continue
        allowed = ALLOWED[stage] | BASE | {stage}
        reached = direct if stage in ONLY_DIRECT else _reach(imports, module)
        for name in sorted(reached):
            target = _stage(name)
            if target and target not in allowed:
                how = "imports" if name in direct else "reaches"
                found.append(f"{module} {how} {name}")
    return found


def test_no_module_imports_across_a_forbidden_line() -> None:
    assert crossings() == []


def test_every_stage_folder_is_in_the_table() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(ALLOWED), folders ^ set(ALLOWED)


def test_the_check_itself_sees_a_crossing_direct_and_transitive() -> None:
    """Negative twins: a planted import across the line is found, and so is one that only
    reaches across through a module of an allowed stage."""
    imports = graph()
    imports["netdiag.renderers._planted"] = {"netdiag.diagnosis.trace"}
    imports["netdiag.report._planted"] = {"netdiag.trust._planted"}
    imports["netdiag.trust._planted"] = {"netdiag.probes.dns"}
    found = crossings(imports)
    assert "netdiag.renderers._planted imports netdiag.diagnosis.trace" in found
    assert "netdiag.report._planted reaches netdiag.probes.dns" in found
    assert "netdiag.trust._planted imports netdiag.probes.dns" in found
