"""TCP SYN traceroutes to the real destination ports (scapy), many at once over one
receive path.

Every trace of a run goes into one batch: one sniffer listens for the answers of all of
them, every probe has a source port of its own in the batch (and its own sequence number),
and each answer is handed to the probe it belongs to — an ICMP error by the TCP header it
quotes, a SYN/ACK or reset by the ports and the acknowledgement number. No trace can read
another trace's answer, and none is lost because another socket took it. Every TTL is sent
at once; a probe that got no answer is sent once more after a short pause (routers
rate-limit their ICMP), so that silence is concluded only after two tries. A trace ends at
the destination: answers for TTLs beyond the first one the destination answered (and one
to confirm it) are left out.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.raw import raw_socket_problem
from netdiag.probes.receiver import ReceiverError, route_interfaces, start_receiver, stop_receiver
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation
from netdiag.settings.defaults import MAX_HOPS, PROBES_PER_HOP

REVERSE_NAME_TIMEOUT_S = 0.5
# The pause before the one more probe of a TTL that got no answer: long enough for a
# router's ICMP rate limit (a few per second) to let another answer through.
RETRY_PAUSE_S = 0.5
# How long the sniffer may take to open its sockets before the batch is given up.
_START_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One trace: a destination address and the TCP port to trace."""

    address: str
    port: int


@dataclass(slots=True)
class _Probe:
    """One SYN in flight, and the first answer that belongs to it."""

    request: TraceRequest
    ttl: int
    sport: int
    seq: int
    sent_at: float = 0.0
    reply: HopReply | None = None


@dataclass(slots=True)
class _Batch:
    """Every probe of the batch by its source port (unique within the batch)."""

    by_sport: dict[int, _Probe] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def probe_trace(
    address: str,
    port: int,
    *,
    timeout: float,
    max_hops: int = MAX_HOPS,
    probes_per_hop: int = PROBES_PER_HOP,
    flows: FlowLog | None = None,
) -> TraceObservation:
    """One trace (a batch of one)."""
    request = TraceRequest(address, port)
    return probe_traces(
        [request], timeout=timeout, max_hops=max_hops, probes_per_hop=probes_per_hop, flows=flows
    )[request]


def probe_traces(
    requests: Sequence[TraceRequest],
    *,
    timeout: float,
    max_hops: int = MAX_HOPS,
    probes_per_hop: int = PROBES_PER_HOP,
    flows: FlowLog | None = None,
) -> dict[TraceRequest, TraceObservation]:
    """Every requested trace at once, over one receive path; an observation for each, with
    the reason in `error` when tracing cannot run here."""
    unique = list(dict.fromkeys(requests))

    def base(request: TraceRequest) -> TraceObservation:
        return TraceObservation(
            destination=request.address,
            port=request.port,
            max_hops=max_hops,
            probes_per_hop=probes_per_hop,
            timeout_s=timeout,
        )

    problem = raw_socket_problem()
    if problem or not unique:
        return {r: dataclasses.replace(base(r), error=problem) for r in unique}
    try:
        return _run_batch(unique, base, timeout, max_hops, probes_per_hop, flows)
    except ReceiverError as e:
        return {r: dataclasses.replace(base(r), error=str(e)) for r in unique}
    except OSError as e:
        error = f"cannot send or receive raw packets: {e.strerror or e}"
        return {r: dataclasses.replace(base(r), error=error) for r in unique}


def _run_batch(
    requests: list[TraceRequest],
    base: Any,
    timeout: float,
    max_hops: int,
    probes_per_hop: int,
    flows: FlowLog | None,
) -> dict[TraceRequest, TraceObservation]:
    import scapy.layers.inet
    import scapy.layers.inet6  # noqa: F401 - the sniffer dissects with what is loaded

    batch = _Batch()
    # Room for every probe and its one repetition, in one block of source ports.
    needed = 2 * len(requests) * max_hops * probes_per_hop
    next_port = iter(range(random.randint(20000, 60000 - needed), 60000))  # noqa: S311

    def new_probe(request: TraceRequest, ttl: int) -> _Probe:
        probe = _Probe(request, ttl, next(next_port), random.getrandbits(32))
        with batch.lock:
            batch.by_sport[probe.sport] = probe
        if flows is not None:
            flows.add("tcp", probe.sport, request.address, request.port)
        return probe

    first = [
        new_probe(r, ttl)
        for r in requests
        for ttl in range(1, max_hops + 1)
        for _ in range(probes_per_hop)
    ]
    # Every answer comes back over the route its probe left by: listening there, and only
    # there, no adapter that is down or odd elsewhere on the machine stands in the way.
    sniffer = start_receiver(
        route_interfaces(r.address for r in requests),
        _bpf(requests),
        lambda packet: _dispatch(batch, packet),
        _START_TIMEOUT_S,
    )
    try:
        started = time.monotonic()
        _send(first)
        # Every probe of the first round gets the whole timeout from when it left.
        ends = time.monotonic() + timeout
        _wait(batch, requests, started + min(RETRY_PAUSE_S, timeout / 2))
        again = [new_probe(p.request, p.ttl) for p in _unanswered(batch, requests)]
        _send(again)
        # The routers answering so far are named while the last answers come in.
        naming = _Naming(_senders(batch))
        _wait(batch, requests, ends)
        elapsed = (time.monotonic() - started) * 1000
    finally:
        stop_receiver(sniffer)
    with batch.lock:
        probes = list(batch.by_sport.values())
    names = naming.finish(_senders(batch))
    result = {}
    for request in requests:
        mine = [p for p in probes if p.request == request]
        replies = [p.reply for p in mine if p.reply is not None]
        sent = tuple(sum(1 for p in mine if p.ttl == ttl) for ttl in range(1, max_hops + 1))
        result[request] = dataclasses.replace(
            base(request),
            sent=sent,
            replies=tuple(sorted(_up_to_destination(request, replies), key=_order)),
            names=tuple((a, n) for a, n in names if any(r.sender == a for r in replies)),
            elapsed_ms=round(elapsed, 1),
        )
    return result


def _senders(batch: _Batch) -> list[str]:
    with batch.lock:
        replies = [p.reply for p in batch.by_sport.values() if p.reply is not None]
    return sorted({r.sender for r in replies if r.sender})


class _Naming:
    """Reverse names of the routers, looked up in the background while the trace waits."""

    def __init__(self, senders: list[str]) -> None:
        self.started = senders
        self.names: tuple[tuple[str, str], ...] = ()
        self.thread = threading.Thread(target=self._look_up, daemon=True)
        self.thread.start()

    def _look_up(self) -> None:
        self.names = reverse_names(self.started, REVERSE_NAME_TIMEOUT_S)

    def finish(self, senders: list[str]) -> tuple[tuple[str, str], ...]:
        """The names found, with those of senders that answered late looked up now."""
        self.thread.join(REVERSE_NAME_TIMEOUT_S)
        late = [s for s in senders if s not in self.started]
        return tuple(self.names) + (reverse_names(late, REVERSE_NAME_TIMEOUT_S) if late else ())


def prepare() -> None:
    """Import scapy's layers ahead of a batch (half a second on a slow machine), so that a
    check that will trace can do it while its own probes are still waiting."""
    if raw_socket_problem():
        return
    import scapy.layers.inet
    import scapy.layers.inet6
    import scapy.sendrecv  # noqa: F401


def _order(reply: HopReply) -> tuple[int, float]:
    return reply.ttl, reply.rtt_ms


def _up_to_destination(request: TraceRequest, replies: list[HopReply]) -> list[HopReply]:
    """The replies up to the first TTL the destination answered, and the one after it to
    confirm it: beyond the destination every TTL says the same."""
    reached = [
        r.ttl
        for r in replies
        if r.kind in (HopKind.SYN_ACK, HopKind.RST) and r.sender == request.address
    ]
    if not reached:
        return replies
    last = min(reached) + 1
    return [r for r in replies if r.ttl <= last]


def _bpf(requests: Sequence[TraceRequest]) -> str:
    """ICMP from anyone (a router's error quotes our SYN), and TCP from the destinations'
    traced ports; which of it answers which probe is decided per packet."""
    sources = " or ".join(
        f"(src host {r.address} and src port {r.port})" for r in dict.fromkeys(requests)
    )
    return f"icmp or icmp6 or (tcp and ({sources}))"


def _send(probes: Sequence[_Probe]) -> None:
    """Every probe's SYN, through one raw socket."""
    if not probes:
        return
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.sendrecv import send

    packets = []
    for probe in probes:
        address = probe.request.address
        is_v6 = ipaddress.ip_address(address).version == 6
        layer3 = IPv6(dst=address, hlim=probe.ttl) if is_v6 else IP(dst=address, ttl=probe.ttl)
        packets.append(
            layer3 / TCP(sport=probe.sport, dport=probe.request.port, flags="S", seq=probe.seq)
        )
    now = time.time()
    for probe in probes:
        probe.sent_at = now
    send(packets, verbose=0)


def _unanswered(batch: _Batch, requests: Sequence[TraceRequest]) -> list[_Probe]:
    """One probe per (trace, TTL) that got no answer at all, below the destination."""
    with batch.lock:
        probes = list(batch.by_sport.values())
    answered = {(p.request, p.ttl) for p in probes if p.reply is not None}
    reached: dict[TraceRequest, int] = {}
    for p in probes:
        reply = p.reply
        if reply is not None and reply.kind in (HopKind.SYN_ACK, HopKind.RST):
            if reply.sender == p.request.address:
                reached[p.request] = min(reached.get(p.request, p.ttl), p.ttl)
    chosen: dict[tuple[TraceRequest, int], _Probe] = {}
    for p in probes:
        key = (p.request, p.ttl)
        if key in answered or key in chosen:
            continue
        if p.request in reached and p.ttl > reached[p.request]:
            continue
        chosen[key] = p
    return list(chosen.values())


def _wait(batch: _Batch, requests: Sequence[TraceRequest], until: float) -> None:
    """Until `until`, or until every trace reached its destination with every TTL before
    it answered (nothing more can come that would change it)."""
    while time.monotonic() < until:
        if _all_complete(batch, requests):
            return
        time.sleep(0.05)


def _all_complete(batch: _Batch, requests: Sequence[TraceRequest]) -> bool:
    with batch.lock:
        probes = list(batch.by_sport.values())
    for request in requests:
        mine = [p for p in probes if p.request == request and p.reply is not None]
        reached = [
            p.ttl
            for p in mine
            if p.reply is not None
            and p.reply.kind in (HopKind.SYN_ACK, HopKind.RST)
            and p.reply.sender == request.address
        ]
        if not reached:
            return False
        answered = {p.ttl for p in mine}
        if not set(range(1, min(reached) + 1)) <= answered:
            return False
    return True


def _dispatch(batch: _Batch, packet: Any) -> None:
    """Hand an answer to the probe it belongs to (the first answer of a probe counts)."""
    try:
        found = _match(batch, packet)
    except Exception:  # noqa: BLE001 - a packet scapy cannot dissect answers no probe
        return
    if found is None:
        return
    probe, reply = found
    with batch.lock:
        if probe.reply is None:
            probe.reply = reply


def _match(batch: _Batch, packet: Any) -> tuple[_Probe, HopReply] | None:
    from scapy.layers.inet import ICMP, IP, TCP, IPerror, TCPerror
    from scapy.layers.inet6 import (
        ICMPv6DestUnreach,
        ICMPv6TimeExceeded,
        IPerror6,
        IPv6,
    )

    is_v6 = packet.haslayer(IPv6)
    outer = packet.getlayer(IPv6) if is_v6 else packet.getlayer(IP)
    if outer is None:
        return None
    sender = str(outer.src)
    reply_ttl = int(outer.hlim if is_v6 else outer.ttl)
    kind: HopKind
    icmp_type: int | None = None
    icmp_code: int | None = None
    if packet.haslayer(TCPerror):
        quoted = packet[TCPerror]
        inner = packet.getlayer(IPerror6) if is_v6 else packet.getlayer(IPerror)
        probe = batch.by_sport.get(int(quoted.sport))
        if probe is None or inner is None:
            return None
        if str(inner.dst) != probe.request.address or int(quoted.dport) != probe.request.port:
            return None
        if is_v6:
            if packet.haslayer(ICMPv6TimeExceeded):
                kind, icmp_type = HopKind.TIME_EXCEEDED, 3
                icmp_code = int(packet[ICMPv6TimeExceeded].code)
            elif packet.haslayer(ICMPv6DestUnreach):
                kind, icmp_type = HopKind.UNREACHABLE, 1
                icmp_code = int(packet[ICMPv6DestUnreach].code)
            else:
                kind = HopKind.OTHER
        else:
            icmp = packet[ICMP]
            icmp_type, icmp_code = int(icmp.type), int(icmp.code)
            kind = {11: HopKind.TIME_EXCEEDED, 3: HopKind.UNREACHABLE}.get(icmp_type, HopKind.OTHER)
    elif packet.haslayer(TCP):
        tcp = packet[TCP]
        probe = batch.by_sport.get(int(tcp.dport))
        if probe is None or sender != probe.request.address:
            return None
        if int(tcp.sport) != probe.request.port:
            return None
        flags = str(tcp.flags)
        # An answer to our SYN acknowledges its sequence number (RFC 9293 3.10.7.1); a reset
        # without ACK cannot be told ours.
        if "A" not in flags or int(tcp.ack) != (probe.seq + 1) % 2**32:
            return None
        if "R" in flags:
            kind = HopKind.RST
        elif "S" in flags:
            kind = HopKind.SYN_ACK
        else:
            return None
    else:
        return None
    rtt = round((float(packet.time) - probe.sent_at) * 1000, 2)
    reply = HopReply(
        ttl=probe.ttl,
        sender=sender,
        kind=kind,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        rtt_ms=max(rtt, 0.0),
        reply_ttl=reply_ttl,
    )
    return probe, reply


def reverse_names(addresses: list[str], timeout: float) -> tuple[tuple[str, str], ...]:
    """PTR names that resolve quickly, looked up at once; the others stay unnamed."""
    names: dict[str, str] = {}

    def look_up(address: str) -> None:
        try:
            names[address] = socket.gethostbyaddr(address)[0]
        except OSError:
            pass

    workers = [threading.Thread(target=look_up, args=(a,), daemon=True) for a in addresses]
    for worker in workers:
        worker.start()
    ends = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, ends - time.monotonic()))
    return tuple((a, names[a]) for a in addresses if a in names)
