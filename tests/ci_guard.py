"""A pytest plugin: under CI=true nothing may silently stop running. A skip (in a test, a
fixture, or a module's `importorskip` at collection) and an expected failure (`xfail`,
marked or called, run or not) fail the run; a green CI with skips would hide work not done.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _fail_under_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI=true nothing may silently stop running: a skip (in a test, a fixture or at a
    module's import) and an expected failure (`xfail`, marked or called, run or not) fail."""
    if not IN_CI:
        return
    if hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"xfail under CI=true, which must pass everything: {report.wasxfail}"
    elif report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which must run everything: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _fail_under_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_under_ci(outcome.get_result())
