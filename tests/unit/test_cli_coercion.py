"""netdiag's option coercion gives what typer's own would, for every option of every
command, valid or not; and a run never imports pydantic."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer

from netdiag.cli import app
from netdiag.cli.coercion import OptionCoercion, _leaf_type

# What a user types, for each kind of option: good values and bad ones.
SAMPLES: dict[Any, list[Any]] = {
    int: ["1", "25", "0", "-3", "70000", "x", "2.5"],
    float: ["0.05", "5", "300", "301", "0", "-1", "abc", "1e2"],
    str: ["de", "D:\\", ""],
    Path: ["certs/pins.toml", "/tmp/x.zip"],
}


def _typer_params() -> list[tuple[str, Any]]:
    command = typer.main.get_command(app)
    found = []

    def walk(cmd: Any, prefix: str) -> None:
        for param in cmd.params:
            if hasattr(param, "type_descriptor"):
                found.append((f"{prefix} {param.name}", param))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{prefix} {name}")

    walk(command, "netdiag")
    return found


def _outcome(coerce: Any, value: Any, param: Any) -> Any:
    try:
        return ("ok", coerce(value, param=param, ctx=None))
    except typer.BadParameter:
        return ("refused",)


PARAMS = _typer_params()


@pytest.mark.parametrize(("name", "param"), PARAMS, ids=[n for n, _ in PARAMS])
def test_same_values_as_typers_own_coercion(name: str, param: Any) -> None:
    from typer._coercion import build_runtime_param

    theirs = build_runtime_param(param.type_descriptor)
    ours = OptionCoercion(_leaf_type(param.type_descriptor.annotation))
    leaf = ours.leaf
    is_multiple = param.multiple or param.nargs == -1
    samples: list[Any] = [None]
    if isinstance(leaf, type) and issubclass(leaf, Enum):
        samples += [m.value for m in leaf] + ["nonsense"]
    elif leaf is bool:
        samples += [True, False]
    else:
        samples += SAMPLES[leaf]
    if is_multiple:
        samples = [None, *[[s] for s in samples if s is not None], list(samples[1:3])]
    for value in samples:
        assert _outcome(ours.coerce, value, param) == _outcome(theirs.coerce, value, param), (
            name,
            value,
        )


def test_every_option_is_covered() -> None:
    assert len(PARAMS) > 60  # every command's options, not an empty walk


def test_a_check_never_imports_pydantic(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from netdiag.cli import main\n"
        "code = main(['check', '--json', '--timeout', '0.5', '--target', '127.0.0.1:9/tcp'])\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
