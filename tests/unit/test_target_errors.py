"""What a wrong target or profile value is told, exactly and in both languages (issue 32,
the surviving mutants of host validation): the line names where the value came from (the
option or the profile's entry), quotes the value visibly (cut at 80 characters), and says
what is wanted; the boundaries themselves (port 1 and 65535, a name of 253 characters, a
trailing dot) are accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netdiag.errors import NetdiagError
from netdiag.settings.targets import parse_profile, parse_target, visible_repr

LONG = "a" * 254
LONGEST_NAME = ("a" * 63 + ".") * 3 + "a" * 61  # 253 characters


@pytest.mark.parametrize(
    ("text", "english", "german"),
    [
        (
            "nonsense",
            "--target 'nonsense': expected HOST:PORT/SERVICE, e.g. mail1.example:25/smtp-starttls",
            "--target 'nonsense': erwartet HOST:PORT/DIENST, z. B. mail1.example:25/smtp-starttls",
        ),
        (
            "mail1.example:0/tcp",
            "--target 'mail1.example:0/tcp': port must be a number from 1 to 65535, not 0",
            "--target 'mail1.example:0/tcp': der Port muss eine Zahl von 1 bis 65535 sein, nicht 0",
        ),
        (
            "mail1.example:65536/tcp",
            "--target 'mail1.example:65536/tcp': port must be a number from 1 to 65535, not 65536",
            "--target 'mail1.example:65536/tcp': der Port muss eine Zahl von 1 bis 65535 sein, "
            "nicht 65536",
        ),
        (
            "mail1.example:25/bogus",
            "--target 'mail1.example:25/bogus': unknown service 'bogus' (known: smtp-starttls, "
            "pop3s, tls, tcp)",
            "--target 'mail1.example:25/bogus': unbekannter Dienst 'bogus' (bekannt: "
            "smtp-starttls, pop3s, tls, tcp)",
        ),
        (
            "bad host!:25/tcp",
            "--target 'bad host!:25/tcp': 'bad host!' is neither a host name nor an IP address",
            "--target 'bad host!:25/tcp': 'bad host!' ist weder ein Hostname noch eine IP-Adresse",
        ),
        (
            f"{LONG}:25/tcp",
            f"--target '{'a' * 80}…': '{'a' * 80}…' is neither a host name nor an IP address",
            f"--target '{'a' * 80}…': '{'a' * 80}…' ist weder ein Hostname noch eine IP-Adresse",
        ),
    ],
    ids=["format", "port 0", "port 65536", "service", "host", "a name too long"],
)
def test_a_wrong_target_is_told_what_is_wanted(text: str, english: str, german: str) -> None:
    with pytest.raises(NetdiagError) as raised:
        parse_target(text)
    assert (raised.value.text("en"), raised.value.text("de")) == (english, german)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("mail1.example:1/tcp", "mail1.example", 1),
        ("mail1.example:65535/tcp", "mail1.example", 65535),
        ("mail1.example.:25/tcp", "mail1.example", 25),  # the root's dot is no part of it
        (f"{LONGEST_NAME}:25/tcp", LONGEST_NAME, 25),
    ],
)
def test_the_boundaries_are_accepted(text: str, host: str, port: int) -> None:
    target = parse_target(text)
    assert (target.host, target.port) == (host, port)


def test_a_value_is_quoted_whole_up_to_80_characters() -> None:
    assert visible_repr("x" * 80) == repr("x" * 80)
    assert visible_repr("x" * 81) == repr("x" * 80 + "…")
    assert visible_repr("a\nb") == "'a\\nb'"


def endpoint(**fields: object) -> dict[str, Any]:
    return {
        "name": "p",
        "endpoints": [{"host": "a.example", "port": 25, "service": "tcp", **fields}],
    }


@pytest.mark.parametrize(
    ("profile", "english", "german"),
    [
        (
            endpoint(port=True),
            "p.toml: endpoints #1: port must be a number from 1 to 65535, not True",
            "p.toml: endpoints #1: der Port muss eine Zahl von 1 bis 65535 sein, nicht True",
        ),
        (
            endpoint(port="25"),
            "p.toml: endpoints #1: port must be a number from 1 to 65535, not '25'",
            "p.toml: endpoints #1: der Port muss eine Zahl von 1 bis 65535 sein, nicht '25'",
        ),
        (
            {**endpoint(), "expected_networks": ["x"]},
            "p.toml: 'x' is not a network such as 10.0.0.0/8",
            "p.toml: 'x' ist kein Netz wie 10.0.0.0/8",
        ),
        (
            endpoint(service="bogus"),
            "p.toml: endpoints #1: unknown service 'bogus' (known: smtp-starttls, pop3s, tls, tcp)",
            "p.toml: endpoints #1: unbekannter Dienst 'bogus' (bekannt: smtp-starttls, pop3s, "
            "tls, tcp)",
        ),
        (
            endpoint(host="bad host"),
            "p.toml: endpoints #1: 'bad host' is neither a host name nor an IP address",
            "p.toml: endpoints #1: 'bad host' ist weder ein Hostname noch eine IP-Adresse",
        ),
    ],
    ids=["port true", "port text", "network", "service", "host"],
)
def test_a_wrong_profile_value_is_told_where_and_what(
    profile: dict[str, Any], english: str, german: str
) -> None:
    with pytest.raises(NetdiagError) as raised:
        parse_profile(profile, "p.toml")
    assert (raised.value.text("en"), raised.value.text("de")) == (english, german)


def test_an_expected_network_is_read_as_the_network_its_address_is_in() -> None:
    profile = parse_profile({**endpoint(), "expected_networks": ["10.0.0.1/8"]}, "p.toml")
    assert [str(n) for n in profile.expected_networks] == ["10.0.0.0/8"]


def test_a_whole_profile_is_read_as_written() -> None:
    """Every field, from a document with two entries: names in order and once each, the
    service's default, groups, description, networks."""
    from netdiag.settings.targets import Profile, Service, Target

    document = {
        "name": "clinic",
        "description": "the vendor's hosts",
        "expected_networks": ["10.0.0.0/8"],
        "endpoints": [
            {"hosts": ["mail1.example", "mail2.example", "mail1.example"], "port": 25,
             "service": "smtp-starttls", "group": "mail"},
            {"host": "192.0.2.7", "port": 8140},
        ],
    }  # fmt: skip
    profile = parse_profile(document, "clinic.toml")
    assert profile == Profile(
        name="clinic",
        description="the vendor's hosts",
        targets=(
            Target(host="mail1.example", port=25, service=Service.SMTP_STARTTLS, group="mail"),
            Target(host="mail2.example", port=25, service=Service.SMTP_STARTTLS, group="mail"),
            Target(host="192.0.2.7", port=8140, service=Service.TCP, group=""),
        ),
        expected_networks=profile.expected_networks,
        source="clinic.toml",
        host=profile.host,
    )
    assert [str(n) for n in profile.expected_networks] == ["10.0.0.0/8"]
    # Without a name, the file's own.
    assert parse_profile({"endpoints": document["endpoints"]}, "/x/clinic.toml").name == "clinic"


@pytest.mark.parametrize(
    ("document", "english", "german"),
    [
        ({"name": "p"}, "p.toml: no [[endpoints]] table", "p.toml: keine Tabelle [[endpoints]]"),
        (
            {"endpoints": ["x"]},
            "p.toml: endpoints #1: not a table",
            "p.toml: endpoints #1: keine Tabelle",
        ),
        (
            {"endpoints": [{"port": 25}]},
            "p.toml: endpoints #1: needs 'host' or a list 'hosts'",
            "p.toml: endpoints #1: braucht „host“ oder eine Liste „hosts“",
        ),
        (
            {"endpoints": [{"host": "a.example", "port": 25}, {"hosts": [], "port": 25}]},
            "p.toml: endpoints #2: needs 'host' or a list 'hosts'",
            "p.toml: endpoints #2: braucht „host“ oder eine Liste „hosts“",
        ),
        (
            {**endpoint(), "expected_networks": "10.0.0.0/8"},
            "p.toml: expected_networks must be a list",
            "p.toml: expected_networks muss eine Liste sein",
        ),
    ],
    ids=["no endpoints", "not a table", "no host", "the second entry", "networks not a list"],
)
def test_a_wrong_profile_shape_is_told_where(
    document: dict[str, Any], english: str, german: str
) -> None:
    with pytest.raises(NetdiagError) as raised:
        parse_profile(document, "p.toml")
    assert (raised.value.text("en"), raised.value.text("de")) == (english, german)


def test_too_many_endpoints_are_refused() -> None:
    from netdiag.settings.targets import MAX_ENDPOINTS

    hosts = [f"h{n}.example" for n in range(MAX_ENDPOINTS + 1)]
    with pytest.raises(NetdiagError) as raised:
        parse_profile({"endpoints": [{"hosts": hosts, "port": 25}]}, "p.toml")
    assert raised.value.text("en") == (
        f"p.toml: {MAX_ENDPOINTS + 1} endpoints, at most {MAX_ENDPOINTS}"
    )
    assert raised.value.text("de") == (
        f"p.toml: {MAX_ENDPOINTS + 1} Endpunkte, höchstens {MAX_ENDPOINTS}"
    )
    assert len(parse_profile({"endpoints": [{"hosts": hosts[:-1], "port": 25}]}, "p").targets) == (
        MAX_ENDPOINTS
    )


def test_a_profile_file_that_is_no_toml_is_named(tmp_path: Path) -> None:
    from netdiag.settings.targets import load_profile

    path = tmp_path / "broken.toml"
    path.write_text("name = [", "utf-8")
    with pytest.raises(NetdiagError) as raised:
        load_profile(path)
    assert raised.value.text("en").startswith(f"{path} is not valid TOML: ")
    assert raised.value.text("de").startswith(f"{path} ist kein gültiges TOML: ")
    good = tmp_path / "good.toml"
    good.write_text('name = "g"\n[[endpoints]]\nhost = "a.example"\nport = 25\n', "utf-8")
    assert load_profile(good).source == str(good)
    assert [t.label for t in load_profile(good).targets] == ["a.example:25"]
