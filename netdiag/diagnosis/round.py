"""One round's findings for every endpoint, judged together: the trust verdict of each
presented chain — its facts computed once (`netdiag.trust.model`) and weighed against the
chains the other endpoints presented —, "likely the same device" for endpoints that showed
no chain while others on their port were proven intercepted, then each endpoint's own
rules. Pure: (the configuration, the round's observations, the client certificate, now)
-> findings per endpoint; a rule that breaks stays that endpoint's `probe.error`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from netdiag.diagnosis import diagnose_endpoint, probe_error
from netdiag.diagnosis.clock import clock_breaks, offset_of, servers_now, stated_clocks
from netdiag.diagnosis.hypotheses import with_experiments
from netdiag.diagnosis.interception import (
    PresentedChain,
    diagnose_interception,
    diagnose_likely_interception,
)
from netdiag.diagnosis.place import with_place
from netdiag.diagnosis.protocol import DEFAULT_SLOW_BANNER_S
from netdiag.diagnosis.smtp import (
    NO_BANNER,
    answered_at_once_in_http,
    diagnose_banner_withheld,
    hello_at_once_line,
    with_hello_at_once,
)
from netdiag.errors import describe_error
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import (
    ClientCertificateObservation,
    EndpointObservation,
    ProtocolObservation,
    ServerClock,
    SmtpObservation,
)
from netdiag.settings.targets import Network, Target
from netdiag.trust.model import TrustContext, judge_chain
from netdiag.trust.pins import PinSet

Round = Mapping[Target, EndpointObservation]
# The verdicts that a chain is the vendor's own.
_VENDORS = frozenset({"tls.pinned", "tls.verified"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundRules:
    """What the round's rules need of the run's configuration."""

    targets: tuple[Target, ...]
    pins: PinSet
    trust: TrustContext
    expected_networks: tuple[Network, ...] = ()
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S


def diagnose_round(
    config: RoundRules,
    observations: Round,
    client: ClientCertificateObservation | None,
    now: datetime,
) -> dict[Target, tuple[Finding, ...]]:
    """Every endpoint's findings for one round (see the module's description)."""
    chains = {
        t: chain
        for t, o in observations.items()
        if (shown := o.chain_shown_in) is not None
        and (chain := PresentedChain.of(t, shown)) is not None
    }
    clock = RoundClock(now, stated_clocks(observations))
    verdicts = {
        t: _contained(t, partial(_chain_verdict, config, t, observations, chains, client, clock))
        for t in observations
    }
    return {
        t: _contained(t, partial(_endpoint, config, t, observations, chains, verdicts, client))
        for t in observations
    }


@dataclass(frozen=True, slots=True)
class RoundClock:
    """This machine's time for the round, and what the servers said theirs was."""

    now: datetime
    clocks: tuple[tuple[Target, ServerClock], ...] | list[tuple[Target, ServerClock]]

    @property
    def offset_s(self) -> float | None:
        return offset_of(self.clocks)

    @property
    def servers_now(self) -> datetime | None:
        return servers_now(self.now, self.offset_s)


def _chain_verdict(
    config: RoundRules,
    target: Target,
    observations: Round,
    chains: Mapping[Target, PresentedChain],
    client: ClientCertificateObservation | None,
    clock: RoundClock,
) -> tuple[Finding, ...]:
    """The trust verdict for the endpoint's presented chain, if it showed one; and the
    clock as its cause where the chain is valid by the servers' time only."""
    mine = chains.get(target)
    observation = observations[target]
    protocol = observation.chain_shown_in
    if mine is None or protocol is None:
        return ()
    server_name = mine.tls.server_name or protocol.address
    facts = judge_chain(
        mine.tls,
        server_name,
        config.trust,
        config.pins.for_target(target),
        clock.now,
        clock.servers_now,
    )
    verdict = diagnose_interception(
        mine,
        facts,
        config.trust,
        record=config.pins.record_for(target),
        others=list(chains.values()),
        now=clock.now,
        # The remedy names this endpoint; a cause names all of its own.
        exempt=[f"{target.label} ({target.service.value})"],
        client_issuers=client.issuer_names_der if client is not None else (),
    )
    if facts.is_valid_only_by_servers and clock.offset_s is not None:
        verdict.append(
            clock_breaks(target, clock.clocks, clock.offset_s, "the server's certificate")
        )
    return tuple(verdict)


def _at_once_verdict(
    verdict: tuple[Finding, ...], at_once: ProtocolObservation
) -> tuple[Finding, ...]:
    """The verdict on a chain only the hello at once got (the port sent no banner): what
    convicts, with how the chain was got first in its evidence; nothing where the chain is
    the vendor's own (the missing banner's finding says what the hello got)."""
    if all(f.severity is Severity.INFO for f in verdict):
        return ()
    first = f"{NO_BANNER}; {hello_at_once_line(at_once, False)}"
    return tuple(dataclasses.replace(f, evidence=(first, *f.evidence)) for f in verdict)


def _convicted_alike(
    target: Target,
    chains: Mapping[Target, PresentedChain],
    verdicts: Mapping[Target, tuple[Finding, ...]],
) -> list[tuple[Target, str]]:
    """The endpoints on the same port and service proven intercepted, with what convicted
    them (the product, else the issuer)."""
    return _convicted(
        chains, verdicts, lambda o: (o.port, o.service) == (target.port, target.service)
    )


def _convicted_on_host(
    target: Target,
    chains: Mapping[Target, PresentedChain],
    verdicts: Mapping[Target, tuple[Finding, ...]],
) -> list[tuple[Target, str]]:
    """The endpoints of the same host on other ports proven intercepted, with what convicted
    them."""
    return _convicted(chains, verdicts, lambda o: o.host == target.host and o.port != target.port)


def _convicted(
    chains: Mapping[Target, PresentedChain],
    verdicts: Mapping[Target, tuple[Finding, ...]],
    chosen: Callable[[Target], bool],
) -> list[tuple[Target, str]]:
    convicted = []
    for other, findings in verdicts.items():
        if not chosen(other) or other not in chains:
            continue
        proven = next(
            (f for f in findings if f.code in ("tls.intercepted", "tls.intercepted_locally")),
            None,
        )
        if proven is not None:
            convicted.append((other, proven.subject or chains[other].tls.chain[0].issuer))
    return convicted


def _endpoint(
    config: RoundRules,
    target: Target,
    observations: Round,
    chains: Mapping[Target, PresentedChain],
    verdicts: Mapping[Target, tuple[Finding, ...]],
    client: ClientCertificateObservation | None,
) -> tuple[Finding, ...]:
    observation = observations[target]
    interception = verdicts[target]
    at_once = observation.hello_at_once
    is_vendors_at_once = False
    if at_once is not None and observation.chain_shown_in is at_once:
        is_vendors_at_once = any(f.code in _VENDORS for f in interception)
        interception = _at_once_verdict(interception, at_once)
    if not interception:
        interception = tuple(
            diagnose_likely_interception(
                target, observation.attempts, _convicted_alike(target, chains, verdicts)
            )
        )
    if not interception and at_once is not None and observation.chain_shown_in is None:
        interception = tuple(
            diagnose_banner_withheld(target, at_once, _convicted_on_host(target, chains, verdicts))
        )
    findings = diagnose_endpoint(
        target,
        observation,
        expected_networks=config.expected_networks,
        client=client,
        slow_banner_s=config.slow_banner_s,
        interception=interception,
    )
    findings = with_hello_at_once(findings, at_once, is_vendors_at_once, observation.experiments)
    in_http = answered_at_once_in_http(target, at_once, observation.experiments)
    if in_http is not None:
        findings = (in_http, *findings)
    findings = with_experiments(target, observation.attempts, observation.experiments, findings)
    protocol = observation.protocol
    accepted = isinstance(protocol, SmtpObservation) and protocol.took_unoffered_starttls
    return with_place(target, observation.place, findings, starttls_accepted=accepted)


def _contained(target: Target, judge: Callable[[], tuple[Finding, ...]]) -> tuple[Finding, ...]:
    """A rule's findings, or the endpoint's `probe.error` when the rule breaks on it."""
    try:
        return judge()
    except Exception as error:  # noqa: BLE001 - contained, see probe.error
        return (probe_error(target, describe_error(error), "diagnosis"),)
