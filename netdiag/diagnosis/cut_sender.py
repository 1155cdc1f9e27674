"""Who cut a hello, from the packets (`netdiag check --trace`, `CutSender`): the reset (or
FIN) that cut it and the SYN/ACK of the same connection, each by the hops its IP TTL says
it travelled. A cut that travelled fewer hops than the SYN/ACK was sent by another, nearer
device than the peer that accepted the connection: `trace.forged_reset` (detail "hello"),
at that hop — what the hop-limited hellos cannot tell from the server's own hop when a
firewall counts its hop before it inspects. The same distance convicts nothing: the peer
that accepted the connection cut it (the server, or a device that answers TCP in its
place, which the hop-limited hellos place)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from netdiag.diagnosis.place import HELLO_CUT, forged_hello
from netdiag.diagnosis.trace import travelled
from netdiag.report.model import Finding
from netdiag.report.trace_observations import CutSender
from netdiag.settings.targets import Target

SYMPTOM = "tls.handshake_failed"


def _hops(count: int) -> str:
    return f"{count} hop{'s' if count != 1 else ''}"


def _distances(sender: CutSender) -> tuple[int, int] | None:
    """The hops the cut and the SYN/ACK travelled, where both were seen."""
    if not sender.cut or sender.cut_ttl is None or sender.syn_ack_ttl is None:
        return None
    return travelled(sender.cut_ttl), travelled(sender.syn_ack_ttl)


def _is_forged_hello(found: Finding) -> bool:
    return found.code == "trace.forged_reset" and found.detail == HELLO_CUT


def cut_sender_lines(sender: CutSender, read_on: str = "") -> list[str]:
    """What the packets of the hello's connection say, one line (`read_on`: the endpoint
    whose hello was read, where the line is another's of the same port)."""
    head = f"cut sender (read on {read_on})" if read_on else "cut sender"
    if sender.error:
        return [f"{head}: not read: {sender.error}"]
    if not sender.cut:
        return [
            f"{head}: the hello, sent once more to read its packets, got {sender.answer} "
            "instead of a cut: nothing to read"
        ]
    distances = _distances(sender)
    if distances is None:
        missing = "the SYN/ACK" if sender.syn_ack_ttl is None else f"the {sender.cut}"
        return [f"{head}: {missing} of the hello's connection was not seen: nothing to compare"]
    cut, accepted = distances
    said = (
        f"{head}: the {sender.cut} that cut the hello arrived with IP TTL {sender.cut_ttl} "
        f"(sent {_hops(cut)} away), the SYN/ACK of the same connection with IP TTL "
        f"{sender.syn_ack_ttl} ({_hops(accepted)} away)"
    )
    if cut < accepted:
        return [f"{said}: another sender, nearer than the peer that accepted the connection"]
    return [f"{said}: the peer that accepted the connection cut it"]


def with_cut_sender(
    target: Target, sender: CutSender, findings: Sequence[Finding], read_on: str = ""
) -> tuple[Finding, ...]:
    """The endpoint's findings with what the packets say (see the module): a forged cut
    before the symptom it explains, unless the hop-limited hellos already proved one; the
    lines in the evidence either way."""
    lines = cut_sender_lines(sender, read_on)
    said = tuple(
        dataclasses.replace(f, evidence=(*f.evidence, *lines))
        if f.code == SYMPTOM or _is_forged_hello(f)
        else f
        for f in findings
    )
    distances = _distances(sender)
    symptom = next((f for f in findings if f.code == SYMPTOM), None)
    if any(_is_forged_hello(f) for f in findings) or distances is None or symptom is None:
        return said
    cut, accepted = distances
    if cut >= accepted:
        return said
    forged = forged_hello(
        target,
        cut,
        sender.cut,
        f"the SYN/ACK of the same connection came from {_hops(accepted)} away",
        [*lines, *symptom.evidence],
        is_exact=True,
    )
    return (forged, *said)
