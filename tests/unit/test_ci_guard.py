"""The CI guard itself: under CI=true every way a test can stop without passing fails the
run, and without CI the same tests skip and xfail as pytest says."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAYS = """
import pytest

def test_skip_called():
    pytest.skip("no tool")

def test_xfail_called():
    pytest.xfail("later")

@pytest.mark.xfail(run=False, reason="never run")
def test_xfail_not_run():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail_marked():
    assert False

@pytest.fixture
def needs_tool():
    pytest.skip("fixture skips")

def test_fixture_skip(needs_tool):
    pass

def test_passes():
    pass
"""
MODULE_SKIP = """
import pytest
pytest.importorskip("no_such_module_for_the_guard")

def test_never_collected():
    pass
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str) -> pytest.RunResult:
    pytester.makepyfile(test_ways=WAYS, test_module_skip=MODULE_SKIP)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return pytester.runpytest_subprocess(
        "-p", "tests.ci_guard", "-p", "no:cacheprovider", "--continue-on-collection-errors"
    )


def test_under_ci_every_skip_and_xfail_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = _run(pytester, monkeypatch, "true").parseoutcomes()
    # The module-level skip is a collection error; the xfail(run=False) is reported at setup.
    assert outcomes.get("passed") == 1
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 6, outcomes
    assert "skipped" not in outcomes and "xfailed" not in outcomes


def test_without_ci_they_skip_and_xfail(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = _run(pytester, monkeypatch, "").parseoutcomes()
    assert outcomes == {"passed": 1, "skipped": 3, "xfailed": 3}, outcomes
