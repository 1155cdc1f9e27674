"""`netdiag diff` of files that are not what they claim: any part of a report replaced by
any JSON value is one line and exit 3 (or a comparison), never an internal error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.diagnosis.catalogue import finding
from netdiag.renderers.diff import DiffError, diff_reports, load_report
from netdiag.renderers.json import render_json
from netdiag.report.model import EndpointResult, Report
from netdiag.settings.targets import Service, Target

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _report() -> dict[str, Any]:
    target = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    endpoint = EndpointResult(target=target, findings=(finding("tcp.refused", "refused"),))
    report = Report(started=datetime(2026, 12, 2, tzinfo=UTC), duration_s=1, endpoints=(endpoint,))
    document: dict[str, Any] = json.loads(render_json(report))
    return document


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


PATHS = _paths(_report())


@settings(max_examples=200, deadline=None)
@given(where=st.sampled_from(PATHS), value=JSON)
def test_a_report_broken_anywhere_is_one_line(where: tuple[Any, ...], value: Any) -> None:
    import tempfile

    broken = _replaced(_report(), where, value)
    with tempfile.TemporaryDirectory() as directory:
        good, bad = Path(directory) / "good.json", Path(directory) / "bad.json"
        good.write_text(json.dumps(_report()), "utf-8")
        bad.write_text(json.dumps(broken), "utf-8")
        try:
            diff_reports(load_report(good), load_report(bad))
            diff_reports(load_report(bad), load_report(good))
        except DiffError as e:
            assert "\n" not in str(e) and "bad.json" in str(e)


def test_a_report_without_endpoints_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"schema": "netdiag.report/1", "status": "ok"}), "utf-8")
    try:
        load_report(path)
    except DiffError as e:
        assert "'endpoints' is not a list" in str(e)
    else:
        raise AssertionError("a report without endpoints was taken")
