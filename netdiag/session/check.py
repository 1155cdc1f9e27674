"""A whole check: DNS for every host, then every endpoint, concurrently under one deadline
per round (`resolution`, `endpoint`, `scheduler`); rounds repeated for flapping; each
round judged as a whole by the pure `netdiag.diagnosis.round`; Ctrl-C keeps what was
gathered."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from netdiag.console import Console
from netdiag.diagnosis import diagnose_flapping
from netdiag.diagnosis.clock import diagnose_clock, stated_clocks
from netdiag.diagnosis.completeness import cut_short_by
from netdiag.diagnosis.place import PLACED_CODES
from netdiag.diagnosis.round import RoundRules, diagnose_round
from netdiag.errors import describe_error
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.report.model import EndpointResult, Finding, Note, Report
from netdiag.report.observations import (
    ClientCertificateObservation,
    DnsObservation,
    EndpointObservation,
    ServerClock,
)
from netdiag.session.config import CheckConfig
from netdiag.session.endpoint import (
    MAX_RETRIED_ALONE,
    RETRY_PAUSE_S,
    Pacing,
    Progress,
    probe_endpoint,
    retry_alone,
    retry_pause_s,
    was_refused_among_others,
)
from netdiag.session.resolution import DEADLINE_PASSED, INTERRUPTED, resolve, resolvers_of
from netdiag.session.scheduler import run_all
from netdiag.session.warmup import start_warm_up
from netdiag.settings.config import ResolverSpec
from netdiag.settings.targets import Target

if TYPE_CHECKING:
    from netdiag.probes.login_gate import LoginGate


@dataclass
class _Round:
    """What one round gathered: per host its DNS, per endpoint how far its probe got."""

    dns: dict[str, DnsObservation] = field(default_factory=dict)
    endpoints: dict[Target, EndpointObservation] = field(default_factory=dict)
    was_interrupted: bool = False
    deadline: Deadline | None = None


def run_check(
    config: CheckConfig, console: Console | None = None, flows: FlowLog | None = None
) -> Report:
    """Probe every target of `config`, `config.repeat` times, and diagnose what was seen;
    every flow opened is registered in `flows` (for a capture) when given."""
    console = console or Console()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    notes: list[Note] = []
    local_findings: list[Finding] = []
    try:
        client = _client_observation(config)
    except Exception as error:  # noqa: BLE001 - one step's note; the check goes on
        client = None
        notes.append(step_failed("client certificate details", error))
    resolvers, resolver_notes = resolvers_of(config)
    notes += resolver_notes
    rounds: list[_Round] = []
    # The judging and rendering modules load while the first round waits on the network.
    start_warm_up()
    for number in range(1, max(1, config.repeat) + 1):
        prefix = f"round {number}/{config.repeat} " if config.repeat > 1 else ""
        if number > 1 and not _pause(config.interval_s, console, prefix):
            rounds[-1].was_interrupted = True
            break
        current = _probe_round(config, resolvers, console, prefix, flows)
        rounds.append(current)
        if current.was_interrupted:
            break
    console.clear_progress()
    # The stores were read beside the round (netdiag.session.stores).
    trust = config.judged_against()
    notes += [
        Note.of(
            "store_entry_unreadable",
            store=e.store,
            entry=e.entry,
            subject=f"({e.subject}) " if e.subject else "",
            reason=e.reason,
        )
        for e in trust.machine.unreadable
    ]
    notes += [
        Note.of(f"pins_{f.reason.value}", path=f.path, count=f.count) for f in config.pins.files
    ]
    local_findings += config.local_roots()
    now = datetime.now(UTC)
    rules = RoundRules(
        targets=config.targets,
        pins=config.pins,
        trust=trust,
        expected_networks=config.expected_networks,
        slow_banner_s=config.slow_banner_s,
    )
    judged = [diagnose_round(rules, r.endpoints, client, now) for r in rounds]
    if _wants_place(judged[-1]) and not rounds[-1].was_interrupted:
        try:
            judged[-1] = _placed(config, rules, rounds[-1], judged[-1], client, now, flows)
        except Exception as error:  # noqa: BLE001 - one step's note; the verdicts stand
            notes.append(step_failed("place of the interception or the SMTP session", error))
    endpoints = tuple(_result(target, rounds, judged) for target in config.targets)
    clocks = stated_clocks(rounds[-1].endpoints)
    if client is not None:
        local_findings = _client_findings(config, client, now, clocks) + local_findings
    breaking = any(f.code == "clock.offset" for f in local_findings) or any(
        f.code == "clock.offset" for e in endpoints for f in e.findings
    )
    local_findings += diagnose_clock(clocks, is_breaking=breaking)
    return Report(
        started=started_at,
        duration_s=round(time.monotonic() - started, 3),
        endpoints=endpoints,
        profile=config.profile_name,
        was_interrupted=rounds[-1].was_interrupted,
        notes=tuple(notes),
        client_certificate=client,
        local_findings=tuple(local_findings),
    )


def _wants_place(verdicts: dict[Target, tuple[Finding, ...]]) -> bool:
    """An interception, or an EHLO reply without STARTTLS: where it happens is measured."""
    return any(f.code in PLACED_CODES for findings in verdicts.values() for f in findings)


def _placed(
    config: CheckConfig,
    rules: RoundRules,
    last: _Round,
    verdicts: dict[Target, tuple[Finding, ...]],
    client: ClientCertificateObservation | None,
    now: datetime,
    flows: FlowLog | None,
) -> dict[Target, tuple[Finding, ...]]:
    """The last round judged again with where its interceptions (its missing STARTTLS) take
    place, measured within its deadline (`netdiag.session.place`): only a run that found
    one pays for it."""
    from netdiag.session.place import locate

    assert last.deadline is not None
    last.endpoints = locate(last.endpoints, verdicts, config.timeout_s, last.deadline, flows)
    return diagnose_round(rules, last.endpoints, client, now)


def step_failed(step: str, error: BaseException) -> Note:
    """A step outside any one endpoint that broke inside netdiag: a note, and the rest of
    the report stands."""
    return Note.of("step_failed", step=step, error=describe_error(error))


def _client_observation(config: CheckConfig) -> ClientCertificateObservation | None:
    if config.identity is None:
        return None
    from netdiag.trust.identity import observe_identity

    return observe_identity(config.identity)


def _client_findings(
    config: CheckConfig,
    client: ClientCertificateObservation,
    now: datetime,
    clocks: list[tuple[Target, ServerClock]],
) -> list[Finding]:
    """The client certificate judged at this machine's time and at the servers'."""
    from netdiag.diagnosis.certificate import diagnose_client_certificate
    from netdiag.diagnosis.clock import offset_of, servers_now

    source = f"{clocks[0][1].source} of {clocks[0][0].label}" if clocks else ""
    return diagnose_client_certificate(
        client, now, config.cert_warn_days, servers_now(now, offset_of(clocks)), source
    )


def _pause(seconds: float, console: Console, prefix: str) -> bool:
    """Wait between rounds; False if Ctrl-C ended the wait."""
    console.progress(f"{prefix}waiting {seconds:g} s")
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        return False
    return True


def _probe_round(
    config: CheckConfig,
    resolvers: tuple[ResolverSpec, ...],
    console: Console,
    prefix: str,
    flows: FlowLog | None,
) -> _Round:
    deadline = Deadline.after(config.deadline_s)
    current = _Round(deadline=deadline)
    current.dns, current.was_interrupted = resolve(
        config, resolvers, deadline, console, prefix, flows
    )
    progress = {t: Progress(current.dns.get(t.host)) for t in config.targets}
    # The mailbox login's turns, one per round: every round is a measurement of its own (a
    # round that sent no password would read as another outcome and as flapping).
    gate: LoginGate | None = None
    if config.pop3_login is not None:
        from netdiag.probes.login_gate import LoginGate

        gate = LoginGate()
    if current.was_interrupted:
        current.endpoints = {t: p.snapshot(INTERRUPTED) for t, p in progress.items()}
        return current
    tasks = [
        partial(
            probe_endpoint,
            config,
            target,
            progress[target],
            Pacing(deadline, retry_pause_s(n), flows, gate),
        )
        for n, target in enumerate(config.targets)
    ]
    outcome = run_all(
        tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}endpoints {done}/{total}"),
    )
    was_interrupted = outcome.was_interrupted or _retry_refused_alone(
        config, progress, deadline, flows, gate
    )
    cut_short = INTERRUPTED if was_interrupted else DEADLINE_PASSED
    current.endpoints = {
        target: progress[target].snapshot("" if has_finished else cut_short)
        for target, has_finished in zip(config.targets, outcome.results, strict=True)
    }
    current.was_interrupted = was_interrupted
    return current


def _retry_refused_alone(
    config: CheckConfig,
    progress: dict[Target, Progress],
    deadline: Deadline,
    flows: FlowLog | None,
    gate: LoginGate | None,
) -> bool:
    """Every SMTP endpoint the round saw refused for now while others were connected, once
    more, after a pause, one at a time, so that no other connection of netdiag is open: a
    server that limits connections per client takes it then, and the first refusal was
    the run's own doing (`netdiag.diagnosis.protocol`). True when Ctrl-C ended it."""
    if len(config.targets) < 2 or config.max_parallel < 2:
        return False  # the session was alone already: the refusal stands as it was said
    refused = [t for t in config.targets if was_refused_among_others(progress[t].snapshot())]
    refused = refused[:MAX_RETRIED_ALONE]
    if not refused or deadline.remaining() < 2 * RETRY_PAUSE_S:
        return False
    try:
        time.sleep(RETRY_PAUSE_S)  # the server sees the round's connections closed
    except KeyboardInterrupt:
        return True
    tasks = [
        partial(retry_alone, config, target, progress[target], Pacing(deadline, 0.0, flows, gate))
        for target in refused
    ]
    return run_all(tasks, limit=1, deadline=deadline).was_interrupted


def _result(
    target: Target, rounds: list[_Round], judged: list[dict[Target, tuple[Finding, ...]]]
) -> EndpointResult:
    """The endpoint's findings of the last round, flapping when the rounds disagreed."""
    per_round = [round_findings[target] for round_findings in judged]
    findings = per_round[-1]
    codes = tuple(tuple(f.code for f in round_findings) for round_findings in per_round)
    finished = [r for r in rounds if not r.endpoints[target].cut_short]
    flapping = (
        diagnose_flapping(target, [tuple(f.code for f in fs) for fs in per_round])
        if len(finished) > 1 and len(finished) == len(rounds)
        else None
    )
    if flapping is not None:
        findings = (*findings, flapping)
    last = rounds[-1].endpoints[target]
    return EndpointResult(
        target=target,
        findings=findings,
        dns=last.dns,
        tcp=last.tcp,
        protocol=last.protocol,
        attempts=last.attempts,
        experiments=last.experiments,
        place=last.place,
        hello_at_once=last.hello_at_once,
        retried_alone=last.retried_alone,
        rounds=codes if len(per_round) > 1 else (),
        was_completed=not cut_short_by(last) and not last.error,
    )
