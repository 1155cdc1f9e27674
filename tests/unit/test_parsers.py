"""Parsers of user input and of kernel data, with property-based tests."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netdiag.errors import ProfileError, UsageError
from netdiag.probes.tcp import parse_extended_error
from netdiag.settings.config import parse_resolver
from netdiag.settings.targets import (
    PROFILE_SERVICES,
    Service,
    load_profile,
    parse_profile,
    parse_target,
    select_targets,
)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
HOSTNAME = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
PORT = st.integers(1, 65535)


@given(HOSTNAME, PORT, st.sampled_from(PROFILE_SERVICES))
def test_target_round_trip(host: str, port: int, service: Service) -> None:
    target = parse_target(f"{host}:{port}/{service.value}")
    assert (target.host, target.port, target.service) == (host, port, service)


def test_icmp_is_no_service_a_target_may_name() -> None:
    with pytest.raises(UsageError, match="unknown service 'icmp'"):
        parse_target("mail1.dicommail.com:25/icmp")


@given(st.ip_addresses(v=6), PORT)
def test_ipv6_target(address: object, port: int) -> None:
    target = parse_target(f"[{address}]:{port}")
    assert (
        target.host == str(address) and target.service is Service.TCP and target.is_address_literal
    )


@given(st.text(max_size=40))
def test_parse_target_never_crashes(text: str) -> None:
    try:
        parse_target(text)
    except UsageError as e:
        assert "--target" in str(e)


@pytest.mark.parametrize(
    ("text", "address", "port"),
    [
        ("10.0.0.53", "10.0.0.53", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:5353", "::1", 5353),
        ("::1", "::1", 53),
    ],
)
def test_parse_resolver(text: str, address: str, port: int) -> None:
    spec = parse_resolver(text)
    assert (spec.address, spec.port) == (address, port)


@given(st.text(max_size=30))
def test_parse_resolver_never_crashes(text: str) -> None:
    try:
        parse_resolver(text)
    except UsageError as e:
        assert "--resolver" in str(e)


def test_built_in_profile_has_the_connectmt_endpoints() -> None:
    profile = load_profile()
    got = {(t.host, t.port, t.service.value) for t in profile.targets}
    expected = {(f"mail{n}.dicommail.com", 25, "smtp-starttls") for n in range(1, 7)}
    expected |= {(f"mail{n}.dicommail.com", 995, "pop3s") for n in range(1, 7)}
    expected |= {("atlas79.mydhp.de", 8140, "tls")}
    assert got == expected and len(profile.targets) == 13


def test_select_targets() -> None:
    targets = load_profile().targets
    assert {t.host for t in select_targets(targets, ["mail3"])} == {"mail3.dicommail.com"}
    assert {t.port for t in select_targets(targets, ["995"])} == {995}
    assert {t.host for t in select_targets(targets, ["tls"])} == {"atlas79.mydhp.de"}
    # Kinds AND, values of one kind OR.
    assert {t.label for t in select_targets(targets, ["mail1", "25"])} == {"mail1.dicommail.com:25"}
    assert {t.label for t in select_targets(targets, ["mail1", "mail2", "995"])} == {
        "mail1.dicommail.com:995",
        "mail2.dicommail.com:995",
    }
    assert len(select_targets(targets, ["25", "995"])) == 12
    assert select_targets(targets, ["atlas79", "25"]) == ()
    assert len(select_targets(targets, ["mail1", "mail2"])) == 4


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=10,
    )
)
def test_parse_profile_rejects_garbage_with_a_profile_error(data: object) -> None:
    try:
        parse_profile({"endpoints": data}, "x.toml")
    except ProfileError as e:
        assert str(e).startswith("x.toml")


def _extended_error(origin: int, icmp_type: int, code: int, offender: bytes) -> bytes:
    return struct.pack("=IBBBBII", 113, origin, icmp_type, code, 0, 0, 0) + offender


def test_parse_extended_error_ipv4() -> None:
    offender = struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton("192.0.2.1"))
    report = parse_extended_error(_extended_error(2, 3, 13, offender))
    assert report is not None and (report.sender, report.type, report.code, report.family) == (
        "192.0.2.1",
        3,
        13,
        4,
    )


def test_parse_extended_error_ipv6() -> None:
    offender = struct.pack(
        "=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, "2001:db8::1"), 0
    )
    report = parse_extended_error(_extended_error(3, 1, 1, offender))
    assert report is not None and (report.sender, report.family) == ("2001:db8::1", 6)


@given(st.binary(max_size=64))
def test_parse_extended_error_never_crashes(data: bytes) -> None:
    parse_extended_error(data)


def test_local_errors_are_not_icmp() -> None:
    assert parse_extended_error(_extended_error(1, 0, 0, b"")) is None  # SO_EE_ORIGIN_LOCAL
