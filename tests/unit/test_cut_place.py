"""Where every hello of an endpoint is cut (a reset or a close, the control and every
variant): the hop-limited hello finds from which TTL on a peer cuts it. A TTL short of the
server's own hop (its clean port's) cannot reach the server, so what cuts it is a device
(`trace.forged_reset`, detail "hello"); its twins — the cut as far as the server's hop, no
server hop to compare, an answer on the way, a socket of this machine, nothing cut — keep
the symptom and convict nothing. Table-driven, pure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.hypotheses import Symptom, is_cut_every_time, undecided_lines
from netdiag.diagnosis.place import HELLO_CUT, cut_hop, place_lines, with_place
from netdiag.report.messages import cause_sentence
from netdiag.report.model import DevicePlace, EndpointResult, Finding
from netdiag.report.observations import (
    EndpointObservation,
    Experiment,
    ExperimentResult,
    HelloAnswer,
    LocalPeer,
    PlaceObservation,
    ProtocolObservation,
    TlsObservation,
    TlsOutcome,
)
from netdiag.session.place import to_place
from netdiag.settings.targets import Service, Target
from tests.unit.test_place import ADDRESS, MAIL1
from tests.unit.test_place import hops as hops_of

MAIL2 = Target(host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
S, R, C, Q, N, U, A = (
    HelloAnswer.SERVER_HELLO,
    HelloAnswer.RESET,
    HelloAnswer.CLOSED,
    HelloAnswer.SILENCE,
    HelloAnswer.NOT_RUN,
    HelloAnswer.UNREACHABLE,
    HelloAnswer.ALERT,
)
CUT = Experiment.CUT_HOP_LIMITED
FAILED = finding(
    "tls.handshake_failed",
    "TLS on mail1.dicommail.com:995 failed: the peer closed the connection",
    ["connection closed during the handshake"],
)


def hops(*answers: HelloAnswer, port: int = 995) -> tuple[ExperimentResult, ...]:
    """The hello at TTL 1, 2, ... with these answers, sent to place a cut."""
    return hops_of(*answers, port=port, kind=CUT)


def server_at(hop: int) -> tuple[ExperimentResult, ...]:
    """The clean port 25's hellos: expired below `hop`, answered from it on."""
    return hops_of(*([U] * (hop - 1)), S, port=25)


def place(
    cut: tuple[ExperimentResult, ...], server: int | None, **more: object
) -> PlaceObservation:
    return PlaceObservation(
        address=ADDRESS,
        port=995,
        hops=cut,
        control_port=25 if server else None,
        control_hops=server_at(server) if server else (),
        experiment=CUT,
        **more,  # type: ignore[arg-type]
    )


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("cut", "server", "device", "subject", "exact"),
    [
        # A reset at TTL 1, the server at hop 2: the first hop cuts it.
        (
            hops(R, R, R, R),
            2,
            "the first hop (this gateway's router or firewall)",
            "the first hop",
            True,
        ),
        # A close (a proxy that terminates) is a cut as a reset is.
        (hops(C, C, C, C), 2, "the first hop", "the first hop", True),
        # Expired at TTL 1, cut from 2, the server at 4: within 2 hops, maybe one nearer.
        (hops(U, R, R, R), 4, "a device no farther than 2 hops away", "within 2 hops", False),
        (hops(Q, Q, C, C), 8, "a device no farther than 3 hops away", "within 3 hops", False),
    ],
)
def test_a_cut_short_of_the_servers_hop_is_a_device_that_forges_it(
    cut: tuple[ExperimentResult, ...], server: int, device: str, subject: str, exact: bool
) -> None:
    placed = with_place(MAIL1, place(cut, server), [FAILED])
    assert codes(placed) == ["trace.forged_reset", "tls.handshake_failed"]
    forged = placed[0]
    assert forged.detail == HELLO_CUT and forged.subject == subject
    assert device in forged.summary and f"answers from hop {server}" in forged.summary
    assert forged.place == (DevicePlace(hop=1) if exact else None)
    assert "TCP 995" in forged.remedy and "intrusion prevention" in forged.remedy
    assert forged.explains_others
    # The symptom stays, with the measurement, under the cause that explains it.
    assert placed[1].summary == FAILED.summary
    assert any("place: the hello is cut" in line for line in placed[1].evidence)


@pytest.mark.parametrize(
    ("measured", "summary_part", "line"),
    [
        # The twin: the cut as far as the server's own hop — the server, or a device at its
        # end, or a firewall one hop nearer that counts its hop first.
        (
            place(hops(U, R, R, R), 2),
            "as far as the server's own hop (2): the server, a device at its end of the path, "
            "or a firewall one hop nearer that counts its hop before it inspects (--trace tells "
            "them apart by the IP TTL of the cut)",
            "from TTL 2 on",
        ),
        (place(hops(U, U, R, R), 2), "as far as the server's own hop (2)", "from TTL 3 on"),
        # No clean port: nothing to compare with.
        (place(hops(R, R, R, R), None), "", "at TTL 1"),
        # A hello answered on the way: the cut passed, nothing is placed.
        (place(hops(S, R, R, R), 2), "", "was answered: the cut passed"),
        (place(hops(U, A, R, R), 3), "", "TTL 2 was answered"),
        # Nothing cut within the TTLs tried, or nothing ran.
        (place(hops(U, U, U, U), 5), "", "no hello with a TTL up to 4 was cut or answered"),
        (place((), 2, hops_problem="no time left in the run"), "", "did not run: no time"),
        # A socket of this machine holds the other end; this machine's own address.
        (
            place(
                hops(R, R, R, R),
                2,
                local_peer=LocalPeer(process="av (pid 7)", local_address="127.0.0.1:1"),
            ),
            "",
            "this machine — the other end",
        ),
        (place(hops(R, R, R, R), 2, is_own_address=True), "", "this machine's own address"),
    ],
)
def test_its_twins_convict_nothing_and_keep_the_symptom(
    measured: PlaceObservation, summary_part: str, line: str
) -> None:
    placed = with_place(MAIL1, measured, [FAILED])
    assert codes(placed) == ["tls.handshake_failed"]
    assert summary_part in placed[0].summary
    if not summary_part:
        assert placed[0].summary == FAILED.summary
    assert any(line in text for text in placed[0].evidence), placed[0].evidence


def test_a_handshake_failure_without_the_cut_experiment_is_not_touched_by_it() -> None:
    """An interception's place (the hello's TLS answer) says nothing about a cut."""
    measured = replace(place(hops(R, R, R, R), 2), experiment=Experiment.HOP_LIMITED)
    assert codes(with_place(MAIL1, measured, [FAILED])) == ["tls.handshake_failed"]
    assert with_place(MAIL1, measured, [FAILED])[0].evidence == FAILED.evidence


@pytest.mark.parametrize(
    ("answers", "expected"),
    [((U, R, R), 2), ((C, R), 1), ((U, U, Q), None), ((S, S), None), ((A, R), 2)],
)
def test_the_cut_hop_is_the_smallest_ttl_a_peer_cut(
    answers: tuple[HelloAnswer, ...], expected: int | None
) -> None:
    assert cut_hop(hops(*answers)) == expected


def test_the_lines_say_what_each_ttl_got() -> None:
    lines = place_lines(place(hops(U, R, R, R), 4))
    assert lines[:3] == [
        f"place: not this machine — no socket of this machine holds the other end of a "
        f"connection to {ADDRESS}:995",
        "place: the hello is cut (reset) from TTL 2 on, not below: what cuts it is no farther "
        "than 2 hops away (a device that counts its hop before it inspects cuts from the TTL "
        "after its own)",
        "place: the server itself answers its clean port 25 from TTL 4 on",
    ]
    assert len(lines) == 3 + 4 + 4  # every hello sent, both ports
    first = place_lines(place(hops(C, R), 2))
    assert first[1] == (
        "place: the hello is cut (closed) at TTL 1: what cuts it is the first hop — a hello "
        "with TTL 1 goes no farther"
    )


def test_one_cause_for_every_host_of_the_port_in_both_languages() -> None:
    endpoints = [
        EndpointResult(target=t, findings=with_place(t, place(hops(R, R, R, R), 2), [FAILED]))
        for t in (MAIL1, MAIL2)
    ]
    (cause,) = find_causes(endpoints)
    assert cause.code == "trace.forged_reset" and len(cause.endpoints) == 2
    assert cause_sentence(cause, "en") == (
        "A device at the first hop (this gateway's router or firewall) cuts every TLS "
        "handshake on TCP 995 to mail1.dicommail.com and mail2.dicommail.com in the servers' "
        "name: an "
        "intrusion-prevention or TLS policy on it."
    )
    assert cause_sentence(cause, "de").startswith("Ein Gerät am ersten Hop")
    farther = [
        EndpointResult(target=MAIL1, findings=with_place(MAIL1, place(hops(U, R), 5), [FAILED]))
    ]
    (cause,) = find_causes(farther)
    assert cause_sentence(cause, "en").startswith("A device on the path, before the servers, cuts")
    assert "vor den Servern" in cause_sentence(cause, "de")


# --- which endpoints get the cut experiment ---------------------------------------------


def attempt(outcome: TlsOutcome, alert: bool = False) -> ProtocolObservation:
    return ProtocolObservation(
        service="pop3s",
        address=ADDRESS,
        port=995,
        tls=TlsObservation(
            outcome=outcome, alert="received fatal alert handshake_failure" if alert else ""
        ),
    )


def experiment(kind: Experiment, answer: HelloAnswer) -> ExperimentResult:
    return replace(hops(answer)[0], kind=kind, hop_limit=0)


EVERY_VARIANT = (
    Experiment.OTHER_NAME,
    Experiment.NO_NAME,
    Experiment.TLS12_ONLY,
    Experiment.TLS13_ONLY,
    Experiment.SMALL_HELLO,
)


def tried(control: HelloAnswer, *others: HelloAnswer) -> tuple[ExperimentResult, ...]:
    variants = others or (R,) * len(EVERY_VARIANT)
    return (
        experiment(Experiment.SAME_HELLO, control),
        *(experiment(k, a) for k, a in zip(EVERY_VARIANT, variants, strict=False)),
    )


@pytest.mark.parametrize(
    ("attempts", "experiments", "expected"),
    [
        ((attempt(TlsOutcome.RESET), attempt(TlsOutcome.RESET)), tried(R), True),
        ((attempt(TlsOutcome.CLOSED),), tried(C, C, Q, N, U, R), True),
        # The control answered: the failure passed.
        ((attempt(TlsOutcome.RESET),), tried(S), False),
        # The control silent: a silence has no peer to place.
        ((attempt(TlsOutcome.RESET),), tried(Q), False),
        # A variant answered: a cause of its own (a name, a version, a size), or undecided.
        ((attempt(TlsOutcome.RESET),), tried(R, S, R, R, R, R), False),
        # Refused with an alert, or silent from the start: not a cut.
        ((attempt(TlsOutcome.FAILED, alert=True),), tried(R), False),
        ((attempt(TlsOutcome.STALLED),), tried(R), False),
        # Nothing tried.
        ((attempt(TlsOutcome.RESET),), (), False),
    ],
)
def test_only_an_endpoint_whose_every_hello_was_cut_gets_it(
    attempts: tuple[ProtocolObservation, ...],
    experiments: tuple[ExperimentResult, ...],
    expected: bool,
) -> None:
    assert is_cut_every_time(attempts, experiments) is expected


def test_the_cut_experiment_is_chosen_for_those_endpoints_only() -> None:
    cut = EndpointObservation(attempts=(attempt(TlsOutcome.RESET),), experiments=tried(R))
    passed = EndpointObservation(attempts=(attempt(TlsOutcome.RESET),), experiments=tried(S))
    chosen = to_place({MAIL1: cut, MAIL2: passed}, {MAIL1: (FAILED,), MAIL2: (FAILED,)})
    assert chosen == {MAIL1: CUT}


@pytest.mark.parametrize(
    ("symptom", "experiments", "where"),
    [
        (Symptom.CUT, tried(R), "the hello sent with a small TTL says where (place)"),
        (
            Symptom.CUT,
            tried(C, Q, Q, Q, Q, Q),
            "the hello sent with a small TTL says where (place)",
        ),
        # Silence has no peer to place: a trace may find where it stops.
        (Symptom.CUT, tried(Q, R, R, R, R, R), "a trace (--trace) shows where"),
        (Symptom.SILENT, tried(Q), "a trace (--trace) shows where"),
        (Symptom.SILENT, tried(R), "a trace (--trace) shows where"),
    ],
)
def test_the_undecided_line_says_what_would_place_it(
    symptom: Symptom, experiments: tuple[ExperimentResult, ...], where: str
) -> None:
    first = undecided_lines(symptom, experiments)[0]
    assert first.endswith(where), first


def test_the_cause_carries_the_measurement_the_symptom_and_the_words_of_the_cut() -> None:
    opened = finding("tcp.open", "mail1.dicommail.com:995 open")
    placed = with_place(MAIL1, place(hops(R, C, R, R), 2), [opened, FAILED])
    # What came before the symptom stays, in its order.
    assert codes(placed) == ["tcp.open", "trace.forged_reset", "tls.handshake_failed"]
    forged = placed[1]
    assert "every hello is cut (reset) by the first hop" in forged.summary
    assert "(at the first hop)" in forged.remedy
    assert forged.evidence[-1] == FAILED.evidence[-1]
    assert forged.evidence[1].startswith("place: the hello is cut (reset) at TTL 1")
    farther = with_place(MAIL1, place(hops(U, R, R, R), 3), [FAILED])[0]
    assert "(no farther than 2 hops away)" in farther.remedy
    both = (*hops(U, R), replace(hops(C)[0], hop_limit=2))
    mixed = with_place(MAIL1, place(both, 3), [FAILED])[0]
    assert "every hello is cut (reset or closed) by a device no farther than 2 hops" in (
        mixed.summary
    )


@pytest.mark.parametrize(
    "cut",
    [
        # Answered at the TTL where a peer also cut: the failure passed there.
        (*hops(U, R, R), replace(hops(S)[0], hop_limit=2)),
        # Answered, and nothing cut.
        hops(U, S, U, U),
    ],
)
def test_an_answer_at_or_before_the_cut_places_nothing(cut: tuple[ExperimentResult, ...]) -> None:
    placed = with_place(MAIL1, place(cut, 3), [FAILED])
    assert codes(placed) == ["tls.handshake_failed"]
    assert any("was answered: the cut passed" in line for line in placed[0].evidence)


def test_nothing_cut_or_answered_says_how_far_the_hellos_went() -> None:
    lines = place_lines(place(hops(U, U, U, U), 5))
    assert lines[1] == (
        "place: no hello with a TTL up to 4 was cut or answered: what cuts it is farther than "
        "4 hops"
    )
    answered = replace(place(hops(U, U, U, U), None), experiment=Experiment.HOP_LIMITED)
    assert place_lines(answered)[1] == (
        "place: no hello with a TTL up to 4 was answered: what answers is farther than 4 hops"
    )
