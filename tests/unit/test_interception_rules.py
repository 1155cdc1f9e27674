"""Interception rules and the product catalogue, table-driven, without a network."""

from __future__ import annotations

import datetime as dt

import pytest
import trustme
from cryptography import x509

from netdiag.chains import describe
from netdiag.diagnosis.interception import diagnose_interception, diagnose_local_roots, is_pinned
from netdiag.observations import AnchorCheck, CertificateFacts, TlsObservation, TlsOutcome
from netdiag.pins import EndpointRecord, Pin
from netdiag.products import catalogue, identify
from netdiag.targets import Service, Target

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SMTP = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS, group="dicommail")
POP3 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS, group="mydhp")


@pytest.mark.parametrize("product", catalogue(), ids=lambda p: p.name)
def test_every_catalogue_entry_matches_its_example(product: object) -> None:
    found = identify([product.example])  # type: ignore[attr-defined]
    assert found is not None and found[0] is product


def test_ordinary_issuers_match_no_product() -> None:
    for issuer in (
        "CN=R11,O=Let's Encrypt,C=US",
        "CN=Vendor Issuing CA,O=VISUS",
        "CN=GEANT OV RSA CA 4,O=GEANT Vereniging",
    ):
        assert identify([issuer]) is None


def facts(
    subject: str,
    issuer: str,
    spki: str,
    *,
    days: int = 365,
    minted: dt.timedelta = dt.timedelta(days=100),
) -> CertificateFacts:
    not_before = NOW - minted
    return CertificateFacts(
        subject=subject,
        issuer=issuer,
        serial="1",
        not_before=not_before.isoformat(),
        not_after=(not_before + dt.timedelta(days=days)).isoformat(),
        sha256="0",
        spki_sha256=spki,
        is_self_signed=subject == issuer,
    )


VENDOR_LEAF = facts("CN=mail1.dicommail.com", "CN=Vendor Issuing CA", "a" * 64)
VENDOR_ISSUING = facts("CN=Vendor Issuing CA", "CN=Vendor Root CA", "b" * 64)
FORGED_LEAF = facts(
    "CN=mail1.dicommail.com", "CN=Klinikum IT CA", "c" * 64, days=30, minted=dt.timedelta(minutes=7)
)
FORGED_CA = facts("CN=Klinikum IT CA", "CN=Klinikum IT CA", "d" * 64)
FORTI_LEAF = facts("CN=mail1.dicommail.com", "CN=FortiGate CA,O=Fortinet", "e" * 64)
PIN = Pin(
    spki_sha256="b" * 64,
    subject="CN=Vendor Issuing CA",
    role="issuing",
    applies_to=("dicommail",),
    source="t",
    added="t",
)
RECORD = EndpointRecord(
    endpoint=SMTP.label,
    was_client_cert_requested=True,
    client_ca_names=("CN=Vendor Root CA",),
    fingerprint="TLSv1.3/TLS_AES_256_GCM_SHA384/x25519",
)


def tls(*chain: CertificateFacts, **changes: object) -> TlsObservation:
    base: dict[str, object] = {
        "outcome": TlsOutcome.ESTABLISHED,
        "version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
        "group": "x25519",
        "chain": chain,
        "was_client_cert_requested": True,
        "client_ca_names": ("CN=Vendor Root CA",),
    }
    return TlsObservation(**{**base, **changes})  # type: ignore[arg-type]


ROWS = [
    ("pinned", tls(VENDOR_LEAF, VENDOR_ISSUING), [PIN], None, [], "tls.pinned", None),
    (
        "forged chain against pins",
        tls(FORGED_LEAF, FORGED_CA),
        [PIN],
        None,
        [],
        "tls.intercepted",
        "pinned: CN=Vendor Issuing CA",
    ),
    (
        "no pins, generic CA",
        tls(FORGED_LEAF, FORGED_CA),
        [],
        None,
        [],
        "tls.unpinned",
        "minted 7 minutes ago",
    ),
    (
        "no pins, product",
        tls(FORTI_LEAF),
        [],
        None,
        [],
        "tls.intercepted",
        "inspection CA of FortiGate",
    ),
    (
        "no pins, two weak signals",
        tls(FORGED_LEAF, FORGED_CA, was_client_cert_requested=False),
        [],
        None,
        [],
        "tls.intercepted",
        "minted 7 minutes ago",
    ),
    (
        "no pins, two weak signals, public anchor",
        tls(
            FORGED_LEAF,
            FORGED_CA,
            was_client_cert_requested=False,
            anchors=AnchorCheck(public_anchor="CN=Public Root"),
        ),
        [],
        None,
        [],
        "tls.unpinned",
        None,
    ),
    (
        "no pins, one weak signal",
        tls(VENDOR_LEAF, VENDOR_ISSUING, was_client_cert_requested=False),
        [],
        None,
        [],
        "tls.unpinned",
        "the vendor's servers always do",
    ),
    (
        "no pins, local-only anchor",
        tls(FORGED_LEAF, FORGED_CA, anchors=AnchorCheck(local_anchor="CN=Klinikum IT CA")),
        [],
        None,
        [],
        "tls.intercepted",
        "not by the Mozilla root set",
    ),
    (
        "public anchor is not local-only",
        tls(FORGED_LEAF, FORGED_CA, anchors=AnchorCheck(local_anchor="CN=X", public_anchor="CN=X")),
        [],
        None,
        [],
        "tls.unpinned",
        None,
    ),
    (
        "record: certificate not requested",
        tls(FORGED_LEAF, FORGED_CA, was_client_cert_requested=False),
        [PIN],
        RECORD,
        [],
        "tls.intercepted",
        "the genuine server does",
    ),
    (
        "record: other CA list",
        tls(FORGED_LEAF, FORGED_CA, client_ca_names=("CN=Klinikum IT CA",)),
        [PIN],
        RECORD,
        [],
        "tls.intercepted",
        "acceptable client CAs differ",
    ),
    (
        "record: other fingerprint",
        tls(FORGED_LEAF, FORGED_CA, cipher="TLS_AES_128_GCM_SHA256"),
        [PIN],
        RECORD,
        [],
        "tls.intercepted",
        "differs from the genuine TLSv1.3/TLS_AES_256_GCM_SHA384/x25519",
    ),
    (
        "other port presents the vendor chain",
        tls(FORGED_LEAF, FORGED_CA),
        [PIN],
        None,
        [(POP3, tls(VENDOR_LEAF, VENDOR_ISSUING))],
        "tls.intercepted",
        "mail1.dicommail.com:995 presents a different chain",
    ),
    (
        "other host shares the forged key",
        tls(FORGED_LEAF, FORGED_CA),
        [PIN],
        None,
        [(ATLAS, tls(FORGED_LEAF, FORGED_CA))],
        "tls.intercepted",
        "atlas79.mydhp.de:8140 presents the same server key",
    ),
]


@pytest.mark.parametrize(
    ("observation", "pins", "record", "others", "code", "evidence"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_interception_rules(
    observation: TlsObservation,
    pins: list[Pin],
    record: EndpointRecord | None,
    others: list[tuple[Target, TlsObservation]],
    code: str,
    evidence: str | None,
) -> None:
    findings = diagnose_interception(
        SMTP,
        observation,
        pins=pins,
        record=record,
        others=others,
        now=NOW,
        exempt=["mail1.dicommail.com:25 (smtp-starttls)"],
    )
    assert [f.code for f in findings] == [code]
    if evidence is not None:
        assert any(evidence in line for line in findings[0].evidence), findings[0].evidence
    if code == "tls.intercepted":
        assert "mail1.dicommail.com:25 (smtp-starttls)" in findings[0].remedy


def test_no_chain_no_verdict() -> None:
    assert diagnose_interception(SMTP, tls(), pins=[PIN], now=NOW) == []


def test_pinned_by_a_pem_pin_when_the_server_omits_its_ca() -> None:
    ca = trustme.CA(organization_name="Vendor Issuing CA")
    leaf = x509.load_pem_x509_certificate(
        ca.issue_cert("mail1.dicommail.com").cert_chain_pems[0].bytes()
    )
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    from cryptography.hazmat.primitives.serialization import Encoding

    pin = Pin(
        spki_sha256="f" * 64,
        subject="x",
        role="issuing",
        applies_to=("*",),
        source="t",
        added="t",
        pem=ca.cert_pem.bytes().decode(),
    )
    observation = tls(describe(leaf), chain_der=(leaf.public_bytes(Encoding.DER),))
    assert is_pinned(observation, [pin])
    other = trustme.CA()
    assert not is_pinned(
        observation,
        [
            Pin(
                spki_sha256="f" * 64,
                subject="x",
                role="issuing",
                applies_to=("*",),
                source="t",
                added="t",
                pem=other.cert_pem.bytes().decode(),
            )
        ],
    )
    assert describe(ca_cert).is_ca


def test_local_roots_of_products_but_not_public_ones() -> None:
    eset = x509.load_pem_x509_certificate(
        trustme.CA(organization_name="ESET SSL Filter CA").cert_pem.bytes()
    )
    plain = x509.load_pem_x509_certificate(
        trustme.CA(organization_name="Some Public Root").cert_pem.bytes()
    )
    findings = diagnose_local_roots([eset, plain], [], "test store")
    assert [f.code for f in findings] == ["local.inspection_root"] and "ESET" in findings[0].summary
    assert (
        diagnose_local_roots([eset], [eset], "test store") == []
    )  # also in the Mozilla set: not local
