"""What a trace and an MTU probe saw (`netdiag check --trace`, `netdiag trace`): kept apart
from the round's observations, so that a plain check does not define them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HopKind(StrEnum):
    """What answered a TTL-limited SYN."""

    TIME_EXCEEDED = "time_exceeded"
    UNREACHABLE = "unreachable"
    SYN_ACK = "syn_ack"
    RST = "rst"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class HopReply:
    """One answer to one TTL-limited SYN of a trace."""

    ttl: int
    sender: str
    kind: HopKind
    icmp_type: int | None = None
    icmp_code: int | None = None
    rtt_ms: float = 0.0
    reply_ttl: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceObservation:
    """A TCP SYN traceroute to one port: every TTL sent at once, one timeout for all."""

    destination: str
    port: int
    max_hops: int
    probes_per_hop: int
    timeout_s: float
    replies: tuple[HopReply, ...] = ()
    names: tuple[tuple[str, str], ...] = ()
    elapsed_ms: float = 0.0
    error: str = ""
    # How many probes went out per TTL (index TTL - 1), the one repetition included.
    sent: tuple[int, ...] = ()

    def name_of(self, address: str) -> str:
        return next((name for a, name in self.names if a == address), "")

    def expired_at(self, ttl: int) -> str:
        """Who said time-exceeded to a probe with this TTL ("" if none did)."""
        return next(
            (
                r.sender
                for r in self.replies
                if r.ttl == ttl and r.kind is HopKind.TIME_EXCEEDED and r.sender
            ),
            "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MtuObservation:
    """Don't-fragment probes of decreasing size towards one address."""

    destination: str
    interface_mtu: int
    largest_passing: int = 0
    smallest_failing: int = 0
    frag_needed_from: str = ""
    frag_needed_mtu: int = 0
    probes: tuple[tuple[int, str], ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CutSender:
    """Who cut a hello (`netdiag check --trace`, for an endpoint whose every hello was cut):
    the failed hello once more on a connection whose packets are read as they arrive — the
    IP TTL of the server side's SYN/ACK and of the reset (or FIN) that cut the hello."""

    address: str
    port: int
    syn_ack_ttl: int | None = None
    cut_ttl: int | None = None
    # "reset" or "closed"; "" when the hello was not cut this time.
    cut: str = ""
    # What the hello got, as the experiments say it (`HelloAnswer` value).
    answer: str = ""
    error: str = ""
