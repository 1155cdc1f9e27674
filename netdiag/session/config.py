"""The frozen configuration of one run: what to check, how long each step and the whole
run may take, the client identity, the pins and what the chains are judged against."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netdiag.privacy.audit import KnownSecrets
from netdiag.settings.config import (
    DEFAULT_CERT_WARN_DAYS,
    DEFAULT_SLOW_BANNER_S,
    MAX_ADDRESSES_PER_ENDPOINT,
    MAX_PARALLEL,
    Pop3Login,
    ResolverSpec,
)
from netdiag.settings.defaults import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S
from netdiag.settings.targets import Network, Target
from netdiag.trust.identity import ClientIdentity
from netdiag.trust.model import TrustContext
from netdiag.trust.pins import PinSet

if TYPE_CHECKING:
    from netdiag.report.model import Finding
    from netdiag.session.stores import StoresReading


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
    pins: PinSet = field(default_factory=PinSet, repr=False)
    # What the presented chains are judged against (`--ca`, the client bundle's CAs, this
    # machine's stores, the public roots): see netdiag.trust.model.
    trust: TrustContext = field(default_factory=TrustContext, repr=False)
    # The machine's and the public stores while they are read beside the round; None when
    # `trust` holds them already (or no endpoint speaks TLS).
    stores: StoresReading | None = field(default=None, repr=False, compare=False)
    # Every form of the run's secrets, for the bundle's audit (never shown).
    known_secrets: KnownSecrets = field(default_factory=KnownSecrets, repr=False)

    def local_roots(self) -> tuple[Finding, ...]:
        """Roots of inspection products in the machine's store (`local.inspection_root`)."""
        if self.stores is not None:
            return self.stores.result().local_roots
        from netdiag.diagnosis.interception import diagnose_local_roots

        machine = self.trust.machine
        found = diagnose_local_roots(
            machine.roots, self.trust.public_roots, machine.name, self.trust.products
        )
        return tuple(found)

    def judged_against(self) -> TrustContext:
        """`trust` with the machine's and the public stores in it, once they are read."""
        if self.stores is None:
            return self.trust
        stores = self.stores.result()
        return dataclasses.replace(
            self.trust, machine=stores.machine, public_roots=stores.public_roots
        )
