"""Where every connect of an endpoint is refused with a reset (`tcp.refused`): the connect
itself goes out with a small TTL, and the smallest TTL whose SYN is reset says how far the
reset comes from. A TTL short of the server's own hop (a clean port of the same address)
cannot reach the server, so what resets it is a firewall rule on the way
(`trace.forged_reset`, detail "syn"); at TTL 1 that may be this machine's own firewall as
well as the first hop, which the words say. Its twins — the reset as far as the server's
hop, no server hop to compare, a SYN answered on the way, this machine's own address, an
endpoint with an address that connected — keep `tcp.refused` and convict nothing.
Table-driven, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.place import (
    FIRST_HOP_OR_HERE,
    PLACED_CODES,
    cut_hop,
    place_lines,
    with_place,
)
from netdiag.renderers.summary import firewall_lines
from netdiag.report.messages import cause_sentence
from netdiag.report.model import SYN_RESET, EndpointResult, Finding, Report
from netdiag.report.observations import (
    EndpointObservation,
    Experiment,
    ExperimentResult,
    HelloAnswer,
    PlaceObservation,
    ProtocolObservation,
    TcpObservation,
    TcpOutcome,
)
from netdiag.session.place import to_place
from netdiag.session.runs import with_causes
from netdiag.settings.targets import Service, Target
from tests.unit.test_place import ADDRESS, MAIL1
from tests.unit.test_place import hops as hops_of

MAIL2 = Target(host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
SYN = Experiment.SYN_HOP_LIMITED
R, Q, U, K, N = (
    HelloAnswer.RESET,
    HelloAnswer.SILENCE,
    HelloAnswer.UNREACHABLE,
    HelloAnswer.CONNECTED,
    HelloAnswer.NOT_RUN,
)
REFUSED = finding(
    "tcp.refused",
    f"mail1.dicommail.com:995 refused with a TCP reset ({ADDRESS})",
    [f"connect {ADDRESS}:995: ECONNREFUSED (Connection refused) after 0.3 ms"],
)


def syns(*answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    """The SYN at TTL 1, 2, ... with these answers."""
    return hops_of(*answers, kind=SYN)


def server_at(hop: int) -> tuple[ExperimentResult, ...]:
    """The clean port 25's hellos: expired below `hop`, answered from it on."""
    return hops_of(*([U] * (hop - 1)), HelloAnswer.SERVER_HELLO, port=25)


def place(
    reset: tuple[ExperimentResult, ...], server: int | None, **more: object
) -> PlaceObservation:
    return PlaceObservation(
        address=ADDRESS,
        port=995,
        hops=reset,
        control_port=25 if server else None,
        control_hops=server_at(server) if server else (),
        experiment=SYN,
        **more,  # type: ignore[arg-type]
    )


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("reset", "server", "where", "subject"),
    [
        # Reset at TTL 1 (a rule before routing, or this machine's own), the server at hop 2.
        (
            syns(R, R, R, R),
            2,
            "this machine's own firewall or the first hop (this gateway's router or firewall)",
            FIRST_HOP_OR_HERE,
        ),
        # Expired at TTL 1 (the router said so), reset from 2, the server at hop 5.
        (syns(U, R, R, R), 5, "a device no farther than 2 hops away", "within 2 hops"),
        # Silent expiries (Windows reports no ICMP to a connect) count as expiries.
        (syns(Q, Q, R, R), 8, "a device no farther than 3 hops away", "within 3 hops"),
    ],
)
def test_a_reset_short_of_the_servers_hop_is_a_rule_on_the_way(
    reset: tuple[ExperimentResult, ...], server: int, where: str, subject: str
) -> None:
    placed = with_place(MAIL1, place(reset, server), [REFUSED])
    assert codes(placed) == ["trace.forged_reset", "tcp.refused"]
    forged = placed[0]
    assert forged.detail == SYN_RESET and forged.subject == subject
    assert where in forged.summary and f"answers from hop {server}" in forged.summary
    # Never exact: at TTL 1 this machine's firewall, from TTL 2 one hop nearer.
    assert forged.place is None
    assert "TCP 995" in forged.remedy and "allow the vendor's hosts" in forged.remedy
    own_first = "in this gateway's own firewall first" in forged.remedy
    assert own_first is (subject == FIRST_HOP_OR_HERE), forged.remedy
    assert forged.explains_others
    # The measurement and the refusal are its evidence.
    assert any(line.startswith("place: the SYN is reset") for line in forged.evidence)
    assert REFUSED.evidence[0] in forged.evidence
    # The symptom stays, with the measurement, under the cause that explains it.
    assert placed[1].summary == REFUSED.summary
    assert any("place: the SYN is reset" in line for line in placed[1].evidence)


@pytest.mark.parametrize(
    ("measured", "summary_part", "line"),
    [
        # The twin: the reset as far as the server's own hop — the server, a device at its
        # end, or a firewall one hop nearer that counts its hop first.
        (
            place(syns(U, R, R, R), 2),
            "; the reset comes from as far as the server's own hop (2): the server, a device "
            "at its end of the path, or a firewall one hop nearer that counts its hop before "
            "it filters (--trace tells them apart by the IP TTL of the reset)",
            "from TTL 2 on",
        ),
        (place(syns(Q, Q, R, R), 2), "as far as the server's own hop (2)", "from TTL 3 on"),
        # A server one hop away (on this network): TTL 1 reaches it.
        (place(syns(R, R, R, R), 1), "as far as the server's own hop (1)", "at TTL 1"),
        # No clean port: nothing to compare with.
        (place(syns(R, R, R, R), None), "", "at TTL 1"),
        # A SYN answered on the way: the refusal passed, nothing is placed.
        (place(syns(K, R, R, R), 2), "", "was answered: the reset passed"),
        (place(syns(U, K, R, R), 3), "", "TTL 2 was answered"),
        # Nothing reset within the TTLs tried, or nothing ran.
        (place(syns(U, U, U, U), 5), "", "no SYN with a TTL up to 4 was reset or answered"),
        (place((), 2, hops_problem="no time left in the run"), "", "did not run: no time"),
        # This machine's own address.
        (place(syns(R, R, R, R), 2, is_own_address=True), "", "this machine's own address"),
    ],
)
def test_its_twins_convict_nothing_and_keep_the_refusal(
    measured: PlaceObservation, summary_part: str, line: str
) -> None:
    placed = with_place(MAIL1, measured, [REFUSED])
    assert codes(placed) == ["tcp.refused"]
    assert summary_part in placed[0].summary
    if not summary_part:
        assert placed[0].summary == REFUSED.summary
    assert any(line in text for text in placed[0].evidence), placed[0].evidence


def test_a_refusal_without_the_syn_experiment_is_not_touched_by_it() -> None:
    """Another experiment's place (a hello's) says nothing about a refused connect."""
    measured = PlaceObservation(
        address=ADDRESS, port=995, hops=syns(R, R), experiment=Experiment.CUT_HOP_LIMITED
    )
    assert with_place(MAIL1, measured, [REFUSED]) == (REFUSED,)


def test_the_reset_hop_is_the_smallest_ttl_reset() -> None:
    assert cut_hop(syns(U, R, R)) == 2
    assert cut_hop(syns(Q, U, Q)) is None
    assert cut_hop(syns(K, K)) is None


def test_the_lines_say_what_each_ttl_got() -> None:
    lines = place_lines(place(syns(U, R, R, R), 4))
    assert lines[:2] == [
        "place: the SYN is reset from TTL 2 on, not below: what resets it is no farther than 2 "
        "hops away (a device that counts its hop before it filters resets from the TTL after "
        "its own)",
        "place: the server itself answers its clean port 25 from TTL 4 on",
    ]
    # No word about this machine's socket table: a refused connect has no other end.
    assert not any("socket" in line for line in lines)
    assert len(lines) == 2 + 4 + 4  # every SYN and every hello sent
    assert lines[2].startswith(f"experiment syn_hop_limited: SYN (TTL 1) to {ADDRESS}:995 ->")
    first = place_lines(place(syns(R), 2))
    assert first[0] == (
        "place: the SYN is reset at TTL 1: what resets it is this machine's own firewall or "
        "the first hop — a SYN with TTL 1 goes no farther"
    )


def test_one_cause_for_every_host_of_the_port_in_both_languages() -> None:
    endpoints = [
        EndpointResult(target=t, findings=with_place(t, place(syns(R, R), 2), [REFUSED]))
        for t in (MAIL1, MAIL2)
    ]
    (cause,) = find_causes(endpoints)
    assert cause.code == "trace.forged_reset" and len(cause.endpoints) == 2
    assert cause_sentence(cause, "en") == (
        "A firewall rule on this machine or at the first hop (this gateway's router or "
        "firewall), short of the servers, rejects TCP 995 to mail1.dicommail.com and "
        "mail2.dicommail.com with resets in their name."
    )
    assert cause_sentence(cause, "de").startswith(
        "Eine Firewall-Regel auf diesem Rechner oder am ersten Hop"
    )
    farther = [
        EndpointResult(target=MAIL1, findings=with_place(MAIL1, place(syns(U, R), 5), [REFUSED]))
    ]
    (cause,) = find_causes(farther)
    assert cause_sentence(cause, "en").startswith(
        "A firewall rule no farther than 2 hops away, short of the servers, rejects"
    )
    assert "höchstens 2 Hops entfernt" in cause_sentence(cause, "de")


# --- which endpoints get the SYN experiment ----------------------------------------------


def tcp(*outcomes: TcpOutcome) -> tuple[TcpObservation, ...]:
    return tuple(
        TcpObservation(address=f"198.51.100.{n}", port=995, family=4, outcome=o)
        for n, o in enumerate(outcomes, start=11)
    )


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        (EndpointObservation(tcp=tcp(TcpOutcome.REFUSED)), True),
        (EndpointObservation(tcp=tcp(TcpOutcome.REFUSED, TcpOutcome.TIMEOUT)), True),
        # An address that connected: the endpoint talked to something; not this experiment.
        (
            EndpointObservation(
                tcp=tcp(TcpOutcome.REFUSED, TcpOutcome.OPEN),
                attempts=(ProtocolObservation(service="pop3s", address="198.51.100.12", port=995),),
            ),
            False,
        ),
        # Refused by nobody: silent or unreachable is a trace's to place.
        (EndpointObservation(tcp=tcp(TcpOutcome.TIMEOUT)), False),
    ],
)
def test_the_syn_experiment_is_chosen_for_refused_endpoints_only(
    observation: EndpointObservation, expected: bool
) -> None:
    verdicts = {MAIL1: (REFUSED,)}
    assert (to_place({MAIL1: observation}, verdicts) == {MAIL1: SYN}) is expected


def test_a_refusal_is_a_verdict_whose_place_is_measured() -> None:
    assert "tcp.refused" in PLACED_CODES
    healthy = EndpointObservation(tcp=tcp(TcpOutcome.REFUSED))
    assert to_place({MAIL1: healthy}, {MAIL1: ()}) == {}  # no refusal found: nothing sent


def test_answers_of_a_syn() -> None:
    assert K.is_answer and not K.is_cut_by_peer
    assert R.is_cut_by_peer and not N.is_answer


# --- what the firewall team is asked ------------------------------------------------------


def reported(reset: tuple[ExperimentResult, ...], server: int) -> Report:
    endpoints = tuple(
        EndpointResult(target=t, findings=with_place(t, place(reset, server), [REFUSED]))
        for t in (MAIL1, MAIL2)
    )
    report = Report(started=datetime.now(UTC), duration_s=1.0, endpoints=endpoints)
    return with_causes(report)


@pytest.mark.parametrize(
    ("reset", "en", "de"),
    [
        (
            syns(R, R),
            "At this machine's own firewall or the first hop (this gateway's router or "
            "firewall): allow TCP 995 from the gateway to",
            "Bei der eigenen Firewall dieses Rechners oder dem ersten Hop",
        ),
        (
            syns(U, U, R),
            "At a firewall no farther than 3 hops away: allow TCP 995 from the gateway to",
            "Bei einer Firewall höchstens 3 Hops entfernt: TCP 995 vom Gateway",
        ),
    ],
)
def test_the_firewall_team_is_asked_to_allow_the_port_not_to_exempt_it(
    reset: tuple[ExperimentResult, ...], en: str, de: str
) -> None:
    report = reported(reset, 5)
    assert report.remedy_plan.allow == (("mail1.dicommail.com", 995), ("mail2.dicommail.com", 995))
    assert report.remedy_plan.exempt == ()
    assert any(line.startswith(f"[1] {en}") for line in firewall_lines(report, "en"))
    assert any(line.startswith(f"[1] {de}") for line in firewall_lines(report, "de"))


def test_a_cut_hello_is_still_an_exemption() -> None:
    """The twin: the same code for hellos cut short of the server asks for an exemption
    from inspection, not a rule."""
    hello = replace(place(syns(R, R), 2), experiment=Experiment.CUT_HOP_LIMITED)
    hello = replace(
        hello, hops=tuple(replace(h, kind=Experiment.CUT_HOP_LIMITED) for h in hello.hops)
    )
    failed = finding("tls.handshake_failed", "TLS on mail1.dicommail.com:995 failed", [])
    endpoints = (EndpointResult(target=MAIL1, findings=with_place(MAIL1, hello, [failed])),)
    report = with_causes(Report(started=datetime.now(UTC), duration_s=1.0, endpoints=endpoints))
    assert report.remedy_plan.exempt == (("mail1.dicommail.com", 995),)
    assert report.remedy_plan.allow == ()
