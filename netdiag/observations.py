"""What the probes saw, recorded raw: frozen facts that diagnosis reads and renderers show."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DnsOutcome(StrEnum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswer:
    """One query (one record type) to one resolver and what came back."""

    resolver: str
    qtype: str
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    answered_by: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsObservation:
    """Every answer for one host name, from every resolver asked."""

    host: str
    answers: tuple[DnsAnswer, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address any resolver gave, in the order first seen."""
        return tuple(dict.fromkeys(a for ans in self.answers for a in ans.addresses))

    @property
    def resolvers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.resolver for a in self.answers))

    def addresses_from(self, resolver: str) -> frozenset[str]:
        return frozenset(
            a for ans in self.answers if ans.resolver == resolver for a in ans.addresses
        )


class TcpOutcome(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpReport:
    """An ICMP error that came back for our SYN: who sent it, type and code."""

    sender: str
    type: int
    code: int
    family: int = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpObservation:
    """One connect() to one address."""

    address: str
    port: int
    family: int
    outcome: TcpOutcome
    elapsed_ms: float = 0.0
    timeout_s: float = 0.0
    errno: int | None = None
    errno_name: str = ""
    detail: str = ""
    icmp: IcmpReport | None = None
