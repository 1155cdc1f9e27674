"""The process's entry point (issue 31): the `netdiag` command, `python -m netdiag` and
netdiag.exe run `main` and then freeze the run's objects for the garbage collector, so that
the interpreter's final collection does not walk them at exit; the whole output still
arrives and the exit code is main's. The library call `main` freezes nothing: tests,
benchmarks and other in-process callers keep a collected heap."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import socket
import subprocess
import sys

from netdiag.cli import entry_point, main

FROZEN_AFTER = """
import gc, sys
sys.argv = ["netdiag", *sys.argv[1:]]
from netdiag.cli import {function}
code = {function}({args})
sys.stderr.write(f"\\nexit={{code}} frozen={{gc.get_freeze_count()}}\\n")
"""


def _run(function: str, args: str, *argv: str) -> tuple[str, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", FROZEN_AFTER.format(function=function, args=args), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    last = done.stderr.strip().splitlines()[-1]
    fields = dict(field.split("=") for field in last.split())
    return done.stdout, int(fields["exit"]), int(fields["frozen"])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_runs_the_entry_point() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="netdiag")
    assert script.value == "netdiag.cli:entry_point"
    assert script.load() is entry_point


def test_python_dash_m_runs_the_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netdiag", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "netdiag" in done.stdout
    spec = importlib.util.find_spec("netdiag.__main__")
    assert spec is not None and spec.origin is not None
    source = spec.origin
    with open(source, encoding="utf-8") as handle:
        assert "SystemExit(entry_point())" in handle.read()


def test_a_whole_check_ends_frozen_with_its_output_and_exit_code() -> None:
    port = _closed_port()
    out, code, frozen = _run(
        "entry_point", "", "check", "--json", "--timeout", "2", "--target", f"127.0.0.1:{port}/tls"
    )
    report = json.loads(out)  # the whole report arrived, written before the freeze
    (endpoint,) = report["endpoints"]
    assert "tcp.refused" in [f["code"] for f in endpoint["findings"]]
    assert code == 2  # CRIT: what main says, not what freezing made of it
    assert frozen > 10_000  # the libraries' and the run's objects


def test_the_library_call_freezes_nothing() -> None:
    port = _closed_port()
    out, code, frozen = _run(
        "main", "sys.argv[1:]", "check", "--json", "--timeout", "2",
        "--target", f"127.0.0.1:{port}/tls",
    )  # fmt: skip
    assert "tcp.refused" in out
    assert code == 2
    assert frozen == 0


def test_a_usage_error_keeps_its_exit_code_through_the_entry_point() -> None:
    _, code, frozen = _run("entry_point", "", "check", "--no-such-option")
    assert code == main(["check", "--no-such-option"]) == 3
    assert frozen > 0
