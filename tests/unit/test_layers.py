"""The layers hold: probes never import renderers or the CLI, diagnosis never imports
probes, renderers never import diagnosis or probes (what they show is in the report), and
the CLI neither probes nor diagnoses."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "netdiag"
FORBIDDEN = {
    "netdiag.probes": ("netdiag.renderers", "netdiag.cli"),
    "netdiag.diagnosis": ("netdiag.probes",),
    "netdiag.renderers": ("netdiag.diagnosis", "netdiag.probes"),
    # The command line calls the library and renders: it neither probes nor diagnoses.
    "netdiag.cli": ("netdiag.probes", "netdiag.diagnosis"),
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every netdiag module imported anywhere in the file, at the top or in a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("netdiag")}


def crossings() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        for layer, forbidden in FORBIDDEN.items():
            if module != layer and not module.startswith(layer + "."):
                continue
            for name in sorted(_imports(path)):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    found.append(f"{module} imports {name}")
    return found


def test_no_module_imports_across_a_forbidden_line() -> None:
    assert crossings() == []


def test_the_check_itself_sees_a_crossing(tmp_path: Path) -> None:
    """Negative twin: a planted import across the line is found."""
    planted = PACKAGE / "renderers" / "_planted_for_test.py"
    planted.write_text("from netdiag.diagnosis.trace import diagnose_trace\n", "utf-8")
    try:
        assert crossings() == [
            "netdiag.renderers._planted_for_test imports netdiag.diagnosis.trace",
            "netdiag.renderers._planted_for_test imports netdiag.diagnosis.trace.diagnose_trace",
        ]
    finally:
        planted.unlink()
