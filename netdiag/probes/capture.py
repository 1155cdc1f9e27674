"""Packet capture of a run's own traffic into a pcap file (scapy), for the support ticket.

The kernel filter is broad (the endpoints' TCP ports, UDP, ICMP); each packet is then kept
only if it belongs to one of netdiag's own flows (`netdiag.privacy.own_flows`), decided in Python
before anything is written: another process's packet never touches the disk, not even a
temporary file."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from netdiag.errors import NetdiagError
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.raw import raw_socket_problem
from netdiag.probes.receiver import ReceiverError, live_interfaces, start_receiver, stop_receiver
from netdiag.report.messages import PHRASES_DE

# How long the sniffer may take to open its sockets before the run goes on without it
# being confirmed, and how long the last answers of a run may still be on their way.
_START_TIMEOUT_S = 5.0
_SETTLE_S = 0.3


class CaptureError(NetdiagError):
    """Capture was asked for and cannot be had here."""


def capture_filter(addresses: Sequence[str], ports: Sequence[int]) -> str:
    """BPF that lets through what could be the probes' traffic: TCP to and from the
    endpoints' ports (and addresses, when they are given as such), UDP (the resolvers
    asked, on whatever port), and ICMP from anyone (a router's error about our SYN comes
    from the router). Which of it is ours is decided per packet afterwards."""
    port_part = " or ".join(f"port {p}" for p in sorted(set(ports)))
    tcp = f"tcp and ({port_part})" if port_part else "tcp"
    if addresses:
        hosts = " or ".join(f"host {a}" for a in sorted(set(addresses)))
        tcp = f"{tcp} and ({hosts})"
    return f"({tcp}) or udp or icmp or icmp6"


def capture_path(directory: Path, label: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "capture"
    return directory / f"{safe}_{stamp}.pcap"


class Capture:
    """Capture netdiag's own packets on every interface that is up while the `with` block runs;
    `packets` is how many were kept, `dropped` how many of other processes were not."""

    def __init__(self, path: Path, bpf: str, flows: FlowLog) -> None:
        self.path = path
        self.bpf = bpf
        self.flows = flows
        self.packets = 0
        self.dropped = 0
        self._sniffer: Any = None
        self._writer: Any = None

    def __enter__(self) -> Capture:
        problem = raw_socket_problem()
        if problem:
            raise CaptureError(problem, de=PHRASES_DE.get(problem, problem))
        # The layers first: the sniffer dissects with what is loaded, and a packet it
        # cannot dissect could not be told ours.
        import scapy.layers.inet
        import scapy.layers.inet6
        import scapy.layers.l2  # noqa: F401
        from scapy.utils import PcapWriter

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Ethernet framing: what Linux gives for veth and loopback alike.
            self._writer = PcapWriter(str(self.path), sync=True, linktype=1)
        except OSError as e:
            reason = e.strerror or str(e)
            raise CaptureError(
                f"cannot write {self.path}: {reason}",
                de=f"{self.path} lässt sich nicht schreiben: {reason}",
            ) from None

        def keep(packet: Any) -> None:
            try:
                is_own = self.flows.is_own(packet)
            except Exception:  # noqa: BLE001 - a packet scapy cannot dissect is not known ours
                is_own = False
            if is_own:
                self.packets += 1
                self._writer.write(packet)
            else:
                self.dropped += 1

        try:
            # The interfaces that are up: which of them the run's packets take is known only
            # once the names are resolved; a disabled adapter has no packets to give.
            self._sniffer = start_receiver(live_interfaces(), self.bpf, keep, _START_TIMEOUT_S)
        except ReceiverError as e:
            self._writer.close()
            self._writer = None
            # Nothing was captured: no empty pcap is left behind to look like evidence.
            self.path.unlink(missing_ok=True)
            raise CaptureError(str(e), de=e.german) from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        time.sleep(_SETTLE_S)  # the last answers are still on their way
        if self._sniffer is not None:
            stop_receiver(self._sniffer)
        if self._writer is not None:
            self._writer.close()
