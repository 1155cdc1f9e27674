"""Option values from their text, as the annotations say, the way click always did it.

typer (from 0.2x) builds a pydantic TypeAdapter for every parameter of the command that
runs, given or not: importing pydantic and building 25 adapters costs a `netdiag check`
about a third of a second on a gateway, every run — more than the network part of a
healthy check on a LAN. The options of netdiag are plain (text, numbers with a range,
paths, a choice, lists of these), so each parameter gets this small coercion instead.
Where typer's internals differ (another version), nothing is replaced and typer's own
coercion runs: slower, never different.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import typer

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def install(command: Any) -> None:
    """Give every typer parameter of `command` and its subcommands this coercion, the
    --help option that each context makes afresh included."""
    for param in getattr(command, "params", ()):
        _install(param)
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:

        def help_option(ctx: Any) -> Any:
            option = make_help(ctx)
            if option is not None:
                _install(option)
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        install(sub)


def _install(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and hasattr(param, "_runtime_param"):
        param._runtime_param = OptionCoercion(_leaf_type(descriptor.annotation))  # noqa: SLF001


def _leaf_type(annotation: Any) -> Any:
    """`list[Path] | None` → Path: what each single value becomes."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else str
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


class OptionCoercion:
    """Stands in for typer's runtime parameter: `coerce(value, param, ctx)`."""

    def __init__(self, leaf: Any) -> None:
        self.leaf = leaf

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        is_multiple = bool(getattr(param, "multiple", False)) or getattr(param, "nargs", 1) == -1
        if value is None:
            return () if is_multiple else None
        if is_multiple:
            if isinstance(value, str):
                raise typer.BadParameter("Value must be an iterable.", ctx=ctx, param=param)
            return [self.one(v, param, ctx) for v in value]
        return self.one(value, param, ctx)

    def one(self, value: Any, param: Any, ctx: Any) -> Any:
        leaf = self.leaf
        try:
            if leaf is bool:
                return _boolean(value)
            if leaf is int or leaf is float:
                number = leaf(value) if not isinstance(value, bool) else _refuse()
                return _in_range(number, getattr(param, "min", None), getattr(param, "max", None))
            if leaf is Path:
                return value if isinstance(value, Path) else Path(str(value))
            if isinstance(leaf, type) and issubclass(leaf, Enum):
                return leaf(value)
            if leaf is str:
                return str(value)
        except _OutOfRange as e:
            raise typer.BadParameter(str(e), ctx=ctx, param=param) from None
        except (TypeError, ValueError):
            raise typer.BadParameter(_invalid(value, leaf), ctx=ctx, param=param) from None
        return value


class _OutOfRange(Exception):
    pass


def _refuse() -> Any:
    raise ValueError


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _in_range(number: float, low: float | None, high: float | None) -> float:
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{low if low is not None else ''}<=x<={high if high is not None else ''}"
        raise _OutOfRange(f"{number} is not in the range {bounds}.")
    return number


def _invalid(value: Any, leaf: Any) -> str:
    if isinstance(leaf, type) and issubclass(leaf, Enum):
        choices = ", ".join(repr(m.value) for m in leaf)
        return f"{value!r} is not one of {choices}."
    name = {int: "integer", float: "float", bool: "boolean"}.get(
        leaf, getattr(leaf, "__name__", "value")
    )
    return f"{value!r} is not a valid {name}."
