"""Trace rules, table-driven: a forgery is convicted only with the control trace's
distance; the same reply TTL on a healthy path convicts nothing."""

from __future__ import annotations

import pytest

from netdiag.diagnosis.trace import diagnose_trace
from netdiag.observations import HopKind, HopReply, TraceObservation

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
        "reset, shorter return path, no control: a suspicion",
        trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)),
        None,
        "trace.rejected_at_hop",
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
]


@pytest.mark.parametrize(
    ("observation", "control", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_trace_rules(
    observation: TraceObservation, control: TraceObservation | None, code: str
) -> None:
    assert [f.code for f in diagnose_trace("mail1:25", observation, control)] == [code]


def test_the_suspicion_is_named_in_the_evidence() -> None:
    (found,) = diagnose_trace("mail1:25", trace(*PATH, answer(3, HopKind.RST, SHORT_RETURN)))
    assert any("a control trace to an open port would prove it" in e for e in found.evidence)
