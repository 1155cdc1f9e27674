"""Options declared once, accepted everywhere they mean the same, validated by typer and
click themselves: every option of `check` that shapes the run is an option of `bundle`,
`pins learn` and `pins verify`; numbers that are no number are one line and exit 3; --help
shows conventional metavars. No module of netdiag touches a private attribute of typer or
click."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from netdiag.cli import app
from tests.conftest import run_cli

PACKAGE = Path(__file__).resolve().parents[2] / "netdiag"
# What `check` does besides the run itself: where the output goes, extra steps after it.
NOT_SHAPING_THE_RUN = {
    "--trace",
    "--capture",
    "--capture-dir",
    "--host",
    "--data-drive",
    "--archive-drive",
    "--backup-dir",
    "--bundle",
    "--lang",
    "--redact",
    "--firewall",
    "--json",
    "--format",
    "--help",
}


def _options(*path: str) -> set[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {opt for p in command.params for opt in p.opts if opt.startswith("--")}


def test_every_option_that_shapes_a_check_is_accepted_where_a_check_runs() -> None:
    shaping = _options("check") - NOT_SHAPING_THE_RUN
    assert {"--ca", "--timeout", "--pins", "--cert", "--deadline"} <= shaping
    assert shaping <= _options("bundle")
    assert shaping <= _options("pins", "verify")
    # Learning compares with nothing: every other option of the run, no --pins.
    assert shaping - {"--pins"} <= _options("pins", "learn")
    assert "--pins" not in _options("pins", "learn")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
@pytest.mark.parametrize("option", ["--timeout", "--deadline", "--interval", "--slow-banner"])
def test_a_number_that_is_no_number_is_one_line_and_exit_3(option: str, value: str) -> None:
    result = run_cli("check", option, value, "--target", "127.0.0.1:1/tcp")
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and option in result.stderr, result.stderr


def test_help_shows_conventional_metavars() -> None:
    # Through the entry point, as a user sees it: typer carries its own copy of click, which
    # is not ours to import.
    result = CliRunner().invoke(app, ["check", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = result.output
    assert "--timeout SECONDS" in text and "--target HOST:PORT/SERVICE" in text
    assert "--ca FILE" in text and "--only TEXT" in text
    assert not re.search(r"<[a-z\[\]_ ]+>", text), re.findall(r"<[a-z\[\]_ ]+>", text)


def test_no_private_attribute_of_another_library_is_assigned() -> None:
    """`x._name = …` on anything but our own `self`: a library's internals, which change."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if re.search(r"\b(?!self\b)\w+\._[a-z]\w*\s*=[^=]", line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_a_long_invalid_host_name_is_refused_at_once() -> None:
    started = time.monotonic()
    result = run_cli("check", "--target", "a" * 31 + "!:25/tcp")
    long_one = run_cli("check", "--target", ("ab-" * 3400) + "!:25/tcp")
    elapsed = time.monotonic() - started
    assert result.exit_code == 3 and long_one.exit_code == 3
    assert elapsed < 1.0, f"two invalid names took {elapsed:.2f} s"


@pytest.mark.parametrize(
    ("name", "is_valid"),
    [
        ("mail1.dicommail.com", True),
        ("atlas79.mydhp.de", True),
        ("relay_01.klinik.local", True),
        ("a" * 63 + ".example", True),
        ("a" * 64 + ".example", False),
        ("-mail.example", False),
        ("mail-.example", False),
        ("mail..example", False),
        ("mail!.example", False),
        ("x." * 127, False),
        ("", False),
    ],
)
def test_host_names_label_by_label(name: str, is_valid: bool) -> None:
    from netdiag.settings.targets import is_host_name

    assert is_host_name(name) is is_valid
