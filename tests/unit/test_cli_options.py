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


# What only a reporting check does: more rounds, the dialogue past the handshake. `pins`
# looks at the chains of one round and lists none of them (they would change nothing).
ROUNDS_AND_DIALOGUE = {
    "--repeat",
    "--interval",
    "--slow-banner",
    "--pop3-user",
    "--pop3-password-file",
    "--probe-login",
}


def test_every_option_that_shapes_a_check_is_accepted_where_a_check_runs() -> None:
    shaping = _options("check") - NOT_SHAPING_THE_RUN
    assert {"--ca", "--timeout", "--pins", "--cert", "--deadline"} <= shaping
    assert ROUNDS_AND_DIALOGUE <= shaping
    assert shaping <= _options("bundle")
    chains = shaping - ROUNDS_AND_DIALOGUE
    assert chains <= _options("pins", "verify")
    # Learning compares with nothing: every other option of the run, no --pins.
    assert chains - {"--pins"} <= _options("pins", "learn")
    assert "--pins" not in _options("pins", "learn")


@pytest.mark.parametrize("command", [("pins", "learn"), ("pins", "verify")])
def test_pins_commands_list_no_option_that_does_nothing_there(command: tuple[str, ...]) -> None:
    assert _options(*command) & ROUNDS_AND_DIALOGUE == set()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
@pytest.mark.parametrize("option", ["--timeout", "--deadline", "--interval", "--slow-banner"])
def test_a_number_that_is_no_number_is_one_line_and_exit_3(option: str, value: str) -> None:
    result = run_cli("check", option, value, "--target", "127.0.0.1:1/tcp")
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and option in result.stderr, result.stderr
    # What is wanted, not a range check that `nan` fails in the wrong words.
    assert "is not a number of seconds from" in result.stderr, result.stderr


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


def _commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found += [(name, sub) for sub in subcommands]
        else:
            found.append((name,))
    return found


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_command_explains_every_option_and_shows_examples(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0
    examples = result.output.split("Examples:\n", 1)[1].splitlines()
    assert examples and all(line.strip().startswith("netdiag ") for line in examples if line)
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    unexplained = [p.name for p in command.params if not getattr(p, "help", None)]
    assert unexplained == [], f"{' '.join(path)}: no help for {unexplained}"


@pytest.mark.parametrize(
    "command",
    [["host"], ["trace", "127.0.0.1", "--port", "9", "--timeout", "1"]],
    ids=["host", "trace"],
)
def test_commands_with_one_answer_speak_the_language_asked_for(command: list[str]) -> None:
    """`--lang` on the commands beside check: German throughout, English as its twin."""
    german = run_cli(*command, "--lang", "de")
    english = run_cli(*command, "--lang", "en")
    assert "gesamt:" in german.stdout and "overall:" not in german.stdout, german.stdout
    assert "overall:" in english.stdout and "gesamt:" not in english.stdout, english.stdout
    assert german.exit_code == english.exit_code != 3
    wrong = run_cli(*command, "--lang", "fr")
    assert wrong.exit_code == 3 and wrong.stderr.strip() == "netdiag: --lang 'fr': de or en"


@pytest.mark.parametrize(
    ("args", "english", "german"),
    [
        (["check", "--bogus"], "No such option: --bogus", "Unbekannte Option: --bogus"),
        (
            ["check", "--timeout"],
            "Option '--timeout' requires an argument.",
            "Die Option '--timeout' braucht einen Wert.",
        ),
        (
            ["check", "extra1", "extra2"],
            "Got unexpected extra argument(s) (extra1 extra2)",
            "Unerwartete Argumente (extra1 extra2)",
        ),
        (
            ["check", "--format", "pdf"],
            "Invalid value for '--format': 'pdf' is not one of 'table', 'json', 'checkmk', 'html'.",
            "Ungültiger Wert für '--format': 'pdf' ist keiner der Werte 'table', 'json', "
            "'checkmk', 'html'.",
        ),
        (
            ["check", "--timeout", "0.01"],
            "Invalid value for '--timeout': '0.01' is not a number of seconds from 0.05 to 300.",
            "Ungültiger Wert für '--timeout': '0.01' ist keine Sekundenzahl von 0,05 bis 300.",
        ),
        (
            ["check", "--repeat", "x"],
            "Invalid value for '--repeat': 'x' is not a valid int range.",
            "Ungültiger Wert für '--repeat': 'x' ist keine ganze Zahl.",
        ),
        (
            ["check", "--repeat", "0"],
            "Invalid value for '--repeat': 0 is not in the range 1<=x<=100.",
            "Ungültiger Wert für '--repeat': 0 liegt nicht im Bereich 1<=x<=100.",
        ),
        (
            ["trace", "x", "--port", "70000"],
            "Invalid value for '--port': 70000 is not in the range 1<=x<=65535.",
            "Ungültiger Wert für '--port': 70000 liegt nicht im Bereich 1<=x<=65535.",
        ),
        (["trace"], "Missing argument 'HOST'.", "Es fehlt das Argument 'HOST'."),
    ],
)
def test_usage_errors_speak_the_language_of_the_run(
    args: list[str], english: str, german: str
) -> None:
    """click's usage errors, one line and exit 3, in German under --lang de; English as
    click words them."""
    said_en = run_cli(args[0], "--lang", "en", *args[1:])
    said_de = run_cli(args[0], "--lang", "de", *args[1:])
    assert said_en.exit_code == said_de.exit_code == 3
    assert said_en.stderr.strip().startswith(f"netdiag: {english}"), said_en.stderr
    assert said_de.stderr.strip().startswith(f"netdiag: {german}"), said_de.stderr


def test_the_profile_and_pin_commands_speak_the_language_asked_for(tmp_path: Path) -> None:
    """targets, pins show and proxies in German throughout; English as their twin."""
    from netdiag.trust.pins import PinSet, parse_pins, save_pins
    from tests.unit.test_pin_files import DOCUMENT

    pins = tmp_path / "pins.toml"
    save_pins(pins, parse_pins(DOCUMENT, "x"))
    german = run_cli("targets", "--only", "995", "--lang", "de").stdout
    assert german.startswith("Profil: connectMT") and "Dienst" in german and "service" not in german
    english = run_cli("targets", "--only", "995", "--lang", "en").stdout
    assert english.startswith("profile: connectMT") and "service" in english
    shown = run_cli("pins", "show", "--pins", str(pins), "--lang", "de").stdout
    assert shown.startswith(f"Pin-Dateien: {pins}")
    assert "deckt ab" in shown and "Endpunkte" in shown and "covers" not in shown
    assert "Client-Zertifikat verlangt: nein" in shown
    empty = tmp_path / "empty.toml"
    save_pins(empty, PinSet())
    nothing = run_cli("pins", "show", "--pins", str(empty), "--lang", "de")
    assert nothing.stdout.strip() == f"keine Pins (angesehene Dateien: {empty})"
    assert nothing.exit_code == 1
