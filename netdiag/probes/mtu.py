"""Path MTU probe: ICMP echo requests with Don't Fragment, of several sizes at once; the
largest that comes back, and whether ICMP fragmentation-needed says why the others did not
(without it, a path that drops large packets is a black hole for TCP)."""

from __future__ import annotations

import ipaddress
import random
import struct

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.raw import raw_socket_problem
from netdiag.report.trace_observations import MtuObservation

SIZES_V4 = (576, 1000, 1200, 1280, 1300, 1350, 1380, 1400, 1420, 1440, 1460, 1472, 1480, 1492, 1500)
# Jumbo frames and loopback: sizes above Ethernet's, up to what one IPv4 packet can be.
JUMBO_SIZES_V4 = (4000, 9000, 16384, 32768)
IPV4_MAX_PACKET = 65535
DEFAULT_MTU = 1500


def probe_sizes(interface_mtu: int) -> tuple[int, ...]:
    """The packet sizes to probe on an interface of `interface_mtu`: the usual steps below
    it and the largest it can send, never beyond the 65535 bytes an IPv4 packet can hold
    (loopback's MTU is 65536)."""
    top = min(interface_mtu, IPV4_MAX_PACKET)
    steps = {s for s in (*SIZES_V4, *JUMBO_SIZES_V4) if s <= top}
    return tuple(sorted(steps | {top}))


def interface_mtu(address: str) -> tuple[str, int]:
    """The interface the route to `address` leaves by, and its MTU (psutil, every
    platform); 1500 where either cannot be told."""
    try:
        from scapy.config import conf

        route = conf.route.route(address)[0]
    except Exception:  # noqa: BLE001 - no route, no scapy routing table: assume Ethernet
        return "", DEFAULT_MTU
    # scapy names an interface by a string on Linux and by an object on Windows (Npcap).
    interface = str(getattr(route, "name", route))
    return interface, mtu_of(interface)


def mtu_of(interface: str) -> int:
    """The MTU of `interface` as the operating system has it, else 1500."""
    import psutil

    stats = psutil.net_if_stats().get(interface)
    return int(stats.mtu) if stats is not None and stats.mtu else DEFAULT_MTU


def probe_mtu(address: str, *, timeout: float, flows: FlowLog | None = None) -> MtuObservation:
    problem = raw_socket_problem()
    if problem:
        return MtuObservation(destination=address, interface_mtu=0, error=problem)
    if ipaddress.ip_address(address).version != 4:
        return MtuObservation(
            destination=address, interface_mtu=0, error="the path MTU probe is IPv4 only"
        )
    from scapy.layers.inet import ICMP, IP
    from scapy.packet import Raw
    from scapy.sendrecv import sr

    _, mtu = interface_mtu(address)
    sizes = probe_sizes(mtu)
    ident = random.randint(1, 0xFFFF)  # noqa: S311 - an ICMP identifier, not a secret
    if flows is not None:
        flows.add("icmp-echo", ident, address, 0)
    packets = [
        IP(dst=address, flags="DF") / ICMP(id=ident, seq=index) / Raw(b"\x00" * (size - 28))
        for index, size in enumerate(sizes)
    ]
    try:
        answered, _ = sr(packets, timeout=timeout, verbose=0, retry=0)
    except (OSError, struct.error) as e:  # struct.error: a size scapy cannot pack
        return MtuObservation(
            destination=address, interface_mtu=mtu, error=f"cannot send raw packets: {e}"
        )
    outcome: dict[int, str] = dict.fromkeys(sizes, "no answer")
    frag_from, frag_mtu = "", 0
    for sent, received in answered:
        size = sizes[int(sent[ICMP].seq)]
        icmp = received.getlayer(ICMP)
        if icmp is not None and int(icmp.type) == 0:
            outcome[size] = "echo reply"
        elif icmp is not None and int(icmp.type) == 3 and int(icmp.code) == 4:
            outcome[size] = f"fragmentation needed from {received[IP].src}"
            frag_from, frag_mtu = str(received[IP].src), int(getattr(icmp, "nexthopmtu", 0) or 0)
        elif icmp is not None:
            outcome[size] = f"ICMP type {icmp.type} code {icmp.code} from {received[IP].src}"
    passing = [s for s in sizes if outcome[s] == "echo reply"]
    largest = max(passing, default=0)
    failing = [s for s in sizes if s > largest and outcome[s] != "echo reply"]
    return MtuObservation(
        destination=address,
        interface_mtu=mtu,
        largest_passing=largest,
        smallest_failing=min(failing, default=0),
        frag_needed_from=frag_from,
        frag_needed_mtu=frag_mtu,
        probes=tuple((s, outcome[s]) for s in sizes),
    )
