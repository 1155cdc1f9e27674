"""Trace rules, table-driven: a forgery is convicted only with the control trace's
distance; the same reply TTL on a healthy path convicts nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.diagnosis.trace import diagnose_trace
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation

DESTINATION = "203.0.113.10"


def trace(*replies: HopReply, port: int = 25) -> TraceObservation:
    return TraceObservation(
        destination=DESTINATION, port=port, max_hops=8, probes_per_hop=2, timeout_s=2,
        replies=replies,
    )  # fmt: skip


def hop(ttl: int, sender: str) -> HopReply:
    return HopReply(ttl=ttl, sender=sender, kind=HopKind.TIME_EXCEEDED, reply_ttl=64 - ttl + 1)


def answer(ttl: int, kind: HopKind, reply_ttl: int) -> HopReply:
    return HopReply(ttl=ttl, sender=DESTINATION, kind=kind, reply_ttl=reply_ttl)


PATH = (hop(1, "192.0.2.1"), hop(2, "192.0.2.2"))
# Answers at TTL 3 whose IP TTL says 2 hops back: a return path one hop shorter.
SHORT_RETURN = 63
CONTROL_AT_3 = trace(*PATH, answer(3, HopKind.SYN_ACK, 62), port=995)
CONTROL_AT_4 = trace(*PATH, hop(3, "192.0.2.3"), answer(4, HopKind.SYN_ACK, 61), port=995)

ROWS = [
    (
        "genuine SYN/ACK, shorter return path, no control",
        trace(*PATH, answer(3, HopKind.SYN_ACK, SHORT_RETURN)),
        None,
        "trace.reached",
    ),
    (
        "genuine SYN/ACK, shorter return path, control agrees",
        trace(*PATH, answer(3, HopKind.SYN_ACK, SHORT_RETURN)),
        CONTROL_AT_3,
        "trace.reached",
    ),
    (
        "SYN/ACK one hop before the destination",
        trace(*PATH, answer(3, HopKind.SYN_ACK, SHORT_RETURN)),
        CONTROL_AT_4,
        "trace.transparent_proxy",
    ),
    (
        "reset with the IP TTL of hop 2's ICMP, no control: most likely hop 2",
        trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)),
        None,
        "trace.reset_suspect",
    ),
    (
        "reset whose IP TTL fits the destination, no control: the destination rejects",
        trace(*PATH, answer(3, HopKind.RST, 62)),
        None,
        "trace.rejected_at_hop",
    ),
    (
        "reset at the destination's distance with hop 2's TTL, control shows the "
        "destination's own TTL: forged by hop 2",
        trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)),
        CONTROL_AT_3,
        "trace.forged_reset",
    ),
    (
        "reset with hop 2's TTL, but the destination's own answers arrive the same way "
        "(a shorter return path): the destination",
        trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)),
        trace(*PATH, answer(3, HopKind.SYN_ACK, SHORT_RETURN), port=995),
        "trace.rejected_at_hop",
    ),
    (
        "reset that travelled fewer hops, the routers silent (ICMP blocked), no control",
        trace(answer(3, HopKind.RST, SHORT_RETURN)),
        None,
        "trace.reset_suspect",
    ),
    (
        "reset one hop before the destination",
        trace(*PATH, answer(3, HopKind.RST, 62)),
        CONTROL_AT_4,
        "trace.forged_reset",
    ),
    (
        "reset from the destination itself",
        trace(*PATH, answer(3, HopKind.RST, 62)),
        CONTROL_AT_3,
        "trace.rejected_at_hop",
    ),
    (
        "reset at the destination's distance whose TTL is neither the destination's nor any "
        "hop's, having travelled farther than the probe: no device on the path is named",
        trace(*PATH, answer(3, HopKind.RST, 40)),
        CONTROL_AT_3,
        "trace.rejected_at_hop",
    ),
    (
        "hop 2 answers with a parameter problem, then silence: dropped after hop 2",
        trace(
            hop(1, "192.0.2.1"),
            HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.OTHER, icmp_type=12, icmp_code=0),
        ),
        None,
        "trace.dropped_after_hop",
    ),
]


@pytest.mark.parametrize(
    ("observation", "control", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_trace_rules(
    observation: TraceObservation, control: TraceObservation | None, code: str
) -> None:
    assert [f.code for f in diagnose_trace("mail1:25", observation, control)] == [code]


def test_a_router_that_answers_with_another_icmp_error_is_reached() -> None:
    """Its twin is the time-exceeded hop 2: both put the end of the path after hop 2."""
    other = HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.OTHER, icmp_type=12, icmp_code=0)
    for second in (other, hop(2, "192.0.2.2")):
        (found,) = diagnose_trace("mail1:25", trace(hop(1, "192.0.2.1"), second))
        assert found.subject == "192.0.2.2"
        assert found.summary == "mail1:25: dropped after hop 2 (192.0.2.2): silence beyond it"


def test_the_suspicion_names_the_device_and_says_what_would_prove_it() -> None:
    (found,) = diagnose_trace("mail1:25", trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)))
    assert found.subject == "192.0.2.2"
    assert "most likely from 192.0.2.2 (hop 2)" in found.summary
    assert any("a control trace to an open port" in e for e in found.evidence)
    assert any("is that of the ICMP from hop 2 (192.0.2.2)" in e for e in found.evidence)


def _route(*senders: str) -> tuple[HopReply, ...]:
    return tuple(hop(n, s) for n, s in enumerate(senders, start=1))


def test_a_hop_seen_by_another_trace_of_the_same_port_is_evidence_for_all() -> None:
    """Six traces of port 25 over the same routers: one lost hop 2's replies (rate limit)."""
    lost = trace(hop(1, "192.0.2.1"))
    seen = TraceObservation(
        destination="203.0.113.11", port=25, max_hops=8, probes_per_hop=2, timeout_s=2,
        replies=_route("192.0.2.1", "192.0.2.2"),
    )  # fmt: skip
    (found,) = diagnose_trace("mail1:25", lost, peers=[seen])
    assert found.subject == "192.0.2.2" and "dropped after hop 2 (192.0.2.2)" in found.summary
    assert any("lost or rate-limited" in line for line in found.evidence)


def test_a_peer_on_another_way_or_one_that_went_on_is_no_evidence() -> None:
    lost = trace(hop(1, "192.0.2.1"))
    elsewhere = TraceObservation(
        destination="203.0.113.11", port=25, max_hops=8, probes_per_hop=2, timeout_s=2,
        replies=_route("198.51.100.1", "198.51.100.2"),
    )  # fmt: skip
    reached = TraceObservation(
        destination="203.0.113.12", port=25, max_hops=8, probes_per_hop=2, timeout_s=2,
        replies=(*_route("192.0.2.1", "192.0.2.2"), answer(3, HopKind.SYN_ACK, 62)),
    )  # fmt: skip
    (found,) = diagnose_trace("mail1:25", lost, peers=[elsewhere, reached])
    assert found.subject == "192.0.2.1" and "dropped after hop 1" in found.summary


def test_a_router_that_answers_some_probes_and_not_others_makes_silence_no_proof() -> None:
    limited = TraceObservation(
        destination=DESTINATION, port=25, max_hops=4, probes_per_hop=2, timeout_s=1,
        replies=(hop(1, "192.0.2.1"),), sent=(3, 3, 3, 3),
    )  # fmt: skip
    (found,) = diagnose_trace("mail1:25", limited)
    assert "may be a hop further" in found.summary
    assert any("answered 1 of 3 probes" in line for line in found.evidence)
    # The twin: every probe of the answering hop answered.
    whole = TraceObservation(
        destination=DESTINATION, port=25, max_hops=4, probes_per_hop=2, timeout_s=1,
        replies=(hop(1, "192.0.2.1"), hop(1, "192.0.2.1")), sent=(2, 3, 3, 3),
    )  # fmt: skip
    (clean,) = diagnose_trace("mail1:25", whole)
    assert "may be a hop further" not in clean.summary
    assert not any("rate-limited" in line for line in clean.evidence)


def _sent(trace_: TraceObservation, per_ttl: int = 2) -> TraceObservation:
    return TraceObservation(
        destination=trace_.destination, port=trace_.port, max_hops=trace_.max_hops,
        probes_per_hop=per_ttl, timeout_s=trace_.timeout_s, replies=trace_.replies,
        sent=tuple(per_ttl for _ in range(trace_.max_hops)),
    )  # fmt: skip


def test_no_hop_answered_beside_a_peer_that_saw_hop_1_both_hedge_alike() -> None:
    """The flaky namespace test's world as a pure call: one trace got no answer at all, its
    peer saw hop 1 once of twice. Both say the drop is after hop 1 and both hedge."""
    nothing = _sent(trace())
    seen = _sent(
        TraceObservation(
            destination="203.0.113.11",
            port=25,
            max_hops=8,
            probes_per_hop=2,
            timeout_s=2,
            replies=(hop(1, "192.0.2.1"),),
        )  # fmt: skip
    )
    (mine,) = diagnose_trace("mail1:25", nothing, peers=[seen])
    (theirs,) = diagnose_trace("mail2:25", seen, peers=[nothing])
    assert mine.subject == theirs.subject == "192.0.2.1"
    assert "may be a hop further" in mine.summary and "may be a hop further" in theirs.summary


def test_a_peer_that_saw_every_probe_of_hop_1_still_hedges_for_one_that_saw_nothing() -> None:
    """Hop 1 answered both probes of one trace and none of the other's: the answers were
    lost for one of them, so neither verdict is certain of the silence after hop 1."""
    nothing = _sent(trace())
    whole = _sent(
        TraceObservation(
            destination="203.0.113.11",
            port=25,
            max_hops=8,
            probes_per_hop=2,
            timeout_s=2,
            replies=(hop(1, "192.0.2.1"), hop(1, "192.0.2.1")),
        )  # fmt: skip
    )
    verdicts = [
        diagnose_trace("mail1:25", nothing, peers=[whole])[0],
        diagnose_trace("mail2:25", whole, peers=[nothing])[0],
    ]
    assert {f.subject for f in verdicts} == {"192.0.2.1"}
    assert all("may be a hop further" in f.summary for f in verdicts)
    # The twin: alone, a trace whose hop 1 answered every probe does not hedge.
    (alone,) = diagnose_trace("mail2:25", whole)
    assert "may be a hop further" not in alone.summary


ROUTE = ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4")


@settings(max_examples=200, deadline=None)
@given(
    depth=st.integers(1, 4),
    answers=st.lists(st.lists(st.integers(0, 2), min_size=4, max_size=4), min_size=2, max_size=6),
)
def test_traces_of_one_port_over_one_route_agree(depth: int, answers: list[list[int]]) -> None:
    """Traces of one port over the same routers, each losing some ICMP: every trace's
    verdict names the same hop, and all hedge or none does."""
    traces = []
    for index, per_ttl in enumerate(answers):
        replies = tuple(
            hop(ttl, ROUTE[ttl - 1]) for ttl in range(1, depth + 1) for _ in range(per_ttl[ttl - 1])
        )
        traces.append(
            TraceObservation(
                destination=f"203.0.113.{20 + index}",
                port=25,
                max_hops=6,
                probes_per_hop=2,
                timeout_s=1,
                replies=replies,
                sent=(2, 2, 2, 2, 2, 2),
            )  # fmt: skip
        )
    verdicts = [
        diagnose_trace(f"t{i}:25", t, peers=[p for p in traces if p is not t])[0]
        for i, t in enumerate(traces)
    ]
    assert len({f.subject for f in verdicts}) == 1, [f.summary for f in verdicts]
    hedged = {"may be a hop further" in f.summary for f in verdicts}
    assert len(hedged) == 1, [f.summary for f in verdicts]
    answering = {ttl for per_ttl in answers for ttl in range(1, depth + 1) if per_ttl[ttl - 1] > 0}
    lost = any(per_ttl[ttl - 1] < 2 for per_ttl in answers for ttl in answering)
    assert hedged == {lost}
    deepest = max(answering, default=0)
    assert {f.subject for f in verdicts} == {ROUTE[deepest - 1] if deepest else ""}


# Each row's verdict in words: its summary, its subject, and the lines it adds to the hop
# table (the reasons), exactly — a reason dropped or misplaced is a verdict less proven.
WORDS = {
    "genuine SYN/ACK, shorter return path, no control": (
        "mail1:25: reached at hop 3 (SYN/ACK)",
        "",
        [
            "the SYN/ACK's IP TTL 63 suggests 2 hops back for a probe that needed 3: a device "
            "on the path may answer in the destination's name; a control trace to an open "
            "port would prove it"
        ],
    ),
    "SYN/ACK one hop before the destination": (
        "mail1:25: a SYN/ACK in 203.0.113.10's name comes from a device after hop 2 "
        "(192.0.2.2), not from the destination",
        "192.0.2.2",
        [
            "control trace to port 995: the destination answers at hop 4",
            "it answers TTL 3, but 203.0.113.10 is 4 hops away",
            "its IP TTL 63 says it travelled 2 hops, the probe needed 3",
            "its IP TTL 63 is that of the ICMP from hop 2 (192.0.2.2), not the destination's",
        ],
    ),
    "reset whose IP TTL fits the destination, no control: the destination rejects": (
        "mail1:25: rejected with a TCP reset at hop 3 (203.0.113.10)",
        "203.0.113.10",
        ["a control trace to an open port would tell the destination from a middlebox"],
    ),
    "reset at the destination's distance with hop 2's TTL, control shows the destination's "
    "own TTL: forged by hop 2": (
        "mail1:25: a reset in 203.0.113.10's name comes from 192.0.2.2 (hop 2), not from the "
        "destination: its TTL matches that hop's",
        "192.0.2.2",
        [
            "control trace to port 995: the destination answers at hop 3",
            "its IP TTL 63 is that of the ICMP from hop 2 (192.0.2.2), not the destination's",
            "the destination's own answers (control trace) arrive with IP TTL 62",
        ],
    ),
    "reset that travelled fewer hops, the routers silent (ICMP blocked), no control": (
        "mail1:25: a reset in 203.0.113.10's name at hop 3, most likely from hop 2: its TTL "
        "does not fit the destination",
        "hop 2",
        [
            "the reset's IP TTL 63 says it travelled 2 hops back for a probe that needed 3",
            "return paths can be shorter than the way out, so this is a strong suspicion, not "
            "proof; a control trace to an open port of the same host would prove it",
        ],
    ),
    "reset one hop before the destination": (
        "mail1:25: a reset in 203.0.113.10's name comes from a device after hop 2 (192.0.2.2), "
        "not from the destination",
        "hop 3",
        [
            "control trace to port 995: the destination answers at hop 4",
            "it answers TTL 3, but 203.0.113.10 is 4 hops away",
        ],
    ),
    "reset from the destination itself": (
        "mail1:25: rejected with a TCP reset at hop 3 (203.0.113.10)",
        "203.0.113.10",
        ["control trace to port 995: the destination answers at hop 3"],
    ),
}


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] in WORDS], ids=lambda r: r[0])
def test_trace_verdicts_in_words(
    row: tuple[str, TraceObservation, TraceObservation | None, str],
) -> None:
    name, observation, control, _ = row
    summary, subject, reasons = WORDS[name]
    (found,) = diagnose_trace("mail1:25", observation, control)
    assert found.summary == summary
    assert found.subject == subject
    assert [e for e in found.evidence if not e.startswith("hop ")] == reasons


def _observed(destination: str, *replies: HopReply, sent: tuple[int, ...]) -> TraceObservation:
    return TraceObservation(
        destination=destination, port=25, max_hops=len(sent), probes_per_hop=2, timeout_s=1,
        replies=replies, sent=sent,
    )  # fmt: skip


def test_a_router_s_position_is_the_first_ttl_it_answered() -> None:
    from netdiag.diagnosis.trace import router_positions

    looping = trace(hop(2, "192.0.2.2"), hop(3, "192.0.2.3"), hop(4, "192.0.2.2"))
    assert router_positions(looping) == {"192.0.2.2": 2, "192.0.2.3": 3}


def test_a_hop_never_matches_a_reply_at_its_own_ttl() -> None:
    """Only an earlier hop's ICMP can say that a reply came from the same device."""
    from netdiag.diagnosis.trace import hop_matching_ttl

    syn_ack = answer(4, HopKind.SYN_ACK, 61)
    same_ttl = HopReply(ttl=4, sender="192.0.2.4", kind=HopKind.TIME_EXCEEDED, reply_ttl=61)
    assert hop_matching_ttl(trace(*PATH, same_ttl, syn_ack), syn_ack) is None
    earlier = HopReply(ttl=3, sender="192.0.2.3", kind=HopKind.TIME_EXCEEDED, reply_ttl=61)
    assert hop_matching_ttl(trace(*PATH, earlier, syn_ack), syn_ack) == earlier


def test_of_peers_that_saw_the_same_deepest_hop_the_first_is_named() -> None:
    lost = trace(hop(1, "192.0.2.1"))
    first = _observed("203.0.113.11", *_route("192.0.2.1", "192.0.2.2"), sent=(2,) * 8)
    second = _observed("203.0.113.12", *_route("192.0.2.1", "192.0.2.2"), sent=(2,) * 8)
    (found,) = diagnose_trace("mail1:25", lost, peers=[first, second])
    assert any("answered the trace to 203.0.113.11 " in line for line in found.evidence)
    assert not any("203.0.113.12" in line for line in found.evidence)


def test_the_rate_limit_counts_the_last_ttl_sent_and_only_peers_that_are_evidence() -> None:
    from netdiag.diagnosis.trace import rate_limit_line

    # Hop 3, the last TTL sent, answered one probe of two.
    last_limited = _observed(
        DESTINATION, hop(1, "192.0.2.1"), hop(1, "192.0.2.1"), hop(3, "192.0.2.3"), sent=(2, 2, 2)
    )
    assert "answered 3 of 4 probes" in rate_limit_line(last_limited, [])
    # A whole trace beside a rate-limited one that went another way: not its evidence.
    whole = _observed(DESTINATION, hop(1, "192.0.2.1"), hop(1, "192.0.2.1"), sent=(2, 2))
    elsewhere = _observed("203.0.113.11", hop(1, "198.51.100.1"), sent=(2, 2))
    assert rate_limit_line(whole, [elsewhere]) == ""
    # ... and beside one over the same first hop, its silence counts.
    alike = _observed("203.0.113.11", hop(1, "192.0.2.1"), sent=(2, 2))
    assert "answered 3 of 4 probes" in rate_limit_line(whole, [alike])
