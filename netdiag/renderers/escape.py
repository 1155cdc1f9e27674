"""Text that servers and files chose, made safe for a terminal, a ticket and a console:
every control character shown as an escape (`\\x1b`, `\\x0a`, `\\u202e`), never written.

A banner holding `ESC[2J` would clear the administrator's screen and print a fake verdict;
a certificate name holding a line break would start a line of its own in report.txt; a
right-to-left override would reorder what a reader sees. Every text renderer gets the report
through `visible_report`: the structure (line breaks, columns) is netdiag's own, every
field is one line of visible characters. JSON keeps the measured text (its own escaping
is exact)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, TypeVar

from netdiag.console import CONTROL, visible

T = TypeVar("T")


def visible_report(value: T) -> T:
    """`value` (a report, or any of its parts) with `visible` applied to every string of
    it; enums, numbers, dates and bytes as they are."""
    return _visible(value)  # type: ignore[no-any-return]


def _visible(value: Any) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return visible(value) if CONTROL.search(value) else value
    if isinstance(value, tuple):
        return tuple(_visible(v) for v in value)
    if isinstance(value, list):
        return [_visible(v) for v in value]
    if isinstance(value, dict):
        return {_visible(k): _visible(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            if not field.init:
                continue
            old = getattr(value, field.name)
            new = _visible(old)
            if new is not old:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


__all__ = ["visible", "visible_report"]
