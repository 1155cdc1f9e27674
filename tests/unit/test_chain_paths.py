"""Who vouches for a leaf (issue 32, the surviving mutants of `netdiag.trust.chains`): the
`--ca` and public-root verification, dates aside — tried at the given moments, at one where
every presented certificate is valid, at one where the leaf is — and what an odd
certificate in the chain does (a CA certificate nobody can read is passed over, an
unreadable leaf ends it); the signature path stopping at a self-signed root; names and IP
addresses matched by service-identity. Certificates are made here with their dates chosen."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.trust.chains import load_readable, name_matches, signature_path, verify_path
from tests.servers.pki import DatedCa

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
HOST = "mail1.dicommail.com"
GARBAGE = b"\x30\x03\x02\x01\x01"
ROOT = DatedCa("Vendor Root CA", NOW - 900 * DAY, NOW + 900 * DAY)
ISSUING = DatedCa("Vendor Issuing CA", NOW - 800 * DAY, NOW + 800 * DAY, parent=ROOT)
STRANGER = DatedCa("Klinikum Inspection CA", NOW - 100 * DAY, NOW + 100 * DAY)


def der(*certificates: x509.Certificate) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(Encoding.DER) for c in certificates)


def verified(chain: tuple[bytes, ...], anchors: list[x509.Certificate]) -> tuple[bool, str]:
    result = verify_path(chain, anchors, "vendor-ca.pem", HOST, NOW)
    assert result is not None
    return result[0].is_trusted, result[0].detail


LEAF = ISSUING.leaf(NOW - 30 * DAY, NOW + 300 * DAY)


def test_nothing_to_verify_against_or_nothing_to_verify() -> None:
    assert verify_path(der(LEAF, ISSUING.cert), [], "none", HOST, NOW) is None
    assert verify_path((), [ROOT.cert], "vendor-ca.pem", HOST, NOW) is None


def test_a_chain_verifies_and_a_strangers_does_not_with_openssls_reason() -> None:
    assert verified(der(LEAF, ISSUING.cert), [ROOT.cert]) == (True, "")
    forged = STRANGER.leaf(NOW - DAY, NOW + DAY)
    trusted, detail = verified(der(forged), [ROOT.cert])
    assert not trusted and "unable to get local issuer certificate" in detail


def test_a_ca_certificate_nobody_reads_is_passed_over_an_unreadable_leaf_ends_it() -> None:
    assert verified((*der(LEAF), GARBAGE, *der(ISSUING.cert)), [ROOT.cert]) == (True, "")
    assert verified((GARBAGE, *der(ISSUING.cert)), [ROOT.cert]) == (
        False,
        "the server certificate cannot be read",
    )


def test_dates_aside_at_a_moment_when_every_presented_certificate_is_valid() -> None:
    """The leaf is valid now, the presented issuing CA expired ten days ago: at the leaf's
    own middle (now) the CA is expired, but both were valid together before."""
    old_issuing = DatedCa("Old Issuing CA", NOW - 400 * DAY, NOW - 10 * DAY, parent=ROOT)
    leaf = old_issuing.leaf(NOW - 300 * DAY, NOW + 300 * DAY)
    assert verified(der(leaf, old_issuing.cert), [ROOT.cert]) == (True, "")


def test_dates_aside_at_the_leafs_own_moment_past_a_stale_certificate_beside_it() -> None:
    """An expired leaf and, beside it, a certificate not on its path whose dates never
    meet the leaf's: no moment fits all presented, the leaf's own does."""
    expired = ISSUING.leaf(NOW - 400 * DAY, NOW - 10 * DAY)
    unrelated = DatedCa("Unrelated CA", NOW + 100 * DAY, NOW + 200 * DAY).cert
    assert verified(der(expired, ISSUING.cert, unrelated), [ROOT.cert]) == (True, "")


def test_a_path_that_holds_at_no_moment_says_the_time_error() -> None:
    """The root was never valid while the leaf was: OpenSSL's own words on time."""
    late_root = DatedCa("Late Root CA", NOW + 500 * DAY, NOW + 900 * DAY)
    late_issuing = DatedCa("Late Issuing CA", NOW - 100 * DAY, NOW + 900 * DAY, parent=late_root)
    leaf = late_issuing.leaf(NOW - 30 * DAY, NOW + 30 * DAY)
    trusted, detail = verified(der(leaf, late_issuing.cert), [late_root.cert])
    assert not trusted and "not yet valid" in detail, detail


def test_the_signature_path_stops_at_a_self_signed_root() -> None:
    path = signature_path([LEAF, ISSUING.cert, ROOT.cert])
    assert path == [LEAF, ISSUING.cert, ROOT.cert]


def test_a_certificate_that_cannot_be_read_is_a_line_and_the_rest_are_read() -> None:
    readable, unreadable = load_readable(der(LEAF) + (GARBAGE,) + der(ISSUING.cert))
    assert readable == [LEAF, ISSUING.cert]
    assert len(unreadable) == 1
    digest = hashlib.sha256(GARBAGE).hexdigest()
    assert unreadable[0].startswith(f"certificate 1 (SHA-256 {digest}): parse_error: ValueError: ")


def test_names_and_addresses_are_matched_as_rfc_6125_says() -> None:
    leaf = ISSUING.leaf(
        NOW - DAY,
        NOW + DAY,
        names=[x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("192.0.2.7"))],
    )
    assert name_matches(leaf, HOST) and name_matches(leaf, f"{HOST}.")
    assert name_matches(leaf, "192.0.2.7")
    assert not name_matches(leaf, "192.0.2.8")
    assert not name_matches(leaf, f".{HOST}")
    assert not name_matches(leaf, "mail2.dicommail.com")


def test_the_leafs_own_moment_is_the_leaf_alone() -> None:
    """The stale certificate right after the leaf: no moment fits the leaf and it, nor all
    presented; the leaf's own does, and the path (leaf, issuing CA, root) holds there."""
    expired = ISSUING.leaf(NOW - 400 * DAY, NOW - 10 * DAY)
    unrelated = DatedCa("Unrelated CA", NOW + 100 * DAY, NOW + 200 * DAY).cert
    assert verified(der(expired, unrelated, ISSUING.cert), [ROOT.cert]) == (True, "")


@pytest.mark.parametrize(
    ("windows", "middle"),
    [
        ([(-10, 10)], 0),
        ([(-10, 10), (-4, 30)], 3),
        ([(-10, 10), (10, 30)], 10),  # windows that touch meet at that moment
        ([(-10, 10), (11, 30)], None),
    ],
)
def test_the_moment_at_which_every_certificate_is_valid(
    windows: list[tuple[int, int]], middle: int | None
) -> None:
    from netdiag.trust.chains import _window_midpoint

    certificates = [ISSUING.leaf(NOW + a * DAY, NOW + b * DAY) for a, b in windows]
    assert _window_midpoint(certificates) == (None if middle is None else NOW + middle * DAY)


def test_the_signature_path_follows_a_self_issued_key_rollover() -> None:
    """A CA certificate whose issuer is its own name but another key (a root's new key,
    signed by its old one) is not the end of the path: the old root is reached."""
    rollover = DatedCa("Vendor Root CA", NOW - 100 * DAY, NOW + 900 * DAY, parent=ROOT)
    assert rollover.cert.subject == rollover.cert.issuer
    leaf = rollover.leaf(NOW - DAY, NOW + DAY)
    assert signature_path([leaf, rollover.cert, ROOT.cert]) == [leaf, rollover.cert, ROOT.cert]


def test_the_signature_path_ends_at_a_self_signed_root_despite_its_cross_signature() -> None:
    """A cross-certificate of the root (its name and key, signed by another root) is
    presented after it: the self-signed root ends the path, the cross-certificate is not
    on it."""
    from cryptography.hazmat.primitives import hashes

    other = DatedCa("Other Root CA", NOW - 900 * DAY, NOW + 900 * DAY)
    cross = (
        x509.CertificateBuilder()
        .subject_name(ROOT.cert.subject)
        .issuer_name(other.cert.subject)
        .public_key(ROOT.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(other.key, hashes.SHA256())
    )
    path = signature_path([LEAF, ISSUING.cert, ROOT.cert, cross])
    assert path == [LEAF, ISSUING.cert, ROOT.cert]


def test_a_parsers_long_reason_is_cut_to_200_characters() -> None:
    """cryptography's reasons name every ASN.1 location: a line keeps the first 200."""
    whole = LEAF.public_bytes(Encoding.DER)
    reasons = []
    for position in range(len(whole)):  # bounded: one certificate's bytes
        spoiled = whole[:position] + b"\x00" + whole[position + 1 :]
        _, unreadable = load_readable([spoiled])
        if unreadable:
            reasons.append(unreadable[0].split(": parse_error: ", 1)[1])
    assert max(len(r) for r in reasons) == 200


def _one_openssl_refuses(certificate: x509.Certificate) -> x509.Certificate:
    """The certificate with one byte changed so that cryptography still reads it and
    OpenSSL does not (found by trying each byte: bounded by the certificate's length)."""
    from OpenSSL import crypto

    whole = certificate.public_bytes(Encoding.DER)
    for position in range(len(whole)):
        spoiled = whole[:position] + b"\x00" + whole[position + 1 :]
        try:
            readable = x509.load_der_x509_certificate(spoiled)
            readable.public_key()
        except Exception:  # noqa: BLE001 - not even cryptography reads this one
            continue
        try:
            crypto.X509Store().add_cert(crypto.X509.from_cryptography(readable))
        except crypto.Error:
            return readable
    raise AssertionError("no byte of the certificate makes OpenSSL refuse it")


def test_an_anchor_openssl_refuses_is_left_out_and_the_others_count() -> None:
    refused = _one_openssl_refuses(STRANGER.cert)
    assert verified(der(LEAF, ISSUING.cert), [refused, ROOT.cert]) == (True, "")


def test_with_no_moment_that_holds_the_error_is_this_machines_clocks() -> None:
    """Expired now; at the leaf's own middle its issuing CA was not yet valid; no moment
    fits both. What is said is what this machine's clock sees: the leaf has expired."""
    late_issuing = DatedCa("Late Issuing CA", NOW - 5 * DAY, NOW + 800 * DAY, parent=ROOT)
    expired = late_issuing.leaf(NOW - 400 * DAY, NOW - 10 * DAY)
    trusted, detail = verified(der(expired, late_issuing.cert), [ROOT.cert])
    assert not trusted and "certificate has expired" in detail, detail
