"""The frozen configuration of one run."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netdiag.errors import UsageError
from netdiag.report.observations import LoginKind
from netdiag.settings.defaults import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S
from netdiag.settings.targets import Network, Target

if TYPE_CHECKING:
    from netdiag.privacy.audit import KnownSecrets
    from netdiag.privacy.secret import Secret
    from netdiag.trust.identity import ClientIdentity
    from netdiag.trust.model import TrustContext
    from netdiag.trust.pins import PinSet

MAX_PARALLEL = 32
MAX_ADDRESSES_PER_ENDPOINT = 8
DEFAULT_CERT_WARN_DAYS = 30
DEFAULT_SLOW_BANNER_S = 3.0


@dataclass(frozen=True, slots=True)
class ResolverSpec:
    """One DNS server to ask: its address and port, and how the user named it."""

    address: str
    port: int = 53
    origin: str = "given"

    @property
    def name(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        where = host if self.port == 53 else f"{host}:{self.port}"
        return f"{self.origin} {where}"


def parse_resolver(text: str) -> ResolverSpec:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    text = text.strip()
    address, port = text, "53"
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif text.count(":") == 1:
        address, port = text.split(":")
    try:
        ipaddress.ip_address(address)
        port_number = int(port)
        if not 0 < port_number < 65536:
            raise ValueError(port)
    except ValueError:
        raise UsageError(
            f"--resolver {text!r}: expected IP[:PORT], e.g. 10.0.0.53 or [::1]:5353"
        ) from None
    return ResolverSpec(address, port_number, "given")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Login:
    """A POP3 login to try: the mailbox's own, or a made-up user's."""

    user: str
    password: Secret = field(repr=False)
    kind: LoginKind


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckConfig:
    """What to check and how long each step and the whole run may take."""

    targets: tuple[Target, ...]
    resolvers: tuple[ResolverSpec, ...] = ()
    uses_system_resolver: bool = True
    expected_networks: tuple[Network, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    deadline_s: float = DEFAULT_DEADLINE_S
    repeat: int = 1
    interval_s: float = 1.0
    max_parallel: int = MAX_PARALLEL
    max_addresses: int = MAX_ADDRESSES_PER_ENDPOINT
    profile_name: str = ""
    identity: ClientIdentity | None = field(default=None, repr=False)
    cert_warn_days: int = DEFAULT_CERT_WARN_DAYS
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S
    pop3_login: Pop3Login | None = field(default=None, repr=False)
    pins: PinSet = field(default_factory=lambda: _empty_pins(), repr=False)
    # What the presented chains are judged against (`--ca`, the client bundle's CAs, this
    # machine's stores, the public roots): see netdiag.trust.model.
    trust: TrustContext = field(default_factory=lambda: _no_trust(), repr=False)
    # Every form of the run's secrets, for the bundle's audit (never shown).
    known_secrets: KnownSecrets = field(default_factory=lambda: _no_secrets(), repr=False)


def _no_secrets() -> KnownSecrets:
    from netdiag.privacy.audit import KnownSecrets

    return KnownSecrets()


def _no_trust() -> TrustContext:
    from netdiag.trust.model import TrustContext

    return TrustContext()


def _empty_pins() -> PinSet:
    from netdiag.trust.pins import PinSet

    return PinSet()
