"""Interception rules and the product catalogue, table-driven, without a network."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.diagnosis.interception import (
    PresentedChain,
    diagnose_interception,
    diagnose_likely_interception,
    diagnose_local_roots,
)
from netdiag.report.model import Finding
from netdiag.report.observations import (
    ProtocolObservation,
    ProtocolStage,
    Reply,
    SmtpObservation,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.settings.targets import Service, Target
from netdiag.trust.chains import describe_der, spki_sha256
from netdiag.trust.model import TrustContext, is_pinned, judge_chain
from netdiag.trust.pins import EndpointRecord, Pin
from netdiag.trust.products import catalogue, identify
from netdiag.trust.stores import MachineTrust

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SMTP = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS, group="dicommail")
POP3 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS, group="mydhp")


@pytest.mark.parametrize("product", [p for p in catalogue() if p.patterns], ids=lambda p: p.name)
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


@pytest.mark.parametrize(
    ("name", "product"),
    [
        # A product's name inside a random serial or another word names nothing: trustme's
        # CAs once drew `OU=Testing CA #…SrX…` and a vendor root in the machine's store
        # was reported as Juniper's.
        ("OU=Testing CA #q0SrXb7Kz1,O=trustme v1.2.1", None),
        ("CN=Mysrx Issuing CA,O=Mysrx GmbH", None),
        ("CN=Avastar Root,O=Avastar Medical", None),
        ("CN=Squidward CA,O=Genuair Kliniken", None),
        ("CN=Jiboss Root,O=Ciscoe AG", None),
        # ... and separated by an underscore, a dot or a space, it names the product.
        ("CN=SRX_SSL_FP,O=Example", "Juniper"),
        ("CN=ca.iboss.example,O=Example", "iboss"),
        ("CN=Squid CA,O=Example", "Squid"),
        ("O=Cisco Systems", "Cisco"),
    ],
)
def test_product_names_match_whole_words_only(name: str, product: str | None) -> None:
    found = identify([name])
    assert (found[0].name if found else None) == product, (name, found)


class Chains:
    """Real certificates for the rules: the vendor's root -> issuing CA -> leaves, a
    second vendor CA, a hospital's inspection CA and a FortiGate-named one."""

    def __init__(self) -> None:
        self.vendor_root = trustme.CA(organization_name="Vendor Root CA")
        self.vendor_issuing = self.vendor_root.create_child_ca()
        self.vendor_other = trustme.CA(organization_name="Vendor Second CA")
        self.klinikum = trustme.CA(organization_name="Klinikum IT CA")
        self.forti = trustme.CA(organization_name="Fortinet", organization_unit_name="FortiGate CA")

    @staticmethod
    def der(pem: bytes) -> bytes:
        return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)

    def chain(
        self,
        ca: trustme.CA,
        *,
        minted: dt.timedelta = dt.timedelta(days=100),
        days: int = 365,
        append: tuple[trustme.CA, ...] = (),
        omit_ca: bool = False,
    ) -> tuple[bytes, ...]:
        """A server chain for mail1 issued by `ca` (with `ca` after the leaf unless
        omitted), validity `minted` ago for `days`, then the CA certificates `append`."""
        not_before = dt.datetime.now(dt.UTC) - minted
        leaf = ca.issue_cert(
            "mail1.dicommail.com",
            not_before=not_before,
            not_after=not_before + dt.timedelta(days=days),
        )
        pems = [blob.bytes() for blob in leaf.cert_chain_pems]
        if omit_ca:
            pems = pems[:1]
        pems += [extra.cert_pem.bytes() for extra in append]
        return tuple(self.der(p) for p in pems)

    def pin(self, ca: trustme.CA, *, with_pem: bool = False) -> Pin:
        certificate = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
        return Pin(
            spki_sha256=spki_sha256(certificate),
            subject=certificate.subject.rfc4514_string(),
            role="issuing",
            applies_to=("dicommail",),
            source="test",
            added="test",
            pem=ca.cert_pem.bytes().decode() if with_pem else "",
        )

    def cert(self, ca: trustme.CA) -> x509.Certificate:
        return x509.load_pem_x509_certificate(ca.cert_pem.bytes())


PKI = Chains()
RECORD = EndpointRecord(
    endpoint=SMTP.label,
    was_client_cert_requested=True,
    client_ca_names=("CN=Vendor Root CA",),
    fingerprint="TLSv1.3/TLS_AES_256_GCM_SHA384/x25519",
)


def tls(chain_der: tuple[bytes, ...] = (), **changes: object) -> TlsObservation:
    base: dict[str, object] = {
        "outcome": TlsOutcome.ESTABLISHED,
        "version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
        "group": "x25519",
        "chain_der": chain_der,
        "chain": tuple(describe_der(d) for d in chain_der),
        "was_client_cert_requested": True,
        "client_ca_names": ("CN=Vendor Root CA",),
    }
    return TlsObservation(**{**base, **changes})  # type: ignore[arg-type]


def presented(
    target: Target, observation: TlsObservation, *, completed: bool = True, died: bool = False
) -> PresentedChain:
    return PresentedChain(target, observation, completed, died)


def after_dialogue(observation: TlsObservation, *, stopped_at: ProtocolStage) -> PresentedChain:
    """The chain as the rules get it from a real dialogue (`PresentedChain.of`): whether the
    session died is computed from what happened after the handshake, never set by hand."""
    protocol = SmtpObservation(
        service="smtp-starttls",
        address="203.0.113.10",
        port=25,
        stopped_at=stopped_at,
        failure=StageFailure.CLOSED,
        failure_detail="connection closed by the peer",
        tls=observation,
    )
    chain = PresentedChain.of(SMTP, protocol)
    assert chain is not None
    return chain


VENDOR = PKI.chain(PKI.vendor_issuing)
VENDOR_FRESH = PKI.chain(PKI.vendor_issuing, minted=dt.timedelta(hours=2))
VENDOR_SECOND = PKI.chain(PKI.vendor_other)
VENDOR_DAY_OLD = PKI.chain(PKI.vendor_issuing, minted=dt.timedelta(hours=24))
VENDOR_THREE_DAYS_OLD = PKI.chain(PKI.vendor_issuing, minted=dt.timedelta(hours=72))
FORGED = PKI.chain(PKI.klinikum, minted=dt.timedelta(minutes=7), days=30)
FORGED_OLD = PKI.chain(PKI.klinikum)
FORGED_WITH_VENDOR_CA = PKI.chain(PKI.klinikum, append=(PKI.vendor_issuing,))
FORTI = PKI.chain(PKI.forti)
VENDOR_PIN = PKI.pin(PKI.vendor_issuing)
LOCAL = TrustContext(machine=MachineTrust(roots=(PKI.cert(PKI.klinikum),), name="test store"))
PUBLIC = TrustContext(public_roots=(PKI.cert(PKI.klinikum),))
BOTH = TrustContext(
    machine=MachineTrust(roots=(PKI.cert(PKI.klinikum),), name="test store"),
    public_roots=(PKI.cert(PKI.klinikum),),
)
NONE = TrustContext()
NOT_ASKED = {"was_client_cert_requested": False, "client_ca_names": ()}

# (id, the chain judged, pins, record, the other endpoints' chains, trust, code, evidence)
ROWS = [
    ("pinned", presented(SMTP, tls(VENDOR)), [VENDOR_PIN], None, [], NONE, "tls.pinned", None),
    (
        "forged chain against pins",
        presented(SMTP, tls(FORGED)),
        [VENDOR_PIN],
        None,
        [],
        NONE,
        "tls.intercepted",
        "no certificate on the leaf's signature path is pinned",
    ),
    (
        "forged leaf with the genuine vendor CA appended is not pinned",
        presented(SMTP, tls(FORGED_WITH_VENDOR_CA)),
        [VENDOR_PIN],
        None,
        [],
        NONE,
        "tls.intercepted",
        "no certificate on the leaf's signature path is pinned",
    ),
    (
        "no pins, a product name alone names, never convicts",
        presented(SMTP, tls(FORTI)),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        "matches the catalogue's FortiGate",
    ),
    (
        "no pins, a product name next to a trait of the handshake's own",
        presented(SMTP, tls(FORTI, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.intercepted",
        "matches the catalogue's FortiGate",
    ),
    (
        "no pins, a generic CA that did the dance",
        presented(SMTP, tls(FORGED_OLD)),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "no pins, anchored only in this machine's store: context (the vendor's own root?)",
        presented(SMTP, tls(FORGED_OLD)),
        [],
        None,
        [],
        LOCAL,
        "tls.unpinned",
        "but not in the public root set",
    ),
    (
        "no pins, anchored only here, and the server did not ask for our certificate",
        presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        LOCAL,
        "tls.intercepted",
        "but not in the public root set",
    ),
    (
        "no pins, anchored here and publicly, valid for the name: proven by the public roots",
        presented(SMTP, tls(FORGED_OLD)),
        [],
        None,
        [],
        BOTH,
        "tls.verified",
        "verifies against the public root set",
    ),
    (
        "no pins, not requested and a fresh leaf",
        presented(SMTP, tls(FORGED, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.intercepted",
        "freshly minted",
    ),
    (
        "no pins, two weak signals but a publicly issued chain for the name",
        presented(SMTP, tls(FORGED, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        PUBLIC,
        "tls.verified",
        None,
    ),
    (
        "no pins, not requested alone",
        presented(SMTP, tls(VENDOR, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        "did not ask for a client certificate",
    ),
    (
        "no pins, a fresh genuine leaf alone never convicts",
        presented(SMTP, tls(VENDOR_FRESH), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "a genuine server's alert after the handshake (it rejects our certificate), then the "
        "close, with a fresh leaf: a stated refusal, not a silent death",
        after_dialogue(
            tls(VENDOR_FRESH, post_handshake_alert="tlsv13 alert certificate expired"),
            stopped_at=ProtocolStage.EHLO_TLS,
        ),
        [],
        None,
        [],
        LOCAL,
        "tls.unpinned",
        None,
    ),
    (
        "the same close after the handshake without the alert, fresh leaf: a silent death",
        after_dialogue(tls(VENDOR_FRESH), stopped_at=ProtocolStage.EHLO_TLS),
        [],
        None,
        [],
        LOCAL,
        "tls.intercepted",
        "ended right after the server showed its chain",
    ),
    (
        "the chain shown, then the handshake closed without an alert, fresh leaf: the "
        "session died during the handshake (an interceptor whose upstream refused it)",
        after_dialogue(tls(VENDOR_FRESH, outcome=TlsOutcome.CLOSED), stopped_at=ProtocolStage.TLS),
        [],
        None,
        [],
        NONE,
        "tls.intercepted",
        "ended right after the server showed its chain",
    ),
    (
        "the same handshake reset by the peer with its alert (it states why): no silent death",
        after_dialogue(
            tls(
                VENDOR_FRESH,
                outcome=TlsOutcome.RESET,
                alert="received tlsv13 alert certificate required",
            ),
            stopped_at=ProtocolStage.TLS,
        ),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "no pins, not requested and died after the handshake",
        presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False, died=True),
        [],
        None,
        [],
        NONE,
        "tls.intercepted",
        "ended right after the server showed its chain",
    ),
    (
        "25 intercepted, 995 genuine: the odd chain is convicted",
        presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [presented(POP3, tls(VENDOR_FRESH))],
        NONE,
        "tls.intercepted",
        "mail1.dicommail.com:995 presents another chain",
    ),
    (
        "25 intercepted, 995 genuine with a fresh leaf: 995 is not accused",
        presented(POP3, tls(VENDOR_FRESH)),
        [],
        None,
        [presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False)],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "another chain on another port that did not do the dance proves nothing",
        presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [presented(POP3, tls(VENDOR, **NOT_ASKED), completed=False)],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "a fresh leaf with the relation alone never convicts",
        presented(SMTP, tls(VENDOR_FRESH), completed=False),
        [],
        None,
        [presented(POP3, tls(VENDOR_SECOND))],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "the vendor uses two CAs: both genuine chains stay unconvicted",
        presented(SMTP, tls(VENDOR)),
        [],
        None,
        [presented(POP3, tls(VENDOR_SECOND))],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "all ports intercepted by one CA, not requested: one signal each",
        presented(SMTP, tls(FORGED_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [presented(POP3, tls(FORGED_OLD, **NOT_ASKED), completed=False)],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "record: other CA list and fingerprint",
        presented(
            SMTP,
            tls(
                FORGED_OLD, client_ca_names=("CN=Klinikum IT CA",), cipher="TLS_AES_128_GCM_SHA256"
            ),
            completed=False,
        ),
        [],
        RECORD,
        [],
        NONE,
        "tls.intercepted",
        "acceptable client CAs differ",
    ),
    (
        "record: the same CA list and fingerprint",
        presented(SMTP, tls(VENDOR), completed=False),
        [],
        RECORD,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "a genuine server renewed its leaf today and changed its TLS settings, and did the "
        "vendor's dance (asked for our certificate, finished the protocol): never convicted",
        presented(SMTP, tls(VENDOR_FRESH, cipher="TLS_AES_128_GCM_SHA256"), completed=True),
        [],
        RECORD,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
    (
        "the same signs without the dance (the protocol did not finish): two points",
        presented(SMTP, tls(VENDOR_FRESH, cipher="TLS_AES_128_GCM_SHA256"), completed=False),
        [],
        RECORD,
        [],
        NONE,
        "tls.intercepted",
        "freshly minted",
    ),
    (
        "a leaf minted a day ago counts as fresh next to an own trait (48 h)",
        presented(SMTP, tls(VENDOR_DAY_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.intercepted",
        "freshly minted",
    ),
    (
        "a leaf minted three days ago, valid a year, is not fresh: one point only",
        presented(SMTP, tls(VENDOR_THREE_DAYS_OLD, **NOT_ASKED), completed=False),
        [],
        None,
        [],
        NONE,
        "tls.unpinned",
        None,
    ),
]


@pytest.mark.parametrize(
    ("chain", "pins", "record", "others", "trust", "code", "evidence"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_interception_rules(
    chain: PresentedChain,
    pins: list[Pin],
    record: EndpointRecord | None,
    others: list[PresentedChain],
    trust: TrustContext,
    code: str,
    evidence: str | None,
) -> None:
    findings = verdict(
        chain,
        trust,
        pins=pins,
        record=record,
        others=[chain, *others],
        exempt=["mail1.dicommail.com:25 (smtp-starttls)"],
    )
    assert [f.code for f in findings] == [code], findings
    if evidence is not None:
        assert any(evidence in line for line in findings[0].evidence), findings[0].evidence
    if code == "tls.intercepted":
        assert "mail1.dicommail.com:25 (smtp-starttls)" in findings[0].remedy


def verdict(
    chain: PresentedChain,
    trust: TrustContext,
    *,
    pins: list[Pin],
    record: EndpointRecord | None = None,
    others: list[PresentedChain] | None = None,
    exempt: list[str] | None = None,
    now: dt.datetime | None = None,
) -> list[Finding]:
    """The chain's facts judged once, then the decision list over them."""
    now = now or dt.datetime.now(dt.UTC)
    facts = judge_chain(chain.tls, "mail1.dicommail.com", trust, pins, now)
    return diagnose_interception(
        chain, facts, trust, record=record, others=others or [], now=now, exempt=exempt or []
    )


def test_no_chain_no_verdict() -> None:
    no_chain = presented(SMTP, tls())
    assert verdict(no_chain, NONE, pins=[VENDOR_PIN], now=NOW) == []


def test_pinned_by_a_pem_pin_when_the_server_omits_its_ca() -> None:
    observation = tls(PKI.chain(PKI.vendor_issuing, omit_ca=True))
    assert is_pinned(observation, [PKI.pin(PKI.vendor_issuing, with_pem=True)])
    assert not is_pinned(observation, [PKI.pin(PKI.vendor_issuing)])  # no PEM to follow
    assert not is_pinned(observation, [PKI.pin(PKI.klinikum, with_pem=True)])


def test_pinned_root_is_reached_through_the_issuing_ca() -> None:
    chain = PKI.chain(PKI.vendor_issuing, append=(PKI.vendor_root,))
    assert is_pinned(tls(chain), [PKI.pin(PKI.vendor_root)])
    # The same root appended to a forged leaf is not on its signature path.
    forged = PKI.chain(PKI.klinikum, append=(PKI.vendor_issuing, PKI.vendor_root))
    assert not is_pinned(tls(forged), [PKI.pin(PKI.vendor_root), VENDOR_PIN])


def test_an_unparseable_certificate_is_a_fact_not_a_crash() -> None:
    broken = b"\x30\x03\x02\x01\x00"
    facts = describe_der(broken)
    assert facts.parse_error and facts.sha256
    observation = tls((broken,), chain=(facts,))
    findings = verdict(presented(SMTP, observation), NONE, pins=[VENDOR_PIN], now=NOW)
    assert [f.code for f in findings] == ["tls.intercepted"]


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


def _silent(stage: ProtocolStage = ProtocolStage.BANNER, **changes: Any) -> SmtpObservation:
    base = SmtpObservation(
        service="smtp-starttls",
        address="203.0.113.10",
        port=25,
        stopped_at=stage,
        failure=StageFailure.CLOSED,
        failure_detail="connection closed by the peer",
    )
    return dataclasses.replace(base, **changes)


MAIL2_25 = Target(host="mail2.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
PROVEN = [(MAIL2_25, "O=Klinikum IT CA")]

LIKELY_ROWS = [
    ("silent twice, another :25 proven", [_silent(), _silent()], PROVEN, True),
    (
        "silent at the TLS handshake, another :25 proven",
        [
            _silent(
                ProtocolStage.TLS,
                failure=StageFailure.TLS_FAILED,
                tls=TlsObservation(outcome=TlsOutcome.CLOSED),
            )
        ],
        PROVEN,
        True,
    ),
    ("silent, nothing proven: no conviction", [_silent(), _silent()], [], False),
    (
        "a stated refusal (421) is no silent death",
        [_silent(banner=Reply(code=421, lines=("too many connections",)))],
        PROVEN,
        False,
    ),
    (
        "the handshake ended with the peer's alert",
        [
            _silent(
                ProtocolStage.TLS,
                failure=StageFailure.TLS_FAILED,
                tls=TlsObservation(
                    outcome=TlsOutcome.CLOSED, alert="received fatal alert handshake_failure"
                ),
            )
        ],
        PROVEN,
        False,
    ),
    ("only itself proven", [_silent()], [(SMTP, "O=Klinikum IT CA")], False),
]


@pytest.mark.parametrize(
    ("attempts", "convicted", "is_convicted"),
    [r[1:] for r in LIKELY_ROWS],
    ids=[r[0] for r in LIKELY_ROWS],
)
def test_likely_interception_by_the_same_device(
    attempts: list[ProtocolObservation],
    convicted: list[tuple[Target, str]],
    is_convicted: bool,
) -> None:
    findings = diagnose_likely_interception(SMTP, attempts, convicted)
    assert [f.code for f in findings] == (["tls.intercepted"] if is_convicted else [])
    if is_convicted:
        assert "likely intercepted by the same device" in findings[0].summary
        assert any("mail2.dicommail.com:25" in line for line in findings[0].evidence)


def test_an_alert_after_the_handshake_is_no_silent_death() -> None:
    """The chain as the rules see a session the server ended with an alert (TLS 1.3, our
    certificate refused) and its twin, closed without a word."""
    base = SmtpObservation(
        service="smtp-starttls",
        address="203.0.113.10",
        port=25,
        stopped_at=ProtocolStage.EHLO_TLS,
        failure=StageFailure.TLS_ALERT,
        failure_detail="tlsv13 alert certificate expired",
        tls=tls(VENDOR, post_handshake_alert="tlsv13 alert certificate expired"),
    )
    alerted = PresentedChain.of(SMTP, base)
    silent = PresentedChain.of(
        SMTP,
        dataclasses.replace(
            base,
            failure=StageFailure.CLOSED,
            failure_detail="connection closed by the peer",
            tls=tls(VENDOR),
        ),
    )
    assert alerted is not None and not alerted.died_after_handshake
    assert silent is not None and silent.died_after_handshake


def _signed_by_a_leaf(ca: trustme.CA, minted: dt.timedelta) -> tuple[bytes, ...]:
    """A chain for mail1 whose 'CA' is a leaf certificate that `ca` issued (no CA rights):
    the old trick of a box that re-signs with a certificate bought from a public CA. Its
    signatures reach `ca`; OpenSSL's path check refuses it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    bought = ca.issue_cert("relay.klinikum.example")
    bought_cert = x509.load_pem_x509_certificate(bought.cert_chain_pems[0].bytes())
    bought_key = serialization.load_pem_private_key(bought.private_key_pem.bytes(), None)
    assert isinstance(bought_key, ec.EllipticCurvePrivateKey | type(bought_key))
    not_before = dt.datetime.now(dt.UTC) - minted
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mail1")]))
        .issuer_name(bought_cert.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("mail1.dicommail.com")]), critical=False
        )
        .sign(bought_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return (forged.public_bytes(Encoding.DER), bought_cert.public_bytes(Encoding.DER))


def test_a_public_anchor_whose_path_fails_vouches_for_nothing() -> None:
    """The signatures reach a public root, but the path does not verify (a leaf acting as a
    CA): no public CA vouches for the chain, so the handshake's own signs count — and the
    same signs beside a chain the public roots verify do not."""
    chain = presented(
        SMTP, tls(_signed_by_a_leaf(PKI.klinikum, dt.timedelta(minutes=7)), **NOT_ASKED),
        completed=False,
    )  # fmt: skip
    facts = judge_chain(chain.tls, "mail1.dicommail.com", PUBLIC, [], NOW)
    assert facts.public_anchor and facts.public is not None and not facts.public.is_trusted
    (found,) = verdict(chain, PUBLIC, pins=[], others=[chain])
    assert found.code == "tls.intercepted", found
    anchored = [line for line in found.evidence if line.startswith("anchored in the public")]
    assert anchored == [
        f"anchored in the public root set ({facts.public_anchor}), but: {facts.public.detail}"
    ]
    assert "CA" in facts.public.detail, facts.public.detail
    twin = presented(SMTP, tls(FORGED, **NOT_ASKED), completed=False)
    (verified,) = verdict(twin, PUBLIC, pins=[], others=[twin])
    assert verified.code == "tls.verified"
    assert not any("anchored in the public root set" in line for line in verified.evidence)


def test_every_sign_of_a_spared_chain_is_named_in_its_summary() -> None:
    """A server that did the vendor's dance is spared conviction, but its handshake's own
    signs (here two: another CA list, another fingerprint) are each named in the summary."""
    from netdiag.diagnosis.interception import Signal

    chain = presented(
        SMTP,
        tls(FORGED_OLD, client_ca_names=("CN=Klinikum IT CA",), cipher="TLS_AES_128_GCM_SHA256"),
        completed=True,
    )
    (found,) = verdict(chain, NONE, pins=[], record=RECORD, others=[chain])
    assert found.code == "tls.unpinned"
    signs = f"{Signal.CA_LIST_DIFFERS.value}; {Signal.FINGERPRINT_DIFFERS.value}"
    assert found.summary.endswith(f"; signs of inspection: {signs}"), found.summary
