"""A profile read whole: every field of `Profile` from a document that sets it and from one
that leaves it out, the `[host]` table handed on with the profile's name, the file's own
errors by kind (missing, too large) in both languages, and the selection of targets when
nothing is selected."""

from __future__ import annotations

from pathlib import Path

import pytest

from netdiag.settings.host_requirements import HostRequirements, parse_host_requirements
from netdiag.settings.targets import (
    MAX_PROFILE,
    ProfileError,
    Service,
    Target,
    load_profile,
    parse_profile,
    select_targets,
    valid_host,
)

HOST = {"cpu_cores": 2, "memory_gb": 4, "supported_os": ["Windows Server 2022"]}
ENDPOINTS = [{"host": "mail1.example", "port": 995, "service": "pop3s", "group": "mail"}]


def test_every_field_of_a_profile_that_sets_them() -> None:
    data = {
        "name": "Klinikum Nord",
        "description": "Gateway im Keller",
        "endpoints": ENDPOINTS,
        "expected_networks": ["10.1.0.0/16"],
        "host": HOST,
    }
    profile = parse_profile(data, "clinic.toml")
    assert profile.name == "Klinikum Nord"
    assert profile.description == "Gateway im Keller"
    assert profile.targets == (
        Target(host="mail1.example", port=995, service=Service.POP3S, group="mail"),
    )
    assert [str(n) for n in profile.expected_networks] == ["10.1.0.0/16"]
    assert profile.host == parse_host_requirements(HOST, "clinic.toml")
    assert profile.host != HostRequirements()


def test_a_profile_that_leaves_them_out() -> None:
    profile = parse_profile({"endpoints": ENDPOINTS}, "/etc/netdiag/clinic.toml")
    assert profile.name == "clinic"  # the file's name
    assert profile.description == ""
    assert profile.host == HostRequirements()
    assert profile.expected_networks == ()


def test_a_broken_host_table_is_named_by_the_profile() -> None:
    with pytest.raises(ProfileError) as raised:
        parse_profile({"endpoints": ENDPOINTS, "host": "eight cores"}, "clinic.toml")
    assert str(raised.value).startswith("clinic.toml")


def test_the_profile_files_own_errors_name_it_by_kind(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ProfileError) as raised:
        load_profile(missing)
    assert str(raised.value).startswith(f"cannot read profile {missing}: ")
    assert raised.value.text("de").startswith(f"Profil {missing} ist nicht lesbar: ")
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_PROFILE + 1))
    with pytest.raises(ProfileError) as raised:
        load_profile(big)
    assert str(raised.value).startswith(f"profile {big} is larger than ")


def test_the_built_in_profile_reads_its_words_as_utf_8() -> None:
    profile = load_profile()
    assert profile.name and profile.targets
    assert all(t.host.isascii() for t in profile.targets)


@pytest.mark.parametrize("only", [[], ["  "], [" ", ""]])
def test_selecting_nothing_keeps_every_target_in_order(only: list[str]) -> None:
    targets = [
        Target(host=f"mail{n}.example", port=25, service=Service.SMTP_STARTTLS) for n in (2, 1)
    ]
    assert select_targets(iter(targets), only) == tuple(targets)


@pytest.mark.parametrize(
    ("text", "host"),
    [("MAILX", "MAILX"), (" mail1.example. ", "mail1.example"), ("X.example.", "X.example")],
)
def test_a_host_loses_only_spaces_and_its_trailing_dot(text: str, host: str) -> None:
    assert valid_host(text, "--target") == host
