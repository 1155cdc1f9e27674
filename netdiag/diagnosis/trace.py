"""Trace rules: where along the path a port is dropped, rejected or answered by a middlebox.

A reply in the destination's name is judged by where it comes from: a reset or SYN/ACK
answering a TTL smaller than the destination's distance (known from a control trace to a
port that is open), or whose IP TTL says it travelled fewer hops than the probe needed,
was sent by a device on the way.
"""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.tcp import icmp_meaning, is_prohibited
from netdiag.report.model import Finding
from netdiag.report.observations import IcmpReport
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation

_INITIAL_TTLS = (32, 64, 128, 255)


def travelled(reply_ttl: int) -> int:
    """Hops a reply travelled, from its IP TTL and the usual initial TTLs."""
    initial = next((t for t in _INITIAL_TTLS if t >= reply_ttl), 255)
    return initial - reply_ttl + 1


def first_per_ttl(trace: TraceObservation) -> dict[int, HopReply]:
    hops: dict[int, HopReply] = {}
    for reply in trace.replies:
        if reply.ttl not in hops or reply.rtt_ms < hops[reply.ttl].rtt_ms:
            hops[reply.ttl] = reply
    return hops


def router_positions(trace: TraceObservation) -> dict[str, int]:
    """Each router's hop number, from its time-exceeded answers."""
    positions: dict[str, int] = {}
    for reply in trace.replies:
        if reply.kind is HopKind.TIME_EXCEEDED:
            positions[reply.sender] = min(positions.get(reply.sender, reply.ttl), reply.ttl)
    return positions


def destination_distance(trace: TraceObservation) -> int | None:
    """The smallest TTL answered by the destination itself (SYN/ACK or reset)."""
    ttls = [
        r.ttl
        for r in trace.replies
        if r.kind in (HopKind.SYN_ACK, HopKind.RST) and r.sender == trace.destination
    ]
    return min(ttls) if ttls else None


def _icmp_of(reply: HopReply) -> IcmpReport | None:
    """The ICMP error of a hop's reply, where its type and code were read."""
    if reply.icmp_type is None or reply.icmp_code is None:
        return None
    family = 6 if ":" in reply.sender else 4
    return IcmpReport(
        sender=reply.sender, type=reply.icmp_type, code=reply.icmp_code, family=family
    )


def _describe(reply: HopReply) -> str:
    if reply.kind is HopKind.TIME_EXCEEDED:
        return "ICMP time exceeded"
    if reply.kind is HopKind.UNREACHABLE:
        icmp = _icmp_of(reply)
        if icmp is None:
            return "ICMP unreachable (type and code not read)"
        return f"ICMP unreachable code {icmp.code} ({icmp_meaning(icmp)})"
    if reply.kind is HopKind.OTHER and reply.icmp_type is not None:
        return f"ICMP type {reply.icmp_type} code {reply.icmp_code}"
    return {HopKind.SYN_ACK: "TCP SYN/ACK", HopKind.RST: "TCP reset"}.get(reply.kind, "other")


def hop_lines(trace: TraceObservation) -> list[str]:
    """The hop table as evidence lines: TTL, who answered, how, RTT."""
    hops = first_per_ttl(trace)
    last = max(hops, default=0)
    lines = []
    for ttl in range(1, min(trace.max_hops, last + 1) + 1):
        reply = hops.get(ttl)
        if reply is None:
            lines.append(f"hop {ttl:>2}: *  (no answer within {trace.timeout_s:g} s)")
            continue
        name = trace.name_of(reply.sender)
        who = f"{reply.sender} ({name})" if name else reply.sender
        lines.append(
            f"hop {ttl:>2}: {who}  {_describe(reply)}  {reply.rtt_ms:g} ms  "
            f"(reply TTL {reply.reply_ttl})"
        )
    return lines


def _where(ttl: int, positions: dict[str, int]) -> str:
    before = {hop: address for address, hop in positions.items()}.get(ttl - 1)
    return (
        f"hop {ttl - 1} ({before})" if before else f"hop {ttl - 1}" if ttl > 1 else "this machine"
    )


def hop_matching_ttl(trace: TraceObservation, reply: HopReply) -> HopReply | None:
    """The earlier hop whose ICMP came back with the same IP TTL as `reply`: a packet that
    travelled as many hops back as that hop's own, so most likely sent by the same device
    (both start from the same initial TTL on one device)."""
    matching = [
        r
        for r in first_per_ttl(trace).values()
        if r.kind in (HopKind.TIME_EXCEEDED, HopKind.UNREACHABLE)
        and r.ttl < reply.ttl
        and r.reply_ttl == reply.reply_ttl
    ]
    return max(matching, key=lambda r: r.ttl) if matching else None


def _destination_reply_ttl(control: TraceObservation) -> int | None:
    """The IP TTL with which the destination's own answers arrive (from the control trace)."""
    distance = destination_distance(control)
    if distance is None:
        return None
    ttls = [
        r.reply_ttl
        for r in control.replies
        if r.ttl == distance
        and r.kind in (HopKind.SYN_ACK, HopKind.RST)
        and r.sender == control.destination
    ]
    return ttls[0] if ttls else None


def _same_first_hops(mine: TraceObservation, other: TraceObservation) -> bool:
    """Whether nothing says two traces went different ways: no TTL at which both got an
    answer, from different routers. (Traces whose answers fall on different TTLs — one lost
    hop 1's, the other hop 2's — are no evidence of two ways.)"""
    a, b = router_positions(mine), router_positions(other)
    by_ttl_a = {ttl: sender for sender, ttl in a.items()}
    by_ttl_b = {ttl: sender for sender, ttl in b.items()}
    common = set(by_ttl_a) & set(by_ttl_b)
    return all(by_ttl_a[t] == by_ttl_b[t] for t in common)


def _is_silent_end(trace: TraceObservation) -> bool:
    return not any(
        r.kind in (HopKind.SYN_ACK, HopKind.RST, HopKind.UNREACHABLE) for r in trace.replies
    )


def _is_evidence_for(trace: TraceObservation, peer: TraceObservation) -> bool:
    """Whether another trace of the same port and batch speaks for `trace`: it ended in
    silence too, and nothing says the two went different ways (a trace that saw no hop at
    all, its answers eaten by rate-limited ICMP, contradicts none). The relation is
    symmetric and used for every judgement, so that a trace and its peers come to the same
    verdict."""
    if peer.error or not _is_silent_end(peer):
        return False
    return _same_first_hops(trace, peer)


def _deepest_hop_of_peers(
    trace: TraceObservation, peers: Sequence[TraceObservation], last: int
) -> tuple[HopReply, TraceObservation] | None:
    """A hop deeper than `last` that answered a peer that is evidence for this trace: its
    silence here was a lost or rate-limited reply, not the end of the path."""
    best: tuple[HopReply, TraceObservation] | None = None
    for peer in peers:
        if not _is_evidence_for(trace, peer):
            continue
        hops = first_per_ttl(peer)
        deepest = max((t for t, r in hops.items() if r.kind is HopKind.TIME_EXCEEDED), default=0)
        if deepest > last and (best is None or deepest > best[0].ttl):
            best = (hops[deepest], peer)
    return best


def diagnose_trace(
    label: str,
    trace: TraceObservation,
    control: TraceObservation | None = None,
    peers: Sequence[TraceObservation] = (),
) -> list[Finding]:
    """Where the path of one trace stops, and who answered in the destination's name.
    `peers` are the other traces of the same port in the same batch: a hop that answered
    one of them over the same first hops is evidence for all."""
    if trace.error:
        return []
    lines = hop_lines(trace)
    positions = router_positions(trace)
    hops = first_per_ttl(trace)
    answers = sorted(
        (r for r in trace.replies if r.kind in (HopKind.SYN_ACK, HopKind.RST)), key=lambda r: r.ttl
    )
    unreachable = sorted(
        (r for r in trace.replies if r.kind is HopKind.UNREACHABLE), key=lambda r: r.ttl
    )
    distance = destination_distance(control) if control is not None and not control.error else None
    if control is not None and distance is not None:
        lines.append(
            f"control trace to port {control.port}: the destination answers at hop {distance}"
        )

    if answers and (not unreachable or answers[0].ttl <= unreachable[0].ttl):
        return _answered(label, trace, control, answers[0], distance, lines, positions)

    if unreachable:
        first = unreachable[0]
        hop = positions.get(first.sender, first.ttl)
        icmp = _icmp_of(first)
        if icmp is None:
            kind, said = "ICMP unreachable", "ICMP unreachable: type and code not read"
        else:
            meaning = icmp_meaning(icmp)
            kind = "administratively prohibited" if is_prohibited(icmp) else meaning
            said = f"ICMP type {icmp.type} code {icmp.code}: {meaning}"
        summary = f"{label}: rejected at hop {hop} ({first.sender}): {kind}"
        return [
            finding(
                "trace.rejected_at_hop",
                summary,
                [*lines, said],
                subject=first.sender,
            )
        ]

    # A router that answered its TTL with another ICMP error (a parameter problem, a source
    # quench) was reached as surely as one that said time exceeded.
    last = max(
        (ttl for ttl, r in hops.items() if r.kind in (HopKind.TIME_EXCEEDED, HopKind.OTHER)),
        default=0,
    )
    sender = hops[last].sender if last else ""
    shared = _deepest_hop_of_peers(trace, peers, last)
    if shared is not None:
        seen, peer = shared
        over = "" if last == 0 else " over the same first hops"
        lines.append(
            f"hop {seen.ttl} ({seen.sender}) answered the trace to {peer.destination} on the "
            f"same port{over}; here its replies were lost or rate-limited (each silent TTL was "
            "probed twice)"
        )
        last, sender = seen.ttl, seen.sender
    limited = rate_limit_line(trace, peers)
    if limited:
        lines.append(limited)
    if last == 0:
        summary = (
            f"{label}: nothing answered, not even the first hop (a local firewall, or ICMP blocked)"
        )
    else:
        summary = f"{label}: dropped after hop {last} ({sender}): silence beyond it"
    if limited:
        summary += "; the routers rate-limit their ICMP, so the drop may be a hop further"
    return [finding("trace.dropped_after_hop", summary, lines, subject=sender)]


def rate_limit_line(trace: TraceObservation, peers: Sequence[TraceObservation]) -> str:
    """Evidence that the routers of this path rate-limit (or lose) their ICMP: at the TTLs
    where a router answered any trace of the group (this one and the peers that are
    evidence for it), probes that got no answer. "" when every such probe was answered."""
    group = [trace, *(p for p in peers if p is not trace and _is_evidence_for(trace, p))]
    answering = {ttl for one in group for ttl in router_positions(one).values()}
    answered = 0
    sent = 0
    for one in group:
        for ttl in (t for t in answering if t <= len(one.sent)):
            answered += sum(
                1 for r in one.replies if r.ttl == ttl and r.kind is HopKind.TIME_EXCEEDED
            )
            sent += one.sent[ttl - 1]
    if sent == 0 or answered >= sent:
        return ""
    return (
        f"the routers answered {answered} of {sent} probes at the TTLs where they answered at "
        "all: their ICMP is rate-limited (or lost), so a silent hop is no proof of where the "
        "path ends"
    )


def _answered(
    label: str,
    trace: TraceObservation,
    control: TraceObservation | None,
    first: HopReply,
    distance: int | None,
    lines: list[str],
    positions: dict[str, int],
) -> list[Finding]:
    """A SYN/ACK or reset in the destination's name: the destination's own, or a device's
    on the way — judged by where it answers (the control trace's distance) and by its IP
    TTL against the earlier hops' and the destination's own."""
    what = "reset" if first.kind is HopKind.RST else "SYN/ACK"
    hops_travelled = travelled(first.reply_ttl)
    same_as_hop = hop_matching_ttl(trace, first)
    own_ttl = _destination_reply_ttl(control) if control is not None and not control.error else None
    ttl_line = (
        f"its IP TTL {first.reply_ttl} is that of the ICMP from hop {same_as_hop.ttl} "
        f"({same_as_hop.sender}), not the destination's"
        if same_as_hop is not None
        else ""
    )
    # Without a hop whose ICMP has the same TTL, the reply's own TTL says how far back its
    # sender is (the subject says the same).
    forged_by = (
        f"{same_as_hop.sender} (hop {same_as_hop.ttl})"
        if same_as_hop is not None
        else f"hop {hops_travelled}"
    )
    code = "trace.forged_reset" if first.kind is HopKind.RST else "trace.transparent_proxy"
    # Proof: the control trace says where the destination is and how its own packets
    # arrive; a reply that answers earlier, or arrives with another TTL that matches an
    # earlier hop's, was sent by a device on the way.
    if distance is not None and first.ttl < distance:
        why = [f"it answers TTL {first.ttl}, but {trace.destination} is {distance} hops away"]
        if hops_travelled < first.ttl:
            why.append(
                f"its IP TTL {first.reply_ttl} says it travelled {hops_travelled} hops, "
                f"the probe needed {first.ttl}"
            )
        why += [ttl_line] if ttl_line else []
        subject = same_as_hop.sender if same_as_hop is not None else f"hop {first.ttl}"
        summary = (
            f"{label}: a {what} in {trace.destination}'s name comes from a device after "
            f"{_where(first.ttl, positions)}, not from the destination"
        )
        return [finding(code, summary, [*lines, *why], subject=subject)]
    if (
        own_ttl is not None
        and same_as_hop is not None
        and first.reply_ttl != own_ttl
        and first.kind is HopKind.RST
    ):
        why = [
            ttl_line,
            f"the destination's own answers (control trace) arrive with IP TTL {own_ttl}",
        ]
        summary = (
            f"{label}: a reset in {trace.destination}'s name comes from {forged_by}, not from "
            "the destination: its TTL matches that hop's"
        )
        return [finding(code, summary, [*lines, *why], subject=same_as_hop.sender)]
    if first.kind is HopKind.SYN_ACK:
        if hops_travelled < first.ttl:
            lines.append(
                f"the SYN/ACK's IP TTL {first.reply_ttl} suggests {hops_travelled} hops back "
                f"for a probe that needed {first.ttl}: a device on the path may answer in the "
                "destination's name; a control trace to an open port would prove it"
            )
        return [finding("trace.reached", f"{label}: reached at hop {first.ttl} (SYN/ACK)", lines)]
    # A reset, no proof either way: its TTL says whether it fits the destination — the
    # destination's own answers where the control trace shows them, else the distance.
    fits = first.reply_ttl == own_ttl if own_ttl is not None else hops_travelled >= first.ttl
    # A device before the destination is suspected only if the reset came from nearer than
    # the probe went (or from a hop whose own ICMP has its TTL): one that travelled as far as
    # the destination names no hop on the path, whatever the destination's own TTL is.
    if not fits and (hops_travelled < first.ttl or same_as_hop is not None):
        why = [
            f"the reset's IP TTL {first.reply_ttl} says it travelled {hops_travelled} hops back "
            f"for a probe that needed {first.ttl}",
            *([ttl_line] if ttl_line else []),
            "return paths can be shorter than the way out, so this is a strong suspicion, not "
            "proof; "
            + (
                f"the destination's own answers (control trace) arrive with IP TTL {own_ttl}"
                if own_ttl is not None
                else "a control trace to an open port of the same host would prove it"
            ),
        ]
        subject = same_as_hop.sender if same_as_hop is not None else f"hop {hops_travelled}"
        summary = (
            f"{label}: a reset in {trace.destination}'s name at hop {first.ttl}, most likely "
            f"from {forged_by}: its TTL does not fit the destination"
        )
        return [finding("trace.reset_suspect", summary, [*lines, *why], subject=subject)]
    summary = f"{label}: rejected with a TCP reset at hop {first.ttl} ({first.sender})"
    if not fits:
        lines.append(
            f"its IP TTL {first.reply_ttl} is not that of the destination's own answers "
            f"({own_ttl}), but it travelled {hops_travelled} hops, as far as the destination "
            "or farther: no device on the path is named (one at the destination's end, a load "
            "balancer or the host's own firewall, may send it)"
        )
    if distance is None and control is not None:
        lines.append(
            f"the control trace to port {control.port} got no answer from the destination: "
            "it cannot tell the destination from a middlebox"
        )
    elif distance is None:
        lines.append("a control trace to an open port would tell the destination from a middlebox")
    return [finding("trace.rejected_at_hop", summary, lines, subject=first.sender)]
