"""Every host name of a round from every resolver, concurrently under the run's deadline:
a query the deadline or Ctrl-C left unanswered is recorded as skipped, one that broke
inside netdiag as an internal error — neither is the resolver's silence."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from netdiag.console import Console
from netdiag.errors import DeadlineExpired, describe_error
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dns import QTYPES, lookup_os, query_addresses, system_resolvers
from netdiag.report.model import Note
from netdiag.report.observations import DnsAnswer, DnsObservation, DnsOutcome
from netdiag.session.config import CheckConfig
from netdiag.session.scheduler import run_all
from netdiag.settings.config import ResolverSpec

INTERRUPTED = "interrupted (Ctrl-C)"
DEADLINE_PASSED = "the run's deadline passed"


def resolvers_of(config: CheckConfig) -> tuple[tuple[ResolverSpec, ...], list[Note]]:
    if not config.uses_system_resolver:
        return config.resolvers, []
    system, error = system_resolvers()
    if error:
        return system + config.resolvers, [Note.of("resolver_config_unreadable", error=error)]
    return system + config.resolvers, [] if system else [Note.of("no_resolver")]


def resolve(
    config: CheckConfig,
    resolvers: tuple[ResolverSpec, ...],
    deadline: Deadline,
    console: Console,
    prefix: str,
    flows: FlowLog | None,
) -> tuple[dict[str, DnsObservation], bool]:
    """Every host name of the profile from every resolver; a query that the deadline or
    Ctrl-C left unanswered is recorded as skipped, not as the resolver's silence."""
    hosts = tuple(dict.fromkeys(t.host for t in config.targets if not t.is_address_literal))
    queries: list[tuple[str, str, str]] = []
    tasks: list[Callable[[], DnsAnswer]] = []
    for host in hosts:
        for resolver in resolvers:
            for qtype in QTYPES:
                tasks.append(
                    partial(_query, host, resolver, qtype, config.timeout_s, deadline, flows)
                )
                queries.append((host, resolver.name, qtype))
        if config.uses_system_resolver:
            tasks.append(partial(_lookup_os, host, config.timeout_s, deadline))
            queries.append((host, "os", "A+AAAA"))
    outcome = run_all(
        tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}DNS {done}/{total}"),
    )
    answers: dict[str, list[DnsAnswer]] = {h: [] for h in hosts}
    why = INTERRUPTED if outcome.was_interrupted else DEADLINE_PASSED
    for (host, asked, qtype), answer in zip(queries, outcome.results, strict=True):
        if answer is None:
            answer = DnsAnswer(resolver=asked, qtype=qtype, outcome=DnsOutcome.SKIPPED, detail=why)
        answers[host].append(answer)
    dns = {h: DnsObservation(host=h, answers=tuple(a)) for h, a in answers.items()}
    return dns, outcome.was_interrupted


def _query(
    host: str,
    resolver: ResolverSpec,
    qtype: str,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None,
) -> DnsAnswer:
    try:
        step = deadline.step(timeout)
    except DeadlineExpired:
        return _skipped(resolver.name, qtype)
    try:
        answer = query_addresses(host, resolver, qtype, step, flows)
    except Exception as error:  # noqa: BLE001 - this query's fact; the run goes on
        return _broken(resolver.name, qtype, error)
    return _cut_by_deadline(answer, step, timeout)


def _lookup_os(host: str, timeout: float, deadline: Deadline) -> DnsAnswer:
    try:
        step = deadline.step(timeout)
    except DeadlineExpired:
        return _skipped("os", "A+AAAA")
    try:
        answer = lookup_os(host, step)
    except Exception as error:  # noqa: BLE001 - this query's fact; the run goes on
        return _broken("os", "A+AAAA", error)
    return _cut_by_deadline(answer, step, timeout)


def _broken(resolver: str, qtype: str, error: BaseException) -> DnsAnswer:
    """A query that broke inside netdiag: no verdict on the resolver."""
    return DnsAnswer(
        resolver=resolver,
        qtype=qtype,
        outcome=DnsOutcome.INTERNAL_ERROR,
        detail=f"internal error: {describe_error(error)}",
    )


def _skipped(resolver: str, qtype: str) -> DnsAnswer:
    return DnsAnswer(
        resolver=resolver, qtype=qtype, outcome=DnsOutcome.SKIPPED, detail=DEADLINE_PASSED
    )


def _cut_by_deadline(answer: DnsAnswer, step: float, timeout: float) -> DnsAnswer:
    """Silence within a step that the deadline shortened is the deadline's, not the
    resolver's: no "allow 53/udp" for a resolver that had less than its timeout."""
    if answer.outcome is DnsOutcome.TIMEOUT and step < timeout:
        return _skipped(answer.resolver, answer.qtype)
    return answer
