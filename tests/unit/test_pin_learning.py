"""Learning pins from a report and verifying a report against pins (issue 32, the surviving
mutants of `netdiag.trust.pin_commands`), without a network: what is learned from a clean
chain (every CA on the leaf's signature path, the topmost with its issuer recorded, scoped
to the profile's group), what is refused and said (a convicted or suspicious chain, a
handshake that did not complete, no CA sent, a CA sent along that signed nothing), and each
endpoint's state against the pins."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import EndpointResult, Report
from netdiag.report.observations import Pop3Observation, ProtocolStage, TlsObservation, TlsOutcome
from netdiag.settings.targets import Service, Target
from netdiag.trust.chains import describe_der, spki_sha256
from netdiag.trust.pin_commands import PinState, PinVerdict, learn_pins, verify_pins
from netdiag.trust.pins import PinSet
from tests.servers.pki import DatedCa

NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ROOT = DatedCa("Vendor Root CA", NOW - 900 * DAY, NOW + 900 * DAY)
ISSUING = DatedCa("Vendor Issuing CA", NOW - 800 * DAY, NOW + 800 * DAY, parent=ROOT)
STRANGER = DatedCa("Klinikum Inspection CA", NOW - 100 * DAY, NOW + 100 * DAY)
MAIL1 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
ATLAS = Target(host="atlas79.mydhp.de", port=8140, service=Service.TLS, group="")
PLAIN = Target(host="mail1.dicommail.com", port=25, service=Service.TCP, group="dicommail")


def der(*certificates: x509.Certificate) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(Encoding.DER) for c in certificates)


def shown(chain: tuple[bytes, ...], outcome: TlsOutcome = TlsOutcome.ESTABLISHED) -> TlsObservation:
    return TlsObservation(
        outcome=outcome,
        chain_der=chain,
        chain=tuple(describe_der(d) for d in chain),
        was_client_cert_requested=True,
        client_ca_names=("O=Vendor Root CA",),
        version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        group="x25519",
    )


def endpoint(target: Target, tls: TlsObservation | None, *codes: str) -> EndpointResult:
    protocol = Pop3Observation(
        service=target.service.value, address="198.51.100.1", port=target.port,
        stopped_at=ProtocolStage.DONE, tls=tls,
    )  # fmt: skip
    findings = tuple(finding(code, f"{target.label}: {code}") for code in codes)
    return EndpointResult(target=target, findings=findings, protocol=protocol)


def report(*endpoints: EndpointResult) -> Report:
    return Report(started=NOW, duration_s=0.1, endpoints=endpoints)


GENUINE = der(ISSUING.leaf(NOW - 30 * DAY, NOW + 300 * DAY), ISSUING.cert)
SOURCE = "learned from {} on 2026-12-02"


def test_a_clean_chain_teaches_the_path_up_to_its_top_with_the_tops_issuer() -> None:
    learned = learn_pins(report(endpoint(MAIL1, shown(GENUINE), "tls.unpinned")), NOW)
    [pin] = learned.pins.pins
    assert pin.subject == "O=Vendor Issuing CA" and pin.role == "issuing"
    assert pin.spki_sha256 == spki_sha256(ISSUING.cert)
    assert pin.applies_to == ("dicommail",)  # the profile's group: all its hosts
    assert pin.source == SOURCE.format(MAIL1.label)
    assert pin.issuer == "O=Vendor Root CA" and pin.issuer_key_id  # for a rotation later
    [record] = learned.pins.records
    assert record.endpoint == MAIL1.label and record.was_client_cert_requested is True
    assert record.client_ca_names == ("O=Vendor Root CA",)
    assert record.fingerprint == "TLSv1.3/TLS_AES_256_GCM_SHA384/x25519"
    assert learned.skipped == ()


def test_a_root_sent_along_is_learned_too_and_an_endpoint_without_a_group_by_its_host() -> None:
    chain = der(ISSUING.leaf(NOW - DAY, NOW + DAY), ISSUING.cert, ROOT.cert)
    learned = learn_pins(report(endpoint(ATLAS, shown(chain))), NOW)
    assert [(p.subject, p.role, p.applies_to, p.issuer) for p in learned.pins.pins] == [
        ("O=Vendor Issuing CA", "issuing", ("atlas79.mydhp.de",), ""),
        ("O=Vendor Root CA", "root", ("atlas79.mydhp.de",), ""),
    ]


def test_what_is_not_learned_is_said_and_why() -> None:
    forged = der(STRANGER.leaf(NOW - DAY, NOW + DAY), STRANGER.cert)
    leaf_alone = der(ISSUING.leaf(NOW - DAY, NOW + DAY))
    sent_along = der(STRANGER.leaf(NOW - DAY, NOW + DAY), ISSUING.cert)
    others = [
        Target(host=f"mail{n}.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
        for n in range(2, 8)
    ]
    suspicious = endpoint(others[3], shown(GENUINE), "tls.unpinned")
    suspicious = EndpointResult(
        target=suspicious.target,
        protocol=suspicious.protocol,
        findings=(
            finding("tls.unpinned", "not verified; signs of inspection: the server did not ask"),
        ),
    )
    learned = learn_pins(
        report(
            endpoint(MAIL1, shown(forged), "tls.intercepted"),
            endpoint(others[0], shown(GENUINE, TlsOutcome.FAILED)),
            endpoint(others[1], shown(leaf_alone)),
            endpoint(others[2], shown(sent_along)),
            suspicious,
            endpoint(others[4], None),
            endpoint(PLAIN, None),
            endpoint(others[5], shown(GENUINE), "tls.not_the_server"),
        ),
        NOW,
    )
    assert learned.pins.pins == () and learned.pins.records == ()
    # The same in German, line for line.
    assert learned.skipped_de[1:4] == (
        f"{others[0].label}: nicht gelernt, der Handshake wurde nicht abgeschlossen",
        f"{others[1].label}: der Server schickte kein CA-Zertifikat mit seinem eigenen",
        f"{others[2].label}: kein CA-Zertifikat der Kette hat das Serverzertifikat signiert",
    )
    assert learned.skipped_de[5] == (
        f"{others[4].label}: kein TLS-Handshake, aus dem zu lernen wäre"
    )
    assert learned.skipped_de[0].startswith(
        f"{MAIL1.label}: nicht gelernt, die Kette ist nicht die des Servers des Herstellers"
    )
    assert len(learned.skipped_de) == len(learned.skipped)
    assert learned.skipped == (
        f"{MAIL1.label}: not learned, the chain is not the vendor's server's as presented: "
        f"{MAIL1.label}: tls.intercepted",
        f"{others[0].label}: not learned, the handshake did not complete",
        f"{others[1].label}: the server sent no CA certificate with its own",
        f"{others[2].label}: no CA certificate of the chain signed the leaf",
        f"{others[3].label}: not learned, the chain is not the vendor's server's as presented: "
        "not verified; signs of inspection: the server did not ask",
        f"{others[4].label}: no TLS handshake to learn from",
        f"{others[5].label}: not learned, the chain is not the vendor's server's as presented: "
        f"{others[5].label}: tls.not_the_server",
    )


def test_an_unreadable_certificate_is_said_and_the_rest_learned() -> None:
    chain = (*GENUINE, b"\x30\x03\x02\x01\x01")
    learned = learn_pins(report(endpoint(MAIL1, shown(chain))), NOW)
    assert [p.subject for p in learned.pins.pins] == ["O=Vendor Issuing CA"]
    assert learned.skipped == (f"{MAIL1.label}: 1 certificate(s) cannot be read",)
    assert learned.skipped_de == (f"{MAIL1.label}: 1 Zertifikat(e) nicht lesbar",)


def test_each_endpoint_against_the_pins() -> None:
    pins = learn_pins(report(endpoint(MAIL1, shown(GENUINE))), NOW).pins
    forged = der(STRANGER.leaf(NOW - DAY, NOW + DAY), STRANGER.cert)
    mail2 = Target(host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
    verdicts = verify_pins(
        report(
            endpoint(MAIL1, shown(GENUINE)),
            endpoint(mail2, shown(forged)),
            endpoint(ATLAS, shown(GENUINE)),  # no pin applies to another group
            endpoint(PLAIN, None),  # plain TCP: nothing to verify
            endpoint(Target(host="x.example", port=1, service=Service.TLS, group=""), None),
        ),
        pins,
    )
    assert verdicts == [
        PinVerdict(MAIL1.label, PinState.PINNED, "O=Vendor Issuing CA", ""),
        PinVerdict(
            mail2.label,
            PinState.NOT_PINNED,
            "O=Klinikum Inspection CA",
            "pinned: O=Vendor Issuing CA",
        ),
        PinVerdict(
            ATLAS.label, PinState.NO_PINS, "O=Vendor Issuing CA", "no pin applies to this endpoint"
        ),
        PinVerdict("x.example:1", PinState.NO_CHAIN, "", "no TLS handshake"),
    ]
    assert [v.verdict.status.label for v in verdicts] == ["ok", "crit", "warn", "warn"]
    assert verify_pins(report(endpoint(MAIL1, shown(GENUINE))), PinSet())[0].verdict is (
        PinState.NO_PINS
    )


def test_the_verdicts_in_german() -> None:
    from netdiag.renderers.pins import verdicts_table

    verdicts = [
        PinVerdict(MAIL1.label, PinState.PINNED, "O=Vendor Issuing CA", ""),
        PinVerdict("m2:995", PinState.NOT_PINNED, "O=X", "pinned: O=Vendor Issuing CA"),
        PinVerdict(ATLAS.label, PinState.NO_PINS, "O=Y", "no pin applies to this endpoint"),
        PinVerdict("x:1", PinState.NO_CHAIN, "", "no TLS handshake"),
    ]
    table = verdicts_table(verdicts, "de").splitlines()
    assert table[0].split() == ["Urteil", "Endpunkt", "gezeigter", "Aussteller", "Einzelheit"]
    body = "\n".join(table[2:])
    for words in (
        "NICHT gepinnt",
        "gepinnt: O=Vendor Issuing CA",
        "keine Pins",
        "kein Pin gilt für diesen Endpunkt",
        "keine Kette",
        "kein TLS-Handshake",
    ):
        assert words in body, words  # fmt: skip
    assert "pinned" not in body and "endpoint" not in body


def test_pins_are_learned_from_every_clean_endpoint_and_never_from_an_unproven_chain() -> None:
    """Two groups, two hierarchies: each endpoint teaches its own pin. A chain whose
    handshake could not prove possession (`tls.chain_unproven`) and an endpoint whose probe
    never reached its protocol teach nothing."""
    mydhp = DatedCa("Mydhp Issuing CA", NOW - 800 * DAY, NOW + 800 * DAY, parent=ROOT)
    atlas_chain = der(mydhp.leaf(NOW - DAY, NOW + DAY, host=ATLAS.host), mydhp.cert)
    mail2 = Target(host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
    never = Target(host="mail3.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
    learned = learn_pins(
        report(
            endpoint(MAIL1, shown(GENUINE)),
            endpoint(mail2, shown(GENUINE), "tls.chain_unproven"),
            EndpointResult(target=never, findings=()),
            endpoint(ATLAS, shown(atlas_chain)),
        ),
        NOW,
    )
    assert [(p.subject, p.applies_to) for p in learned.pins.pins] == [
        ("O=Vendor Issuing CA", ("dicommail",)),
        ("O=Mydhp Issuing CA", ("atlas79.mydhp.de",)),
    ]
    assert learned.skipped == (
        f"{mail2.label}: not learned, the chain is not the vendor's server's as presented: "
        f"{mail2.label}: tls.chain_unproven",
        f"{never.label}: no TLS handshake to learn from",
    )


def test_every_endpoint_is_verified_past_one_without_a_chain() -> None:
    """An endpoint whose probe never reached its protocol, then one with a chain: both
    verdicts; a chain against two pins names both."""
    second = DatedCa("Vendor Issuing CA 2", NOW - 800 * DAY, NOW + 800 * DAY, parent=ROOT)
    pins = learn_pins(
        report(
            endpoint(MAIL1, shown(GENUINE)),
            endpoint(MAIL1, shown(der(second.leaf(NOW - DAY, NOW + DAY), second.cert))),
        ),
        NOW,
    ).pins
    forged = der(STRANGER.leaf(NOW - DAY, NOW + DAY), STRANGER.cert)
    verdicts = verify_pins(
        report(EndpointResult(target=MAIL1, findings=()), endpoint(MAIL1, shown(forged))), pins
    )
    assert verdicts == [
        PinVerdict(MAIL1.label, PinState.NO_CHAIN, "", "no TLS handshake"),
        PinVerdict(
            MAIL1.label,
            PinState.NOT_PINNED,
            "O=Klinikum Inspection CA",
            "pinned: O=Vendor Issuing CA; O=Vendor Issuing CA 2",
        ),
    ]
