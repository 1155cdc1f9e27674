"""Where STARTTLS goes missing: the pure conclusions from an EHLO sent with growing TTLs
(`netdiag.diagnosis.place`), table-driven, each conviction with its twin — an SMTP proxy
before the server against a server that answers at its own distance; a local socket against
a server at this machine's own address; a hop without the server's beside it; what was not
measured — and which endpoints a run measures at all (`netdiag.session.place.to_place`)."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.place import place_lines, with_place
from netdiag.report.messages import cause_sentence
from netdiag.report.model import DevicePlace, EndpointResult, Finding
from netdiag.report.observations import (
    CertificateFacts,
    EndpointObservation,
    Experiment,
    ExperimentResult,
    HelloAnswer,
    LocalPeer,
    PlaceObservation,
    Pop3Observation,
    ProtocolStage,
    Reply,
    SmtpObservation,
    TlsObservation,
    TlsOutcome,
)
from netdiag.session.place import to_place
from netdiag.settings.targets import Service, Target

MAIL1 = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS, group="m")
MAIL2 = Target(host="mail2.dicommail.com", port=25, service=Service.SMTP_STARTTLS, group="m")
POP1 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="m")
ADDRESS = "198.51.100.11"
E, Q, R = (
    HelloAnswer.SMTP_REPLY,
    HelloAnswer.SILENCE,
    HelloAnswer.RESET,
)
MISSING = finding(
    "smtp.starttls_missing",
    "SMTP on mail1.dicommail.com:25: STARTTLS is not offered in the EHLO reply",
    ["answer to STARTTLS: 502 5.5.1 Error: command not implemented"],
)
POSTFIX = LocalPeer(process="smtpd (pid 4242)", local_address="127.0.0.1:10025")


def sent(kind: Experiment, port: int, *answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    """What was sent at TTL 1, 2, ... and these answers."""
    return tuple(
        ExperimentResult(
            kind=kind,
            address=ADDRESS,
            port=port,
            answer=answer,
            detail="250 mail1.dicommail.com" if answer is E else "",
            hop_limit=ttl,
        )
        for ttl, answer in enumerate(answers, start=1)
    )


def ehlo_hops(*answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    return sent(Experiment.EHLO_HOP_LIMITED, 25, *answers)


def hello_hops(*answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    """The clean port's hello."""
    return sent(Experiment.HOP_LIMITED, 995, *answers)


S = HelloAnswer.SERVER_HELLO


def place(**fields: object) -> PlaceObservation:
    return PlaceObservation(
        address=ADDRESS,
        port=25,
        experiment=Experiment.EHLO_HOP_LIMITED,
        **fields,  # type: ignore[arg-type]
    )


def only(findings: tuple[Finding, ...]) -> Finding:
    assert len(findings) == 1
    return findings[0]


# (name, EHLO answers, the clean port's hello answers, STARTTLS accepted anyway,
#  a part of the summary, the device's place)
CASES = [
    (
        "proxy at the first hop",
        (E, E, E, E),
        (Q, S, S, S),
        False,
        "the SMTP session ends at the first hop (this gateway's router or firewall), before "
        "the server (hop 2): a proxy there answers in the server's name",
        DevicePlace(hop=1),
    ),
    (
        "proxy three hops away",
        (Q, Q, E, E),
        (Q, Q, Q, S),
        False,
        "ends at a device 3 hops away, before the server (hop 4)",
        DevicePlace(hop=3),
    ),
    (
        "proxy, a nearer EHLO cut",
        (R, Q, E, E),
        (Q, Q, Q, S),
        False,
        "ends at no farther than 3 hops, before the server (hop 4)",
        None,
    ),
    # The twins: the same EHLO answered as far as the server answers its clean port.
    (
        "answered at the server's distance",
        (Q, E, E, E),
        (Q, S, S, S),
        False,
        "either the server does not offer STARTTLS, or a device that does not end the session "
        "(ESMTP inspection) removes it",
        None,
    ),
    (
        "answered at the server's distance, STARTTLS accepted",
        (Q, E, E, E),
        (Q, S, S, S),
        True,
        "a device that does not end the session (ESMTP inspection) rewrites the reply",
        None,
    ),
]


@pytest.mark.parametrize(
    ("ehlo", "control", "accepted", "part", "device"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_where_the_session_ends_is_in_the_summary(
    ehlo: tuple[HelloAnswer, ...],
    control: tuple[HelloAnswer, ...],
    accepted: bool,
    part: str,
    device: DevicePlace | None,
) -> None:
    measured = place(hops=ehlo_hops(*ehlo), control_port=995, control_hops=hello_hops(*control))
    placed = only(with_place(MAIL1, measured, [MISSING], starttls_accepted=accepted))
    assert placed.code == "smtp.starttls_missing"
    assert placed.summary.startswith(MISSING.summary)
    assert part in placed.summary, placed.summary
    assert placed.place == device
    # A proxy before the server gets a remedy for that device; the rest keep the finding's.
    if "before the server" in part:
        assert placed.remedy.startswith("An SMTP proxy on the path (")
        assert "exempt the vendor's mail servers from SMTP proxying" in placed.remedy
        assert placed.has_own_remedy is True
    else:
        assert placed.remedy == MISSING.remedy
        assert placed.has_own_remedy is False
    # A proxy is named only where the session ends before the server's own hop.
    assert ("a proxy there" in placed.summary) is ("before the server" in part)


def test_a_remedy_of_its_own_stays_its_own() -> None:
    accepted = finding("smtp.starttls_missing", MISSING.summary, remedy="The server accepts …")
    measured = place(hops=ehlo_hops(Q, E), control_port=995, control_hops=hello_hops(Q, S))
    placed = only(with_place(MAIL1, measured, [accepted], starttls_accepted=True))
    assert placed.remedy == "The server accepts …" and placed.has_own_remedy is True


def test_unless_said_otherwise_the_server_did_not_take_starttls() -> None:
    measured = place(hops=ehlo_hops(Q, E), control_port=995, control_hops=hello_hops(Q, S))
    placed = only(with_place(MAIL1, measured, [MISSING]))
    assert "either the server does not offer STARTTLS" in placed.summary
    assert placed.detail == "at_server"


def test_the_server_taking_starttls_drops_the_servers_own_cause() -> None:
    measured = place(hops=ehlo_hops(Q, E), control_port=995, control_hops=hello_hops(Q, S))
    placed = only(with_place(MAIL1, measured, [MISSING], starttls_accepted=True))
    assert "the server does not offer" not in placed.summary


@pytest.mark.parametrize(
    ("measured", "line"),
    [
        # Without the server's own hop beside it, an EHLO answered at hop 1 may be the server.
        (place(hops=ehlo_hops(E, E, E, E)), "the EHLO is answered from TTL 1 on, not below"),
        (place(hops=ehlo_hops(Q, Q, Q, Q)), "no EHLO with a TTL up to 4 was answered"),
        (place(hops=ehlo_hops(R, R, R, R)), "the hop-limited EHLOs were cut (reset or closed)"),
        (place(hops_problem="no time left in the run"), "the hop-limited EHLOs did not run"),
        (
            place(hops=ehlo_hops(E, E), control_port=995, control_hops=hello_hops(Q, Q, Q, Q)),
            "the EHLO is answered from TTL 1 on",
        ),
    ],
)
def test_without_the_servers_hop_nothing_is_placed(measured: PlaceObservation, line: str) -> None:
    placed = only(with_place(MAIL1, measured, [MISSING]))
    assert placed.code == "smtp.starttls_missing"
    assert placed.summary == MISSING.summary
    assert placed.place is None
    assert placed.remedy == MISSING.remedy and placed.has_own_remedy is False
    assert placed.detail == ""
    assert any(line in text for text in placed.evidence), placed.evidence


def test_a_local_socket_is_software_on_this_machine() -> None:
    placed = only(with_place(MAIL1, place(local_peer=POSTFIX), [MISSING]))
    assert placed.code == "smtp.starttls_stripped_locally"
    assert placed.subject == "smtpd"
    assert "answered on this machine by smtpd" in placed.summary
    assert "127.0.0.1:10025" in placed.summary
    assert placed.remedy.startswith("Software on this gateway (smtpd) intercepts")
    assert "not in the firewall" in placed.remedy
    assert "mail1.dicommail.com:25 (smtp-starttls)" in placed.remedy
    assert "answer to STARTTLS: 502 5.5.1 Error: command not implemented" in placed.evidence


def test_a_local_socket_at_this_machines_own_address_is_the_server() -> None:
    """The twin: a mail server on this machine is its own connection's other end."""
    placed = only(with_place(MAIL1, place(local_peer=POSTFIX, is_own_address=True), [MISSING]))
    assert placed.code == "smtp.starttls_missing"
    assert any("this machine's own address" in line for line in placed.evidence)


def test_place_lines_speak_of_the_ehlo_and_the_smtp_answer() -> None:
    measured = place(hops=ehlo_hops(Q, E), control_port=995, control_hops=hello_hops(Q, S))
    lines = place_lines(measured)
    assert (
        "place: the EHLO is answered from TTL 2 on, not below: the SMTP answer comes from a "
        "device 2 hops away" in lines
    )
    assert "place: the server itself answers its clean port 995 from TTL 2 on" in lines
    assert (
        f"experiment ehlo_hop_limited: EHLO (after the banner, TTL 2) to {ADDRESS}:25 -> "
        "smtp_reply (250 mail1.dicommail.com) in 0 ms" in lines
    )
    assert not any("hello" in line for line in lines[:2])


def result(target: Target, found: Finding) -> EndpointResult:
    return EndpointResult(target=target, findings=(found,))


@pytest.mark.parametrize(
    ("place_", "sentence"),
    [
        (
            DevicePlace(hop=1),
            "A device at the first hop (this gateway's router or firewall) answers SMTP to "
            "mail1.dicommail.com and mail2.dicommail.com (TCP 25) in the servers' name and "
            "leaves STARTTLS out",
        ),
        (DevicePlace(hop=2, address="192.0.2.1"), "A device 2 hops away (192.0.2.1) answers"),
        (
            None,
            "The EHLO replies of mail1.dicommail.com and mail2.dicommail.com (TCP 25) offer no "
            "STARTTLS: a device on the path removes it, or the servers do not offer it.",
        ),
    ],
)
def test_the_cause_sentence_names_the_device_only_where_placed(
    place_: DevicePlace | None, sentence: str
) -> None:
    found = dataclasses.replace(MISSING, place=place_)
    (cause,) = find_causes([result(MAIL1, found), result(MAIL2, found)])
    assert sentence in cause_sentence(cause, "en")
    german = cause_sentence(cause, "de")
    assert ("Ein Gerät" in german) is (place_ is not None)


@pytest.mark.parametrize(
    ("ehlo", "accepted", "sentence"),
    [
        ((Q, E), False, "and they come from as far away as the servers themselves"),
        ((Q, E), True, "A device on the path removes STARTTLS from the EHLO replies of"),
    ],
)
def test_the_cause_sentence_of_a_session_answered_at_the_servers_distance(
    ehlo: tuple[HelloAnswer, ...], accepted: bool, sentence: str
) -> None:
    measured = place(hops=ehlo_hops(*ehlo), control_port=995, control_hops=hello_hops(Q, S))
    seen = finding("smtp.starttls_missing", MISSING.summary, detail="accepted" if accepted else "")
    one = only(with_place(MAIL1, measured, [seen], starttls_accepted=accepted))
    (cause,) = find_causes([result(MAIL1, one), result(MAIL2, one)])
    assert sentence in cause_sentence(cause, "en")
    assert cause.place is None
    assert "Gerät" in cause_sentence(cause, "de") or not accepted


def test_the_local_cause_names_every_endpoint_in_its_remedy() -> None:
    one = only(with_place(MAIL1, place(local_peer=POSTFIX), [MISSING]))
    two = only(with_place(MAIL2, place(local_peer=POSTFIX), [MISSING]))
    (cause,) = find_causes([result(MAIL1, one), result(MAIL2, two)])
    assert cause.code == "smtp.starttls_stripped_locally"
    assert "mail1.dicommail.com:25" in cause.remedy and "mail2.dicommail.com:25" in cause.remedy
    assert cause_sentence(cause, "en").startswith(
        "Software on this machine (smtpd) answers SMTP to mail1.dicommail.com and "
        "mail2.dicommail.com (TCP 25) and leaves STARTTLS out"
    )


def smtp_seen(advertised: bool) -> EndpointObservation:
    ehlo = Reply(code=250, lines=("mail1.dicommail.com", "PIPELINING"))
    return EndpointObservation(
        attempts=(
            SmtpObservation(
                service="smtp-starttls",
                address=ADDRESS,
                port=25,
                ehlo=ehlo,
                is_starttls_advertised=advertised,
                stopped_at=ProtocolStage.STARTTLS,
            ),
        )
    )


def tls_seen(chain: bool) -> EndpointObservation:
    shown = (
        CertificateFacts(
            subject="CN=mail1.dicommail.com",
            issuer="CN=Klinikum",
            serial="1",
            not_before="",
            not_after="",
            sha256="",
            spki_sha256="",
        ),
    )
    return EndpointObservation(
        attempts=(
            Pop3Observation(
                service="pop3s",
                address=ADDRESS,
                port=995,
                tls=TlsObservation(outcome=TlsOutcome.ESTABLISHED, chain=shown if chain else ()),
                stopped_at=ProtocolStage.DONE,
            ),
        )
    )


def test_only_a_missing_starttls_or_a_shown_forged_chain_is_placed() -> None:
    masked = finding("smtp.starttls_masked", "STARTTLS is masked as 'XXXXXXXA'")
    intercepted = finding("tls.intercepted", "TLS is intercepted")
    observations = {
        MAIL1: smtp_seen(advertised=False),
        MAIL2: smtp_seen(advertised=False),
        POP1: tls_seen(chain=True),
    }
    assert to_place(observations, {MAIL1: [MISSING], MAIL2: [masked], POP1: [intercepted]}) == {
        MAIL1: Experiment.EHLO_HOP_LIMITED,
        POP1: Experiment.HOP_LIMITED,
    }
    # Twins: likely intercepted (no chain shown), an ESMTP mask, a healthy run: nothing sent.
    observations[POP1] = tls_seen(chain=False)
    assert to_place(observations, {MAIL1: [], MAIL2: [masked], POP1: [intercepted]}) == {}
