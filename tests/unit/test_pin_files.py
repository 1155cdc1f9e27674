"""Pin files, the proof's own input (issue 32, the surviving mutants of
`netdiag.trust.pins`): a file is read as written, field by field and with its defaults;
whatever strings a pin holds are written and read back unchanged (input is data: any
subject, source or name, quotes and newlines included); a file of another shape is told
where and what, in English and German; the files found without `--pins` are found in their
order with their reason."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.errors import NetdiagError
from netdiag.trust.pins import (
    FORMAT,
    EndpointRecord,
    Pin,
    PinFile,
    PinFileReason,
    PinSet,
    load_pins,
    parse_pins,
    pin_file_reasons,
    render_pins,
    save_pins,
)

SPKI = "ab" * 32
DOCUMENT: dict[str, object] = {
    "format": FORMAT,
    "pins": [
        {"subject": "CN=Vendor Issuing CA", "spki_sha256": SPKI.upper(), "role": "issuing",
         "applies_to": ["dicommail", "mail1.dicommail.com"], "source": "learned",
         "added": "2026-12-01T10:00:00+00:00", "pem": "-----BEGIN CERTIFICATE-----",
         "issuer": "CN=Vendor Root CA", "issuer_key_id": "0a0b"},
        {"subject": "CN=Vendor Root CA", "spki_sha256": "cd" * 32},
    ],
    "endpoints": [
        {"endpoint": "mail1.dicommail.com:25", "was_client_cert_requested": False,
         "client_ca_names": "CN=Vendor Root CA", "fingerprint": "TLSv1.3/x"},
        {"endpoint": "atlas79.mydhp.de:8140"},
    ],
}  # fmt: skip


def test_a_pin_file_is_read_as_written_with_its_defaults() -> None:
    pin_set = parse_pins(DOCUMENT, "pins.toml", PinFileReason.USER)
    assert pin_set == PinSet(
        pins=(
            Pin(
                spki_sha256=SPKI,  # lower case, as every comparison expects
                subject="CN=Vendor Issuing CA",
                role="issuing",
                applies_to=("dicommail", "mail1.dicommail.com"),
                source="learned",
                added="2026-12-01T10:00:00+00:00",
                pem="-----BEGIN CERTIFICATE-----",
                file="pins.toml",
                issuer="CN=Vendor Root CA",
                issuer_key_id="0a0b",
            ),
            Pin(
                spki_sha256="cd" * 32,
                subject="CN=Vendor Root CA",
                role="issuing",
                applies_to=("*",),
                source="",
                added="",
                file="pins.toml",
            ),
        ),
        records=(
            EndpointRecord(
                endpoint="mail1.dicommail.com:25",
                was_client_cert_requested=False,
                client_ca_names=("CN=Vendor Root CA",),
                fingerprint="TLSv1.3/x",
            ),
            EndpointRecord(
                endpoint="atlas79.mydhp.de:8140",
                was_client_cert_requested=True,
                client_ca_names=(),
                fingerprint="",
            ),
        ),
        sources=("pins.toml",),
        files=(PinFile("pins.toml", PinFileReason.USER, 2),),
    )


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    subject=TEXT,
    source=TEXT,
    applies=st.lists(TEXT, min_size=1, max_size=3),
    names=st.lists(TEXT, max_size=3),
    issuer=TEXT,
)
def test_whatever_a_pin_holds_is_written_and_read_back_unchanged(
    subject: str, source: str, applies: list[str], names: list[str], issuer: str
) -> None:
    written = PinSet(
        pins=(
            Pin(
                spki_sha256=SPKI,
                subject=subject,
                role="root",
                applies_to=tuple(applies),
                source=source,
                added="2026-12-01",
                pem="-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n",
                file="p",
                issuer=issuer,
                issuer_key_id="ff" if issuer else "",
            ),
        ),
        records=(
            EndpointRecord(
                endpoint=subject or "e",
                was_client_cert_requested=False,
                client_ca_names=tuple(names),
                fingerprint=source,
            ),
        ),
    )
    import tomllib

    read = parse_pins(tomllib.loads(render_pins(written)), "p")
    assert read.pins == written.pins and read.records == written.records


@pytest.mark.parametrize(
    ("document", "english", "german"),
    [
        (
            {"pins": []},
            "p.toml is not a netdiag pin file (format = 'netdiag.pins/1' missing)",
            "p.toml ist keine Pin-Datei von netdiag (format = 'netdiag.pins/1' fehlt)",
        ),
        (
            {"format": FORMAT, "pins": {"subject": "x"}},
            "p.toml: [[pins]] must be a list of tables",
            "p.toml: [[pins]] muss eine Liste von Tabellen sein",
        ),
        (
            {"format": FORMAT, "pins": [{"subject": "a", "spki_sha256": SPKI}, "x"]},
            "p.toml: pins #2: not a table",
            "p.toml: pins #2: keine Tabelle",
        ),
        (
            {"format": FORMAT, "pins": [{"subject": "a", "spki_sha256": "ab" * 31}]},
            "p.toml: pins #1: spki_sha256 must be 64 hexadecimal digits",
            "p.toml: pins #1: spki_sha256 muss aus 64 Hexadezimalziffern bestehen",
        ),
        (
            {"format": FORMAT, "pins": [{"subject": "a", "spki_sha256": "g" * 64}]},
            "p.toml: pins #1: spki_sha256 must be 64 hexadecimal digits",
            "p.toml: pins #1: spki_sha256 muss aus 64 Hexadezimalziffern bestehen",
        ),
        (
            {"format": FORMAT, "pins": [{"spki_sha256": SPKI}]},
            "p.toml: pins #1: 'subject' is missing or not a string",
            "p.toml: pins #1: „subject“ fehlt oder ist keine Zeichenkette",
        ),
        (
            {"format": FORMAT, "pins": [{"subject": "a", "spki_sha256": SPKI, "applies_to": 3}]},
            "p.toml: pins #1: 'applies_to' must be a string or a list of strings",
            "p.toml: pins #1: „applies_to“ muss eine Zeichenkette oder eine Liste davon sein",
        ),
        (
            {"format": FORMAT, "endpoints": [{"endpoint": "e", "was_client_cert_requested": 1}]},
            "p.toml: endpoints #1: was_client_cert_requested must be true or false",
            "p.toml: endpoints #1: was_client_cert_requested muss true oder false sein",
        ),
        (
            {"format": FORMAT, "endpoints": [{"endpoint": "e", "client_ca_names": [1]}]},
            "p.toml: endpoints #1: 'client_ca_names' must be a string or a list of strings",
            "p.toml: endpoints #1: „client_ca_names“ muss eine Zeichenkette oder eine Liste "
            "davon sein",
        ),
    ],
    ids=["format", "pins not a list", "a pin not a table", "short spki", "not hex",
         "no subject", "applies_to", "requested", "ca names"],
)  # fmt: skip
def test_a_pin_file_of_another_shape_is_told_where_and_what(
    document: dict[str, object], english: str, german: str
) -> None:
    with pytest.raises(NetdiagError) as raised:
        parse_pins(dict(document), "p.toml")
    assert (raised.value.text("en"), raised.value.text("de")) == (english, german)


def test_pin_files_are_saved_read_merged_and_refused_in_one_line(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "pins.toml", tmp_path / "b.toml"
    save_pins(first, parse_pins(DOCUMENT, "x"))
    save_pins(second, PinSet(pins=(parse_pins(DOCUMENT, "x").pins[1],)))
    merged = load_pins([first, second], {second: PinFileReason.CWD})
    assert merged.files == (
        PinFile(str(first), PinFileReason.GIVEN, 2),
        PinFile(str(second), PinFileReason.CWD, 1),
    )
    # The same pin (key and scope) in two files counts once, as the later file says it.
    assert [(p.subject, p.file) for p in merged.pins] == [
        ("CN=Vendor Issuing CA", str(first)),
        ("CN=Vendor Root CA", str(second)),
    ]
    broken = tmp_path / "broken.toml"
    broken.write_text("format = [", "utf-8")
    with pytest.raises(NetdiagError) as raised:
        load_pins([broken])
    assert raised.value.text("en").startswith(f"pin file {broken} is not valid TOML: ")
    assert raised.value.text("de").startswith(f"die Pin-Datei {broken} ist kein gültiges TOML: ")
    with pytest.raises(NetdiagError) as refused:
        save_pins(broken / "below-a-file.toml", PinSet())
    assert refused.value.text("en").startswith(f"cannot write pin file {broken}/below-a-file")
    assert "lässt sich nicht schreiben" in refused.value.text("de")


def test_the_pin_files_found_without_pins_in_order_with_their_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile_dir, work, user = tmp_path / "profile", tmp_path / "work", tmp_path / "user"
    for folder in (profile_dir / "certs", work / "certs", user):
        folder.mkdir(parents=True)
    for path in (profile_dir / "certs" / "pins.toml", work / "certs" / "pins.toml"):
        path.write_text(f'format = "{FORMAT}"\n', "utf-8")
    (user / "pins.toml").write_text(f'format = "{FORMAT}"\n', "utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setenv("NETDIAG_CONFIG_DIR", str(user))
    found = pin_file_reasons(profile_dir / "clinic.toml")
    assert list(found.items()) == [
        ((profile_dir / "certs" / "pins.toml").resolve(), PinFileReason.PROFILE),
        (work / "certs" / "pins.toml", PinFileReason.CWD),
        (user / "pins.toml", PinFileReason.USER),
    ]
    # The same file reached twice keeps its first reason.
    assert pin_file_reasons(work / "clinic.toml") == {
        work / "certs" / "pins.toml": PinFileReason.PROFILE,
        user / "pins.toml": PinFileReason.USER,
    }


@pytest.mark.parametrize(
    ("platform", "environment", "expected"),
    [
        ("linux", {"NETDIAG_CONFIG_DIR": "/srv/nd"}, "/srv/nd"),
        ("win32", {"NETDIAG_CONFIG_DIR": "/srv/nd", "APPDATA": "/w"}, "/srv/nd"),
        ("win32", {"APPDATA": "/w/AppData/Roaming"}, "/w/AppData/Roaming/netdiag"),
        ("win32", {"XDG_CONFIG_HOME": "/x"}, "/x/netdiag"),  # no APPDATA: as elsewhere
        ("linux", {"APPDATA": "/w", "XDG_CONFIG_HOME": "/x"}, "/x/netdiag"),
        ("linux", {"HOME": "/home/admin"}, "/home/admin/.config/netdiag"),
        ("linux", {"NETDIAG_CONFIG_DIR": "", "XDG_CONFIG_HOME": ""}, "/home/admin/.config/netdiag"),
    ],
)  # fmt: skip
def test_the_users_configuration_folder(
    platform: str, environment: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from netdiag.trust.pins import config_dir

    for variable in ("NETDIAG_CONFIG_DIR", "APPDATA", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", "/home/admin")
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert config_dir() == Path(expected)


def test_a_pin_file_is_written_as_utf_8_into_folders_made_for_it(tmp_path: Path) -> None:
    pins = parse_pins(DOCUMENT, "x")
    path = tmp_path / "a" / "b" / "pins.toml"
    save_pins(path, pins)
    assert path.read_bytes().decode("utf-8") == render_pins(pins)
    assert load_pins([path]).pins == tuple(
        dataclasses.replace(p, file=str(path)) for p in pins.pins
    )


def test_a_pin_file_that_cannot_be_written_says_why_in_both_languages(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        path = folder / "pins.toml"
        if os.access(folder, os.W_OK):  # root writes anywhere: a file where a folder must be
            path = tmp_path / "file"
            path.write_text("", "utf-8")
            path = path / "pins.toml"
        with pytest.raises(NetdiagError) as refused:
            save_pins(path, PinSet())
        reason = str(refused.value).removeprefix(f"cannot write pin file {path}: ")
        # The system's own words (as root: a file stands where the folder must be).
        assert reason in ("Permission denied", "File exists"), str(refused.value)
        assert refused.value.text("de") == (
            f"die Pin-Datei {path} lässt sich nicht schreiben: {reason}"
        )
    finally:
        folder.chmod(0o700)


PIN_FIELDS = ["spki_sha256", "subject", "role", "source", "added", "pem", "issuer",
              "issuer_key_id"]  # fmt: skip
RECORD_FIELDS = ["endpoint", "fingerprint"]


@pytest.mark.parametrize(
    ("table", "field"),
    [("pins", f) for f in PIN_FIELDS] + [("endpoints", f) for f in RECORD_FIELDS],
)
def test_a_field_of_the_wrong_type_is_named_with_its_table(table: str, field: str) -> None:
    """Every text field refuses a number, naming the file, the table and its number."""
    document = {
        "format": FORMAT,
        "pins": [dict(DOCUMENT["pins"][1])],  # type: ignore[index]
        "endpoints": [dict(DOCUMENT["endpoints"][1])],  # type: ignore[index]
    }
    document[table][0][field] = 5  # type: ignore[index]
    with pytest.raises(NetdiagError) as refused:
        parse_pins(document, "pins.toml")
    assert str(refused.value) == f"pins.toml: {table} #1: '{field}' is missing or not a string"
    assert refused.value.text("de") == (
        f"pins.toml: {table} #1: „{field}“ fehlt oder ist keine Zeichenkette"
    )


@pytest.mark.parametrize("spki", ["X" * 64, "ab" * 31 + "xx", "ab" * 31 + "0g"])
def test_a_key_hash_that_is_not_hexadecimal_is_refused(spki: str) -> None:
    document = {"format": FORMAT, "pins": [{"subject": "CN=x", "spki_sha256": spki}]}
    with pytest.raises(NetdiagError, match="spki_sha256 must be 64 hexadecimal digits"):
        parse_pins(document, "pins.toml")


def test_the_record_of_an_endpoint_is_its_own() -> None:
    from netdiag.settings.targets import Service, Target

    pin_set = parse_pins(DOCUMENT, "pins.toml")
    atlas = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS)
    mail = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    other = Target(host="mail2.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    assert pin_set.record_for(atlas) == pin_set.records[1]
    assert pin_set.record_for(mail) == pin_set.records[0]
    assert pin_set.record_for(other) is None


def test_the_default_pin_files_are_the_found_ones_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netdiag.trust.pins import default_pin_files

    profile_dir = tmp_path / "profiles"
    (profile_dir / "certs").mkdir(parents=True)
    (profile_dir / "certs" / "pins.toml").write_text("", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETDIAG_CONFIG_DIR", str(tmp_path / "user"))
    profile = profile_dir / "clinic.toml"
    assert default_pin_files(profile) == list(pin_file_reasons(profile))
    assert default_pin_files(profile) == [profile_dir / "certs" / "pins.toml"]
    assert default_pin_files(None) == []


def test_a_pin_file_that_cannot_be_read_is_named_as_one(tmp_path: Path) -> None:
    missing = tmp_path / "pins.toml"
    with pytest.raises(NetdiagError) as refused:
        load_pins([missing])
    assert str(refused.value).startswith(f"cannot read pin file {missing}: ")
