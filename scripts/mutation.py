"""The mutation gate of the verdict logic (mutmut, pinned in the `mutation` extra).

    python scripts/mutation.py                # the modules changed since the baseline
    python scripts/mutation.py --all          # every module in scope (the full run)
    python scripts/mutation.py --all --update # ... and record the survivors as the baseline
    python scripts/mutation.py netdiag.trust.model --update   # one module, recorded

The scope is `[tool.mutmut] only_mutate` in pyproject.toml: the trust model, the verdict
rules of diagnosis, host validation. Each mutant runs against the unit tests that reach
the function it changes (mutmut selects them from a traced run). A survivor is a decision
that a test could not tell from its mutation: it must be killed by a new test, or be in
`tests/mutation_survivors.tsv` with the reason it is equivalent (or, where it is known and
not yet killed, marked `open` — the debt, counted in the score). A mutant that no unit test
reaches is a survivor too. A survivor that is in
neither fails the run, with the mutation shown. Survivors are keyed by module, function
and the changed text, so that numbering changes elsewhere in a function do not matter.

Exit code: 0 when no new survivor, 1 when there is one, 2 when mutmut itself failed.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "mutation_survivors.tsv"
HEADER = (
    "# Surviving mutants of the verdict logic that are accepted: module, function, the change\n"
    "# (old -> new), and why — 'equivalent: …' (no test can tell them apart) or 'open' (known,\n"
    "# not yet killed). Written by `python scripts/mutation.py --all --update`; a survivor not\n"
    "# listed here fails the gate.\n"
)


@dataclass(frozen=True, order=True)
class Key:
    module: str
    function: str
    change: str

    def line(self, reason: str) -> str:
        return f"{self.module}\t{self.function}\t{self.change}\t{reason}"


def scope() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def modules_in_scope(patterns: list[str]) -> list[str]:
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "netdiag").rglob("*.py"))
    chosen = [f for f in files if any(fnmatch.fnmatch(f, p) for p in patterns)]
    return [f.removesuffix(".py").replace("/", ".") for f in chosen]


def baseline_commit() -> str:
    found = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--", str(BASELINE.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return found.stdout.strip()


def changed_modules(since: str, modules: list[str]) -> list[str]:
    if not since:
        return modules
    diff = subprocess.run(
        ["git", "diff", "--name-only", since, "--", "netdiag"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    changed = {p.removesuffix(".py").replace("/", ".") for p in diff.stdout.split()}
    return [m for m in modules if m in changed]


def stale_copy() -> bool:
    """Whether mutmut's copy of the package holds a data file (catalogue, profiles) older
    than ours: mutmut refreshes the Python files it mutates, not the rest, and tests that
    read the data would fail in the copy for no fault of the code."""
    copy = ROOT / "mutants" / "netdiag"
    if not copy.is_dir():
        return False
    for path in (ROOT / "netdiag").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            mutated = copy / path.relative_to(ROOT / "netdiag")
            if not mutated.is_file() or mutated.read_bytes() != path.read_bytes():
                return True
    return False


def run_mutmut(modules: list[str]) -> None:
    if stale_copy():
        import shutil

        print("mutation: mutants/ holds old data files: made again from scratch")
        shutil.rmtree(ROOT / "mutants")
    # mutmut traces only tests it has not seen (by name): a test that now reaches another
    # function under its old name would be missed. The traced run is made afresh (~20 s).
    (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    names = [f"{module}.*" for module in modules]
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", *names],
        cwd=ROOT, check=False, capture_output=True, text=True,
    )  # fmt: skip
    sys.stdout.write(done.stdout[-4000:])
    sys.stderr.write(done.stderr[-4000:])
    # mutmut says so, but may still exit 0, when its traced run of the tests failed (or the
    # clean run before it): every result after that would be stale or missing.
    said = (done.stdout + done.stderr).lower()
    failed = ("failed to collect stats", "failed to run clean test")
    if done.returncode not in (0, 1) or any(words in said for words in failed):
        print("mutation: mutmut failed (see above); no result is trusted", file=sys.stderr)
        raise SystemExit(2)


def statuses() -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = {}
    for line in done.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


_SOURCES: dict[str, dict[str, list[str]]] = {}


def _functions(module: str) -> dict[str, list[str]]:
    if module not in _SOURCES:
        path = ROOT / "mutants" / (module.replace(".", "/") + ".py")
        text = path.read_text("utf-8")
        lines = text.splitlines()
        found = {}
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # The body's lines by number (get_source_segment would split the whole
                # file again for each of its thousands of functions).
                found[node.name] = lines[node.lineno : node.end_lineno or node.lineno]
        _SOURCES[module] = found
    return _SOURCES[module]


def key_of(name: str) -> Key:
    """`netdiag.trust.model.x_judge_chain__mutmut_7` -> the module, the function, and the
    change as text (the lines it takes away -> the lines it puts in)."""
    mangled = name.rsplit(".", 1)[-1]
    module = name[: -len(mangled) - 1]
    base = mangled.rsplit("__mutmut_", 1)[0]
    functions = _functions(module)
    original, mutant = functions.get(base + "__mutmut_orig", []), functions.get(mangled, [])
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(original, mutant, lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(" ".join(line[1:].split()))
    readable = base.removeprefix("x_").replace("ǁ", ".").strip(".")
    return Key(module, readable, f"{' / '.join(removed)} -> {' / '.join(added)}"[:400])


def load_baseline() -> dict[Key, str]:
    found: dict[Key, str] = {}
    if not BASELINE.is_file():
        return found
    for line in BASELINE.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        module, function, change, reason = line.split("\t", 3)
        found[Key(module, function, change)] = reason
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every module in scope")
    parser.add_argument("--since", help="the modules changed since this commit")
    parser.add_argument("--update", action="store_true", help="record the survivors")
    parser.add_argument("modules", nargs="*", help="these modules (netdiag.trust.model …)")
    args = parser.parse_args(argv)
    modules = modules_in_scope(scope())
    if args.modules:
        unknown = sorted(set(args.modules) - set(modules))
        if unknown:
            parser.error(f"not in the scope of [tool.mutmut]: {', '.join(unknown)}")
        modules = [m for m in modules if m in args.modules]
    elif not args.all:
        modules = changed_modules(args.since or baseline_commit(), modules)
    if not modules:
        print("mutation: no module in scope changed since the baseline")
        return 0
    print(f"mutation: {len(modules)} module(s): {', '.join(modules)}")
    run_mutmut(modules)
    found = {
        name: status
        for name, status in statuses().items()
        if any(name.startswith(f"{m}.") for m in modules)
    }
    counts = Counter(found.values())
    # A mutant no unit test reaches survives by definition: it is a survivor like the others
    # (else new code without a unit test would pass the gate unseen).
    survivors = sorted(key_of(n) for n, s in found.items() if s in ("survived", "no tests"))
    unreached = {key_of(n) for n, s in found.items() if s == "no tests"}
    baseline = load_baseline()
    new = [k for k in survivors if k not in baseline]
    killed = counts.get("killed", 0)
    total = sum(counts.values())
    print(
        f"mutation: {total} mutants, {killed} killed, {counts.get('survived', 0)} survived "
        f"({len(survivors) - len(new)} listed), {counts.get('no tests', 0)} reached by no unit "
        f"test; score {killed / total:.1%}"
        if total
        else "mutation: no mutants"
    )
    if args.update:
        ran = set(modules)
        kept = {k: r for k, r in baseline.items() if k.module not in ran}
        # A reason written by hand stays; the gate's own says what it is now (reached or not).
        said_by_gate = ("", "open", "open: no unit test reaches it")
        kept.update(
            {
                k: baseline[k]
                if baseline.get(k, "") not in said_by_gate
                else ("open: no unit test reaches it" if k in unreached else "open")
                for k in survivors
            }
        )
        lines = [k.line(r) for k, r in sorted(kept.items())]
        BASELINE.write_text(HEADER + "\n".join(lines) + "\n", "utf-8")
        print(f"mutation: {BASELINE.relative_to(ROOT)} now lists {len(kept)} survivors")
        return 0
    for key in new:
        print(f"NEW SURVIVOR {key.module}: {key.function}: {key.change}")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
