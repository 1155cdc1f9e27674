"""The README documents every finding code of the catalogue."""

from __future__ import annotations

from pathlib import Path

from netdiag.diagnosis.catalogue import CATALOGUE

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_code_is_documented() -> None:
    text = README.read_text("utf-8")
    missing = [code for code in CATALOGUE if f"`{code}`" not in text]
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    blocks = README.read_text("utf-8").split("```sh\n")[1:3]
    commands = [block.split("\n```")[0].strip() for block in blocks]
    assert commands == [
        "pip install . && netdiag check",
        "pip install -e '.[test]' && python -m pytest",
    ]


def test_the_example_pin_file_parses() -> None:
    from netdiag.trust.pins import load_pins

    example = README.parent / "certs" / "example-pins.toml"
    pins = load_pins([example])
    assert len(pins.pins) == 1 and pins.records[0].endpoint == "mail1.dicommail.com:25"


def test_every_code_has_a_german_title_and_remedy() -> None:
    import tomllib

    german = tomllib.loads(
        (README.parent / "netdiag" / "data" / "catalogue_de.toml").read_text("utf-8")
    )
    assert sorted(set(CATALOGUE) - set(german)) == []
    for code, entry in german.items():
        assert entry["title"] and ("remedy" in entry), code
