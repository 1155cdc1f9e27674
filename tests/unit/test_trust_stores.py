"""The machine's trust stores as Windows enumerates them: which entries anchor a server's
chain (Root, trusted for server authentication) and which never do (the Intermediate "CA"
store, Root entries restricted to other purposes, PKCS#7 blobs); entries read one by one."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.trust.stores import (
    SERVER_AUTH_OID,
    machine_trust_of_windows,
    pem_bundle,
    windows_store_entries,
)

CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
DER = b"\x30\x01"

# (id, a Root entry's encoding and trust, whether it anchors server chains)
ROOT_ROWS = [
    ("every purpose", ("x509_asn", True), True),
    ("server authentication", ("x509_asn", {SERVER_AUTH_OID}), True),
    ("server and client authentication", ("x509_asn", {SERVER_AUTH_OID, CLIENT_AUTH}), True),
    ("client authentication only", ("x509_asn", {CLIENT_AUTH}), False),
    ("code signing only", ("x509_asn", {CODE_SIGNING}), False),
    ("no purpose at all", ("x509_asn", set()), False),
    ("not a certificate", ("pkcs_7_asn", True), False),
]


@pytest.mark.parametrize(
    ("entry", "anchors"), [r[1:] for r in ROOT_ROWS], ids=[r[0] for r in ROOT_ROWS]
)
def test_a_root_entry_anchors_only_for_server_authentication(
    entry: tuple[str, object], anchors: bool
) -> None:
    encoding, trust = entry
    found, held = windows_store_entries([(DER, encoding, trust)], [])
    assert found == ([DER] if anchors else []) and held == []


def test_an_intermediate_entry_never_anchors_whatever_its_purposes() -> None:
    found, held = windows_store_entries([], [(DER, "x509_asn", True), (DER, "pkcs_7_asn", True)])
    assert found == [] and held == [DER]


def _der(ca: trustme.CA) -> bytes:
    return x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(Encoding.DER)


def test_unreadable_entries_are_left_out_with_their_reason() -> None:
    good = _der(trustme.CA(organization_name="Readable Root"))
    odd = _der(trustme.CA()).replace(
        bytes.fromhex("06072a8648ce3d0201"), bytes.fromhex("06072a8648ce3d0263")
    )
    machine = machine_trust_of_windows(
        [
            (good, "x509_asn", True),
            (odd, "x509_asn", True),
            (b"\x30\x03\x02\x01\x00", "x509_asn", True),
        ],
        [],
    )
    assert [c.subject.rfc4514_string() for c in machine.roots] == [
        x509.load_der_x509_certificate(good).subject.rfc4514_string()
    ]
    assert [u.entry for u in machine.unreadable] == [2, 3]
    assert "UnsupportedAlgorithm" in machine.unreadable[0].reason
    assert machine.unreadable[0].subject  # the name could still be read


def test_a_pem_bundle_keeps_what_it_can_read(tmp_path: Path) -> None:
    good = trustme.CA(organization_name="Readable Root").cert_pem.bytes()
    broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    path = tmp_path / "bundle.pem"
    path.write_bytes(broken + good)
    roots, unreadable = pem_bundle(path)
    assert len(roots) == 1 and [u.entry for u in unreadable] == [1]
    missing, why = pem_bundle(tmp_path / "nowhere.pem")
    assert missing == () and why and why[0].reason


def test_the_machines_own_store_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other test brings its own store (NETDIAG_LOCAL_TRUST_STORE); this one reads
    the machine's: OpenSSL's default CA file here (Debian's ca-certificates), Windows'
    Root and CA stores there. It holds the public roots, every entry readable or said."""
    import ssl
    import sys

    from netdiag.probes.trust_store import LOCAL_STORE_ENV, read_machine_trust
    from netdiag.trust.stores import mozilla_roots

    monkeypatch.delenv(LOCAL_STORE_ENV, raising=False)
    trust = read_machine_trust()
    if sys.platform != "win32":
        paths = ssl.get_default_verify_paths()
        assert trust.name in (paths.cafile, paths.openssl_cafile), trust.name
    assert len(trust.roots) > 50, (trust.name, len(trust.roots))
    public = {root.subject for root in mozilla_roots()[0]}
    assert len({root.subject for root in trust.roots} & public) > 50


def test_the_windows_stores_in_full() -> None:
    """Roots and CA store apart, each unreadable entry named by store, number and reason,
    and the name that the report gives the machine's trust."""
    root, held = _der(trustme.CA(organization_name="Root A")), _der(trustme.CA())
    junk = b"\x30\x03\x02\x01\x00"
    machine = machine_trust_of_windows(
        [(root, "x509_asn", True), (junk, "x509_asn", True)],
        [(held, "x509_asn", True), (junk, "x509_asn", False)],
    )
    assert machine.roots == (x509.load_der_x509_certificate(root),)
    assert machine.intermediates == (x509.load_der_x509_certificate(held),)
    assert machine.name == (
        "Windows certificate store Root (server authentication); CA store as intermediates"
    )
    assert [(u.store, u.entry, u.subject) for u in machine.unreadable] == [
        ("Windows store Root", 2, ""),
        ("Windows store CA", 2, ""),
    ]
    assert all(u.reason.startswith("ValueError: ") for u in machine.unreadable)


def test_an_unreadable_pem_entry_keeps_the_subject_where_it_can_be_read(tmp_path: Path) -> None:
    """A PEM entry whose key cryptography does not know: left out, named by its subject."""
    odd = x509.load_der_x509_certificate(
        _der(trustme.CA(organization_name="Odd Key Root")).replace(
            bytes.fromhex("06072a8648ce3d0201"), bytes.fromhex("06072a8648ce3d0263")
        )
    ).public_bytes(Encoding.PEM)
    path = tmp_path / "bundle.pem"
    path.write_bytes(odd)
    roots, unreadable = pem_bundle(path)
    assert roots == ()
    [entry] = unreadable
    assert (entry.store, entry.entry) == (str(path), 1)
    assert "Odd Key Root" in entry.subject
    assert entry.reason.startswith("UnsupportedAlgorithm: ")


def test_a_bundle_that_cannot_be_read_is_one_entry_naming_the_file(tmp_path: Path) -> None:
    from netdiag.trust.stores import UnreadableEntry

    missing = tmp_path / "nowhere.pem"
    roots, unreadable = pem_bundle(missing)
    assert roots == ()
    assert unreadable == (
        UnreadableEntry(
            store=str(missing),
            entry=0,
            subject="",
            reason=unreadable[0].reason,
        ),
    )
    assert unreadable[0].reason.startswith(f"cannot read trust store {missing}: ")


def test_pem_blocks_are_cut_at_their_markers() -> None:
    from netdiag.trust.stores import pem_blocks

    one = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    two = b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
    text = b"# comment\n" + one + b"junk -----BEGIN CERTIFICATE----- in a line\n" + two
    assert pem_blocks(text) == [
        one,
        b"-----BEGIN CERTIFICATE----- in a line\n" + two,
    ]


def test_a_usable_certificate_has_no_reason_and_an_unusable_one_a_short_one() -> None:
    from netdiag.trust.stores import usable_certificate

    good = trustme.CA().cert_pem.bytes()
    certificate, reason = usable_certificate(good, True)
    assert certificate is not None and reason == ""
    nothing, why = usable_certificate(b"\x30\x03\x02\x01\x00", False)
    assert nothing is None and why.startswith("ValueError: ") and len(why) <= 200


def test_the_index_of_a_store_follows_the_store_not_its_address() -> None:
    """Two stores, even one made where another was: each gets its own index."""
    from netdiag.trust.stores import index_of

    first = (x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes()),)
    second = (x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes()),)
    assert index_of(first).store is first and index_of(second).store is second
    assert index_of(first) is index_of(first)  # built once
    assert set(index_of(second).fingerprints) != set(index_of(first).fingerprints)


def test_a_chain_anchored_by_a_certificate_of_the_store_itself() -> None:
    """The root presented in the chain and held by the store: anchored by that root; a
    chain the store does not hold, and an empty chain or store, by nothing."""
    from netdiag.trust.stores import anchor_in

    root = trustme.CA(organization_name="Anchor Root")
    leaf = x509.load_pem_x509_certificate(root.issue_cert("a.example").cert_chain_pems[0].bytes())
    held = x509.load_pem_x509_certificate(root.cert_pem.bytes())
    stranger = x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes())
    assert anchor_in([held], [held]) == held.subject.rfc4514_string()
    assert anchor_in([leaf], [stranger, held]) == held.subject.rfc4514_string()
    assert anchor_in([leaf], [stranger]) == ""
    assert anchor_in([], [held]) == "" and anchor_in([leaf], []) == ""


def test_an_unusable_entrys_reason_is_cut_at_200_characters() -> None:
    from netdiag.trust.stores import usable_certificate

    der = x509.load_pem_x509_certificate(
        trustme.CA().issue_cert("a.example").cert_chain_pems[0].bytes()
    ).public_bytes(Encoding.DER)
    broken = der[:8] + b"\x00" + der[9:]  # a parse error whose words run longer
    certificate, reason = usable_certificate(broken, False)
    assert certificate is None and len(reason) == 200
