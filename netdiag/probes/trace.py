"""TCP SYN traceroute to the real destination port (scapy): every TTL and every probe is
sent at once and answered within one timeout, so a trace costs one timeout, not one per hop.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import socket
import threading
import time

from netdiag.flows import FlowLog
from netdiag.observations import HopKind, HopReply, TraceObservation
from netdiag.probes.raw import raw_socket_problem

MAX_HOPS = 20
PROBES_PER_HOP = 2
REVERSE_NAME_TIMEOUT_S = 0.5


def probe_trace(
    address: str,
    port: int,
    *,
    timeout: float,
    max_hops: int = MAX_HOPS,
    probes_per_hop: int = PROBES_PER_HOP,
    flows: FlowLog | None = None,
) -> TraceObservation:
    base = TraceObservation(
        destination=address,
        port=port,
        max_hops=max_hops,
        probes_per_hop=probes_per_hop,
        timeout_s=timeout,
    )
    problem = raw_socket_problem()
    if problem:
        return dataclasses.replace(base, error=problem)
    from scapy.layers.inet import ICMP, IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.sendrecv import sr

    is_v6 = ipaddress.ip_address(address).version == 6
    first_port = random.randint(20000, 60000 - max_hops * probes_per_hop)  # noqa: S311 - not crypto
    packets = []
    for ttl in range(1, max_hops + 1):
        for n in range(probes_per_hop):
            sport = first_port + (ttl - 1) * probes_per_hop + n
            if flows is not None:
                flows.add("tcp", sport, address, port)
            layer3 = IPv6(dst=address, hlim=ttl) if is_v6 else IP(dst=address, ttl=ttl)
            packets.append(
                layer3 / TCP(sport=sport, dport=port, flags="S", seq=random.getrandbits(32))
            )  # noqa: S311
    started = time.monotonic()
    try:
        answered, _ = sr(packets, timeout=timeout, verbose=0, retry=0)
    except (OSError, PermissionError) as e:
        return dataclasses.replace(base, error=f"cannot send raw packets: {e.strerror or e}")
    replies = []
    for sent, received in answered:
        ttl = (sent.sport - first_port) // probes_per_hop + 1
        rtt = round((float(received.time) - float(sent.sent_time or sent.time)) * 1000, 2)
        layer = received.getlayer(IPv6) if is_v6 else received.getlayer(IP)
        reply_ttl = int(layer.hlim if is_v6 else layer.ttl) if layer is not None else 0
        sender = str(layer.src) if layer is not None else ""
        kind, icmp_type, icmp_code = _classify(received, is_v6, ICMP, TCP)
        replies.append(
            HopReply(
                ttl=ttl,
                sender=sender,
                kind=kind,
                icmp_type=icmp_type,
                icmp_code=icmp_code,
                rtt_ms=rtt,
                reply_ttl=reply_ttl,
            )
        )
    replies.sort(key=lambda r: (r.ttl, r.rtt_ms))
    senders = sorted({r.sender for r in replies if r.sender})
    return dataclasses.replace(
        base,
        replies=tuple(replies),
        names=reverse_names(senders, REVERSE_NAME_TIMEOUT_S),
        elapsed_ms=round((time.monotonic() - started) * 1000, 1),
    )


def _classify(
    received: object, is_v6: bool, icmp: type, tcp: type
) -> tuple[HopKind, int | None, int | None]:
    if is_v6:
        from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6TimeExceeded

        if received.haslayer(ICMPv6TimeExceeded):  # type: ignore[attr-defined]
            return HopKind.TIME_EXCEEDED, 3, int(received[ICMPv6TimeExceeded].code)  # type: ignore[index]
        if received.haslayer(ICMPv6DestUnreach):  # type: ignore[attr-defined]
            return HopKind.UNREACHABLE, 1, int(received[ICMPv6DestUnreach].code)  # type: ignore[index]
    elif received.haslayer(icmp):  # type: ignore[attr-defined]
        layer = received[icmp]  # type: ignore[index]
        kind = {11: HopKind.TIME_EXCEEDED, 3: HopKind.UNREACHABLE}.get(
            int(layer.type), HopKind.OTHER
        )
        return kind, int(layer.type), int(layer.code)
    if received.haslayer(tcp):  # type: ignore[attr-defined]
        flags = str(received[tcp].flags)  # type: ignore[index]
        if "R" in flags:
            return HopKind.RST, None, None
        if "S" in flags and "A" in flags:
            return HopKind.SYN_ACK, None, None
    return HopKind.OTHER, None, None


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
