"""Who cuts a hello (`netdiag check --trace`): the failed hello once more, with a receiver
on the route to the server that reads the IP TTL of the SYN/ACK and of the reset (or FIN)
on this very connection, and of nothing else — the connection's own flow, registered
before its SYN leaves, is all it keeps. Raw sockets (root; Npcap on Windows); scapy is
imported inside the function only."""

from __future__ import annotations

import threading
import time
from typing import Any

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.hello import probe_hello
from netdiag.probes.receiver import ReceiverError, route_interfaces, start_receiver, stop_receiver
from netdiag.report.observations import Experiment, HelloAnswer
from netdiag.report.trace_observations import CutSender
from netdiag.settings.targets import Service

_START_TIMEOUT_S = 5.0
# After the hello's answer, the receiver may still be handing over the last packets.
_SETTLE_S = 0.2
_CUT_ANSWERS = {HelloAnswer.RESET: "reset", HelloAnswer.CLOSED: "closed"}


class _Seen:
    """The TTLs seen on the connection, from the receiver's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.syn_ack_ttl: int | None = None
        self.reset_ttl: int | None = None
        self.fin_ttl: int | None = None


def probe_cut_sender(
    address: str,
    port: int,
    service: Service,
    server_name: str,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
) -> CutSender:
    """The hello once more (on 25 after the STARTTLS dialogue), and the TTLs of what came
    back on its connection; every outcome is an observation, never an exception."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6

    own = _BothLogs(flows)
    seen = _Seen()

    def keep(packet: Any) -> None:
        if TCP not in packet or not own.is_own(packet):
            return
        layer = packet[IP] if IP in packet else packet[IPv6] if IPv6 in packet else None
        if layer is None or packet[TCP].sport != port:
            return  # our own packets out
        ttl = int(layer.ttl if IP in packet else layer.hlim)
        flags = int(packet[TCP].flags)
        with seen.lock:
            if (flags & 0x12) == 0x12 and seen.syn_ack_ttl is None:  # SYN and ACK
                seen.syn_ack_ttl = ttl
            elif flags & 0x04 and seen.reset_ttl is None:  # RST
                seen.reset_ttl = ttl
            elif flags & 0x01 and seen.fin_ttl is None:  # FIN
                seen.fin_ttl = ttl

    base = {"address": address, "port": port}
    try:
        sniffer = start_receiver(
            route_interfaces([address]), f"tcp and host {address}", keep, _START_TIMEOUT_S
        )
    except ReceiverError as e:
        return CutSender(**base, error=str(e))  # type: ignore[arg-type]
    try:
        result = probe_hello(
            address, port, service, server_name, Experiment.SAME_HELLO, timeout, deadline, own
        )
        time.sleep(_SETTLE_S)
    finally:
        stop_receiver(sniffer)
    cut = _CUT_ANSWERS.get(result.answer, "")
    with seen.lock:
        cut_ttl = seen.reset_ttl if cut == "reset" else seen.fin_ttl if cut == "closed" else None
        return CutSender(
            **base,  # type: ignore[arg-type]
            syn_ack_ttl=seen.syn_ack_ttl,
            cut_ttl=cut_ttl,
            cut=cut,
            answer=result.answer.value,
        )


class _BothLogs(FlowLog):
    """The probe's own flow log (what its receiver keeps) that registers each flow in the
    run's too (what a capture keeps)."""

    def __init__(self, run: FlowLog | None) -> None:
        super().__init__()
        self.run = run

    def add(self, protocol: str, local_port: int, remote: str, remote_port: int) -> None:
        super().add(protocol, local_port, remote, remote_port)
        if self.run is not None:
            self.run.add(protocol, local_port, remote, remote_port)
