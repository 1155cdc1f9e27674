"""The frozen configuration of one run."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from netdiag.errors import UsageError

if TYPE_CHECKING:
    from netdiag.privacy.secret import Secret

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
            f"--resolver {text!r}: expected IP[:PORT], e.g. 10.0.0.53 or [::1]:5353",
            de=f"--resolver {text!r}: erwartet IP[:PORT], z. B. 10.0.0.53 oder [::1]:5353",
        ) from None
    return ResolverSpec(address, port_number, "given")


class LoginKind(StrEnum):
    """Whose POP3 login was tried: the mailbox's own, or a made-up user's (expected to fail)."""

    MAILBOX = "mailbox"
    PROBE = "probe"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Login:
    """A POP3 login to try: the mailbox's own, or a made-up user's."""

    user: str
    password: Secret = field(repr=False)
    kind: LoginKind
