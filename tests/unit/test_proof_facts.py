"""Each part of a proof states its fact exactly (issue 32, the proof module's surviving
mutants): the fact is the evidence a ticket carries, so its words are asserted whole — the
names a certificate holds (IP addresses too, eight at most), the purposes by name, the
boundaries of a validity period (valid at its first and last second), a damaged extended
key usage."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
import trustme
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from netdiag.report.observations import TlsObservation, TlsOutcome
from netdiag.trust.proof import Part, PartCheck, name, possession, purpose, validity
from tests.servers.pki import DatedCa, leaf_cert

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
CA = DatedCa("Vendor Issuing CA", NOW - 100 * DAY, NOW + 100 * DAY)
HOST = "mail1.dicommail.com"


def test_possession_not_proven_says_how_the_handshake_ended() -> None:
    failed = TlsObservation(outcome=TlsOutcome.FAILED, error="bad record mac")
    assert possession(failed) == PartCheck(
        Part.POSSESSION,
        False,
        "possession: not proven — the handshake did not complete (failed: bad record mac), "
        "so the server never showed it holds the key of the chain it presented",
    )


def test_the_name_fact_lists_dns_names_and_ip_addresses() -> None:
    leaf = CA.leaf(
        NOW - DAY,
        NOW + DAY,
        names=[x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("192.0.2.7"))],
    )
    assert name(leaf, HOST) == PartCheck(
        Part.NAME, True, f"name: {HOST} is in the certificate ({HOST}, 192.0.2.7)"
    )


@pytest.mark.parametrize(
    ("count", "listed"),
    [
        (8, ", ".join(f"mail{n}.dicommail.com" for n in range(1, 9))),
        (9, ", ".join(f"mail{n}.dicommail.com" for n in range(1, 9)) + " …"),
    ],
)
def test_the_name_fact_names_eight_at_most(count: int, listed: str) -> None:
    names = [x509.DNSName(f"mail{n}.dicommail.com") for n in range(1, count + 1)]
    leaf = CA.leaf(NOW - DAY, NOW + DAY, names=names)
    assert name(leaf, HOST).fact == f"name: {HOST} is in the certificate ({listed})"


def test_a_certificate_for_another_host_names_what_it_is_for() -> None:
    leaf = CA.leaf(NOW - DAY, NOW + DAY, "dicom-gw-77.other-hospital.example")
    assert name(leaf, HOST) == PartCheck(
        Part.NAME,
        False,
        f"name: the certificate is not for {HOST} (subjectAltName: "
        "dicom-gw-77.other-hospital.example; subject CN=dicom-gw-77.other-hospital.example)",
    )


def test_a_certificate_without_names_says_none() -> None:
    leaf = CA.leaf(NOW - DAY, NOW + DAY, HOST, names=[])
    assert name(leaf, "atlas79.mydhp.de").fact == (
        f"name: the certificate is not for atlas79.mydhp.de (subjectAltName: none; subject "
        f"CN={HOST})"
    )


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            PartCheck(Part.PURPOSE, True, "purpose: may authenticate a server (serverAuth)"),
        ),
        (
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, x509.ObjectIdentifier("1.3.6.1.4.1.99999.1")]
            ),
            PartCheck(
                Part.PURPOSE,
                False,
                "purpose: not a server certificate — its extended key usage is clientAuth, "
                "1.3.6.1.4.1.99999.1 only",
            ),
        ),
    ],
)
def test_purposes_are_named(usage: x509.ExtendedKeyUsage, expected: PartCheck) -> None:
    assert purpose(CA.leaf(NOW - DAY, NOW + DAY, usage=usage)) == expected


def test_a_damaged_extended_key_usage_fails_the_purpose() -> None:
    damaged = x509.UnrecognizedExtension(ExtensionOID.EXTENDED_KEY_USAGE, b"\x04\x01\x00")
    check = purpose(CA.leaf(NOW - DAY, NOW + DAY, usage=damaged))
    assert check.part is Part.PURPOSE and check.holds is False
    assert check.fact.startswith("purpose: the extended key usage is damaged (")


def test_no_extended_key_usage_is_any_purpose() -> None:
    pem = leaf_cert(trustme.CA(), HOST, common_name=HOST).cert_chain_pems[0].bytes()
    leaf = x509.load_pem_x509_certificate(pem)
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert purpose(leaf) == PartCheck(
        Part.PURPOSE, True, "purpose: no extended key usage (any purpose)"
    )


@pytest.mark.parametrize(
    ("at", "holds", "words"),
    [
        (NOW - 10 * DAY, True, "every certificate on the path is valid"),  # its first second
        (NOW + 10 * DAY, True, "every certificate on the path is valid"),  # its last second
        (NOW - 10 * DAY - dt.timedelta(seconds=1), False, "is not valid before"),
        (NOW + 10 * DAY + dt.timedelta(seconds=1), False, "expired on"),
    ],
)
def test_validity_includes_both_ends_of_the_period(
    at: dt.datetime, holds: bool, words: str
) -> None:
    leaf = CA.leaf(NOW - 10 * DAY, NOW + 10 * DAY)
    check = validity([leaf], at, "a clock")
    assert check.part is Part.VALIDITY and check.holds is holds
    stamp = at.isoformat(timespec="seconds")
    if holds:
        assert check.fact == f"validity by a clock ({stamp}): {words}"
    else:
        assert check.fact.startswith(f"validity by a clock ({stamp}): CN={HOST} {words}")
