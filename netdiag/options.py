"""Turn the command line's raw values into a validated CheckConfig."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

from netdiag.config import CheckConfig, parse_resolver
from netdiag.errors import UsageError
from netdiag.targets import Network, load_profile, parse_target, select_targets


def build_check_config(
    *,
    profile_path: Path | None,
    targets: Sequence[str],
    only: Sequence[str],
    resolvers: Sequence[str],
    uses_system_resolver: bool,
    expected_networks: Sequence[str],
    timeout_s: float,
    deadline_s: float,
    repeat: int,
    interval_s: float = 1.0,
) -> CheckConfig:
    """Load the profile (or the --target endpoints), filter, and check every value."""
    if targets:
        chosen = tuple(dict.fromkeys(parse_target(t) for t in targets))
        name, networks = "command line", tuple[Network, ...]()
    else:
        profile = load_profile(profile_path)
        chosen, name, networks = profile.targets, profile.name, profile.expected_networks
    chosen = select_targets(chosen, only)
    if not chosen:
        raise UsageError(f"--only {', '.join(only)}: no endpoint matches")
    parsed_resolvers = tuple(parse_resolver(r) for r in resolvers)
    if (
        not uses_system_resolver
        and not parsed_resolvers
        and any(not t.is_address_literal for t in chosen)
    ):
        raise UsageError("--no-system-resolver needs at least one --resolver to resolve names")
    try:
        extra = tuple(ipaddress.ip_network(n, strict=False) for n in expected_networks)
    except ValueError as e:
        raise UsageError(f"--expect-network: {e}") from None
    return CheckConfig(
        targets=chosen,
        resolvers=parsed_resolvers,
        uses_system_resolver=uses_system_resolver,
        expected_networks=networks + extra,
        timeout_s=timeout_s,
        deadline_s=max(deadline_s, timeout_s),
        repeat=repeat,
        interval_s=interval_s,
        profile_name=name,
    )
