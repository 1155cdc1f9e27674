"""Trace rules: where along the path a port is dropped, rejected or answered by a middlebox.

A reply in the destination's name is judged by where it comes from: a reset or SYN/ACK
answering a TTL smaller than the destination's distance (known from a control trace to a
port that is open), or whose IP TTL says it travelled fewer hops than the probe needed,
was sent by a device on the way.
"""

from __future__ import annotations

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.tcp import icmp_meaning, is_prohibited
from netdiag.observations import HopKind, HopReply, IcmpReport, TraceObservation
from netdiag.report import Finding

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


def _describe(reply: HopReply) -> str:
    if reply.kind is HopKind.TIME_EXCEEDED:
        return "ICMP time exceeded"
    if reply.kind is HopKind.UNREACHABLE:
        icmp = IcmpReport(
            sender=reply.sender,
            type=reply.icmp_type or 0,
            code=reply.icmp_code or 0,
            family=6 if ":" in reply.sender else 4,
        )
        return f"ICMP unreachable code {reply.icmp_code} ({icmp_meaning(icmp)})"
    return {HopKind.SYN_ACK: "TCP SYN/ACK", HopKind.RST: "TCP reset"}.get(reply.kind, reply.kind)


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


def diagnose_trace(
    label: str, trace: TraceObservation, control: TraceObservation | None = None
) -> list[Finding]:
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
        first = answers[0]
        what = "reset" if first.kind is HopKind.RST else "SYN/ACK"
        hops_travelled = travelled(first.reply_ttl)
        # Only the control trace proves a forgery: the destination itself answers further
        # away. A reply TTL alone is no proof — return paths can be shorter than the way
        # out, and operating systems start from different initial TTLs.
        if distance is not None and first.ttl < distance:
            why = [f"it answers TTL {first.ttl}, but {trace.destination} is {distance} hops away"]
            if hops_travelled < first.ttl:
                why.append(
                    f"its IP TTL {first.reply_ttl} says it travelled {hops_travelled} hops, "
                    f"the probe needed {first.ttl}"
                )
            code = "trace.forged_reset" if first.kind is HopKind.RST else "trace.transparent_proxy"
            summary = (
                f"{label}: a {what} in {trace.destination}'s name comes from a device after "
                f"{_where(first.ttl, positions)}, not from the destination"
            )
            return [finding(code, summary, [*lines, *why], subject=f"hop {first.ttl}")]
        if distance is None and hops_travelled < first.ttl:
            lines.append(
                f"the {what}'s IP TTL {first.reply_ttl} suggests {hops_travelled} hops back for "
                f"a probe that needed {first.ttl}: a device on the path may answer in the "
                "destination's name; a control trace to an open port would prove it"
            )
        if first.kind is HopKind.SYN_ACK:
            return [
                finding("trace.reached", f"{label}: reached at hop {first.ttl} (SYN/ACK)", lines)
            ]
        summary = f"{label}: rejected with a TCP reset at hop {first.ttl} ({first.sender})"
        if distance is None:
            lines.append(
                "a control trace to an open port would tell the destination from a middlebox"
            )
        return [finding("trace.rejected_at_hop", summary, lines, subject=first.sender)]

    if unreachable:
        first = unreachable[0]
        hop = positions.get(first.sender, first.ttl)
        icmp = IcmpReport(
            sender=first.sender,
            type=first.icmp_type or 0,
            code=first.icmp_code or 0,
            family=6 if ":" in first.sender else 4,
        )
        kind = "administratively prohibited" if is_prohibited(icmp) else icmp_meaning(icmp)
        summary = f"{label}: rejected at hop {hop} ({first.sender}): {kind}"
        return [
            finding(
                "trace.rejected_at_hop",
                summary,
                [*lines, f"ICMP type {icmp.type} code {icmp.code}: {icmp_meaning(icmp)}"],
                subject=first.sender,
            )
        ]

    last = max((ttl for ttl, r in hops.items() if r.kind is HopKind.TIME_EXCEEDED), default=0)
    if last == 0:
        summary = (
            f"{label}: nothing answered, not even the first hop (a local firewall, or ICMP blocked)"
        )
    else:
        summary = f"{label}: dropped after hop {last} ({hops[last].sender}): silence beyond it"
    subject = hops[last].sender if last else ""
    return [finding("trace.dropped_after_hop", summary, lines, subject=subject)]
