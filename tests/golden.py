"""Golden files: what the renderers must write, compared by the tests and rewritten only
by a person who ran this module on purpose (after reading the diff):

    python -m tests.golden          # rewrite every golden file from the code as it is now

No environment variable or option of the test run writes them: a test that could update
what it compares with could never fail."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

GOLDEN = Path(__file__).parent / "unit" / "golden"


def compare(path: Path, text: str) -> None:
    """Assert that `text` is what the golden file holds."""
    assert path.is_file(), f"{path} is missing: write it with `python -m tests.golden`"
    assert text == path.read_text("utf-8"), (
        f"{path.relative_to(GOLDEN)} differs; if the change is meant, review the diff and "
        "run `python -m tests.golden`"
    )


def producers() -> dict[Path, Callable[[], str]]:
    """Every golden file and what writes it (the tests' own inputs)."""
    from tests.unit.test_findings_in_full import FINDINGS, TABLES, golden_text
    from tests.unit.test_firewall_snippets import CASES, snippet_text
    from tests.unit.test_identity import identity_errors_text
    from tests.unit.test_messages import LANGUAGES, report_text

    found: dict[Path, Callable[[], str]] = {}
    for lang in LANGUAGES:
        found[GOLDEN / f"report_{lang}.txt"] = lambda lang=lang: report_text(lang)
    for situation, product in CASES:
        path = GOLDEN / "firewall" / f"{situation}_{product}.txt"
        found[path] = lambda s=situation, p=product: snippet_text(s, p)
    found[GOLDEN / "identity_errors.txt"] = identity_errors_text
    for table in TABLES:
        found[FINDINGS / f"{table}.txt"] = lambda table=table: golden_text(table)
    return found


def main() -> int:
    changed = 0
    for path, produce in producers().items():
        text = produce()
        if not path.is_file() or path.read_text("utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            print(f"rewrote {path.relative_to(GOLDEN.parent.parent.parent)}")
            changed += 1
    print(f"{changed} golden file(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
