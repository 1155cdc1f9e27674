"""netdiag's own flows in this run: what a capture may keep, and nothing else.

Every probe registers the flow it is about to open — before its first packet leaves — by
protocol, local port and remote address and port: the TCP connections (the socket is bound
first, so its port is known before the SYN), the DNS queries to the resolvers asked, the
trace's SYNs, the MTU probe's echo requests. A captured packet is kept only if it belongs
to one of them, or is an ICMP error whose quoted header is one of them; the capture decides
per packet, before anything is written, so another process's packet never touches the disk.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Any


def _normal(address: str) -> str:
    try:
        return ipaddress.ip_address(address.split("%")[0]).compressed
    except ValueError:
        return address


@dataclass(frozen=True, slots=True)
class Flow:
    """One of our flows as seen from this machine: protocol, our port, the peer."""

    protocol: str  # "tcp", "udp" or "icmp-echo" (port: the echo identifier)
    local_port: int
    remote: str
    remote_port: int


class FlowLog:
    """The flows this run opened; safe to add to from any probe thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flows: set[Flow] = set()

    def add(self, protocol: str, local_port: int, remote: str, remote_port: int) -> None:
        with self._lock:
            self._flows.add(Flow(protocol, local_port, _normal(remote), remote_port))

    def __contains__(self, flow: Flow) -> bool:
        with self._lock:
            return flow in self._flows

    def __len__(self) -> int:
        with self._lock:
            return len(self._flows)

    def is_own(self, packet: Any) -> bool:
        """Whether a captured scapy packet belongs to one of our flows, in either
        direction, or is an ICMP error about one of them."""
        from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror
        from scapy.layers.inet6 import (
            ICMPv6DestUnreach,
            ICMPv6EchoReply,
            ICMPv6EchoRequest,
            ICMPv6PacketTooBig,
            ICMPv6TimeExceeded,
            IPerror6,
            IPv6,
        )

        ip = packet.getlayer(IP) or packet.getlayer(IPv6)
        if ip is None:
            return False
        icmp_error_v6 = (ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6PacketTooBig)
        if packet.haslayer(ICMP) and int(packet[ICMP].type) in (3, 4, 5, 11, 12):
            return self._quotes_ours(packet.getlayer(IPerror), TCPerror, UDPerror)
        if any(packet.haslayer(kind) for kind in icmp_error_v6):
            return self._quotes_ours(packet.getlayer(IPerror6), TCPerror, UDPerror)
        if packet.haslayer(ICMP):
            echo = packet[ICMP]
            peer = str(ip.dst) if int(echo.type) == 8 else str(ip.src)
            return Flow("icmp-echo", int(echo.id), _normal(peer), 0) in self
        for echo_kind in (ICMPv6EchoRequest, ICMPv6EchoReply):
            if packet.haslayer(echo_kind):
                echo = packet[echo_kind]
                peer = str(ip.dst) if echo_kind is ICMPv6EchoRequest else str(ip.src)
                return Flow("icmp-echo", int(echo.id), _normal(peer), 0) in self
        for transport, name in ((TCP, "tcp"), (UDP, "udp")):
            if packet.haslayer(transport):
                layer = packet[transport]
                outgoing = Flow(name, int(layer.sport), _normal(str(ip.dst)), int(layer.dport))
                incoming = Flow(name, int(layer.dport), _normal(str(ip.src)), int(layer.sport))
                return outgoing in self or incoming in self
        return False

    def _quotes_ours(self, quoted: Any, tcp: Any, udp: Any) -> bool:
        """An ICMP error is ours if the packet it quotes (sent by us) is one of our flows."""
        if quoted is None:
            return False
        for kind, name in ((tcp, "tcp"), (udp, "udp")):
            if quoted.haslayer(kind):
                layer = quoted[kind]
                flow = Flow(name, int(layer.sport), _normal(str(quoted.dst)), int(layer.dport))
                return flow in self
        return False
