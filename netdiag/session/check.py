"""A whole check: DNS for every host, then every endpoint address, concurrently, under
one deadline per round; rounds repeated for flapping; Ctrl-C keeps what was gathered."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from netdiag.console import Console
from netdiag.diagnosis import diagnose_endpoint, diagnose_flapping, probe_error
from netdiag.diagnosis.completeness import cut_short_by
from netdiag.diagnosis.interception import (
    PresentedChain,
    diagnose_interception,
    diagnose_likely_interception,
    diagnose_local_roots,
)
from netdiag.diagnosis.tcp import describe_connect
from netdiag.errors import DeadlineExpired
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import Connected, TlsSettings
from netdiag.probes.dns import QTYPES, lookup_os, query_addresses, system_resolvers
from netdiag.probes.tcp import connect_tcp
from netdiag.report.model import EndpointResult, Finding, Note, Report
from netdiag.report.observations import (
    ClientCertificateObservation,
    DnsAnswer,
    DnsObservation,
    DnsOutcome,
    EndpointObservation,
    ProbeStep,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TcpObservation,
    TcpOutcome,
    TlsOutcome,
    TranscriptLine,
)
from netdiag.session.scheduler import run_all
from netdiag.settings.config import CheckConfig, ResolverSpec
from netdiag.settings.targets import Service, Target
from netdiag.trust.model import judge_chain


@dataclass
class _Round:
    """What one round gathered: per host its DNS, per endpoint how far its probe got."""

    dns: dict[str, DnsObservation] = field(default_factory=dict)
    endpoints: dict[Target, EndpointObservation] = field(default_factory=dict)
    was_interrupted: bool = False
    # Each endpoint's interception findings, judged once for the whole round: an endpoint
    # that showed no chain is judged against the others' (`diagnose_likely_interception`).
    interception: dict[Target, tuple[Finding, ...]] | None = None


class _Progress:
    """One endpoint's probe as it goes: the probe thread records each step here, so that
    what was seen survives the deadline or Ctrl-C, and `reached` says where it stood."""

    def __init__(self, dns: DnsObservation | None) -> None:
        self._lock = threading.Lock()
        self._observation = EndpointObservation(dns=dns, reached=ProbeStep.CONNECT)

    def record(self, **changes: Any) -> None:
        with self._lock:
            self._observation = dataclasses.replace(self._observation, **changes)

    def add_attempt(self, attempt: ProtocolObservation) -> None:
        with self._lock:
            attempts = (*self._observation.attempts, attempt)
            self._observation = dataclasses.replace(self._observation, attempts=attempts)

    def snapshot(self, cut_short: str = "") -> EndpointObservation:
        with self._lock:
            if cut_short and not self._observation.is_done:
                return dataclasses.replace(self._observation, cut_short=cut_short)
            return self._observation


def run_check(
    config: CheckConfig, console: Console | None = None, flows: FlowLog | None = None
) -> Report:
    """Probe every target of `config`, `config.repeat` times, and diagnose what was seen;
    every flow opened is registered in `flows` (for a capture) when given."""
    console = console or Console()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    notes: list[Note] = []
    try:
        client, local_findings = _client_certificate(config, started_at)
    except Exception as error:  # noqa: BLE001 - one step's note; the check goes on
        client, local_findings = None, []
        notes.append(step_failed("client certificate details", error))
    machine = config.trust.machine
    local_findings += diagnose_local_roots(
        machine.roots, config.trust.public_roots, machine.name, config.trust.products
    )
    resolvers, resolver_notes = _resolvers(config)
    notes += resolver_notes
    notes += [
        Note.of(
            "store_entry_unreadable",
            store=e.store,
            entry=e.entry,
            subject=f"({e.subject}) " if e.subject else "",
            reason=e.reason,
        )
        for e in machine.unreadable
    ]
    notes += [
        Note.of(f"pins_{f.reason.value}", path=f.path, count=f.count) for f in config.pins.files
    ]
    rounds: list[_Round] = []
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
    endpoints = tuple(_result(config, target, rounds, client) for target in config.targets)
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


def step_failed(step: str, error: BaseException) -> Note:
    """A step outside any one endpoint that broke inside netdiag: a note, and the rest of
    the report stands."""
    return Note.of("step_failed", step=step, error=describe_error(error))


def _client_certificate(
    config: CheckConfig, now: datetime
) -> tuple[ClientCertificateObservation | None, list[Finding]]:
    if config.identity is None:
        return None, []
    from netdiag.diagnosis.certificate import diagnose_client_certificate
    from netdiag.trust.identity import observe_identity

    observation = observe_identity(config.identity)
    return observation, diagnose_client_certificate(observation, now, config.cert_warn_days)


def _pause(seconds: float, console: Console, prefix: str) -> bool:
    """Wait between rounds; False if Ctrl-C ended the wait."""
    console.progress(f"{prefix}waiting {seconds:g} s")
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        return False
    return True


def _resolvers(config: CheckConfig) -> tuple[tuple[ResolverSpec, ...], list[Note]]:
    if not config.uses_system_resolver:
        return config.resolvers, []
    system, error = system_resolvers()
    if error:
        return system + config.resolvers, [Note.of("resolver_config_unreadable", error=error)]
    return system + config.resolvers, [] if system else [Note.of("no_resolver")]


def _probe_round(
    config: CheckConfig,
    resolvers: tuple[ResolverSpec, ...],
    console: Console,
    prefix: str,
    flows: FlowLog | None,
) -> _Round:
    deadline = Deadline.after(config.deadline_s)
    current = _Round()
    current.dns, current.was_interrupted = _resolve(
        config, resolvers, deadline, console, prefix, flows
    )
    progress = {t: _Progress(current.dns.get(t.host)) for t in config.targets}
    if current.was_interrupted:
        current.endpoints = {t: p.snapshot(INTERRUPTED) for t, p in progress.items()}
        return current
    tasks = [
        partial(
            _probe_endpoint,
            config,
            target,
            progress[target],
            _Pacing(deadline, retry_pause_s(n), flows),
        )
        for n, target in enumerate(config.targets)
    ]
    outcome = run_all(
        tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}endpoints {done}/{total}"),
    )
    cut_short = INTERRUPTED if outcome.was_interrupted else DEADLINE_PASSED
    current.endpoints = {
        target: progress[target].snapshot("" if has_finished else cut_short)
        for target, has_finished in zip(config.targets, outcome.results, strict=True)
    }
    current.was_interrupted = outcome.was_interrupted
    return current


INTERRUPTED = "interrupted (Ctrl-C)"
# How long to wait before the one retry (of a refused connect, of a dialogue that ended
# without a word): long enough for a restarting proxy to listen again, short against the
# step timeouts.
RETRY_PAUSE_S = 1.0
# Retries of different endpoints are spread out by this much each (in profile order): a
# device that just restarted and is met by every retry at once falls over again.
RETRY_STAGGER_S = 0.1


def retry_pause_s(ordinal: int) -> float:
    """The pause before the one retry of the endpoint at position `ordinal`."""
    return RETRY_PAUSE_S + RETRY_STAGGER_S * (ordinal % 16)


DEADLINE_PASSED = "the run's deadline passed"


def _resolve(
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


@dataclass(frozen=True, slots=True)
class _Pacing:
    """What every step of one endpoint's probe shares: the run's deadline, the pause before
    its one retry, and where its flows are registered for a capture."""

    deadline: Deadline
    pause_s: float
    flows: FlowLog | None = None


def _probe_endpoint(
    config: CheckConfig, target: Target, progress: _Progress, pacing: _Pacing
) -> bool:
    """Reach every address of the endpoint, then run its protocol on the connection the
    reachability probe opened to the first open address; True once finished. Whatever
    goes wrong inside stays with this endpoint: the others finish."""
    try:
        _reach_and_converse(config, target, progress, pacing)
    except Exception as error:  # noqa: BLE001 - contained: this endpoint's finding
        progress.record(error=describe_error(error))
    return True


def describe_error(error: BaseException) -> str:
    """An unexpected exception as one line: its class and message, cut short. Messages of
    the exceptions our probes can meet name addresses and reasons, never a secret (the
    password is sent as bytes, never encoded or decoded where a codec could quote it)."""
    return f"{type(error).__name__}: {error}"[:300]


def _reach_and_converse(
    config: CheckConfig, target: Target, progress: _Progress, pacing: _Pacing
) -> None:
    deadline, pause_s = pacing.deadline, pacing.pause_s
    dns = progress.snapshot().dns
    if target.is_address_literal:
        addresses: tuple[str, ...] = (target.host,)
    else:
        addresses = dns.addresses if dns is not None else ()
    if not addresses:
        progress.record(reached=ProbeStep.RESOLVE)
        broken = [a for a in dns.answers if a.outcome is DnsOutcome.INTERNAL_ERROR] if dns else []
        if broken:
            progress.record(error=f"DNS: {broken[0].detail}")
        return
    addresses = addresses[: config.max_addresses]
    with _Connections(addresses, target.port, config.timeout_s, pacing) as connections:
        chosen = connections.first_open()
        if chosen is None:
            progress.record(tcp=connections.wait_all())
            return
        address, connected = chosen
        progress.record(tcp=connections.seen())
        if target.service is Service.TCP:
            progress.record(tcp=connections.wait_all(), reached=ProbeStep.DONE)
            return
        progress.record(reached=ProbeStep.PROTOCOL)
        if connected is None:
            first = _reset_at_connect(target, address)
        else:
            first = _converse(config, target, address, pacing, connected)
        progress.add_attempt(first)
        progress.record(tcp=connections.wait_all())
    if first.stopped_at is ProtocolStage.DONE:
        progress.record(reached=ProbeStep.DONE)
        return
    if not is_worth_retrying(first) or deadline.remaining() < 2 * pause_s:
        return
    time.sleep(pause_s)  # a device that restarts needs a moment to listen again
    second = _converse(config, target, address, pacing, None)
    progress.add_attempt(second)
    if second.stopped_at is ProtocolStage.DONE:
        progress.record(reached=ProbeStep.DONE)


def _reset_at_connect(target: Target, address: str) -> ProtocolObservation:
    """The dialogue that never started: the peer reset the connection right after the
    handshake, before a byte was read (an interceptor restarting, a session limit)."""
    detail = "connection reset by the peer right after the handshake"
    return ProtocolObservation(
        service=target.service.value,
        address=address,
        port=target.port,
        stopped_at=ProtocolStage.CONNECT,
        failure=StageFailure.CLOSED,
        failure_detail=detail,
        transcript=(TranscriptLine(direction="-", text=detail, at_ms=0.0),),
    )


def is_worth_retrying(attempt: ProtocolObservation) -> bool:
    """A failure that a second try can change: the connection refused, reset or closed
    without a word (no reply to our last command, no TLS alert) before a TLS session was
    up — an interceptor restarting under load, a session limit. A stated refusal (a reply,
    an alert, a 421) is not retried: the peer meant it, and a second connection would only
    feed its rate limit. Nor is a session that died after its handshake: that is evidence."""
    if attempt.tls is not None and attempt.tls.outcome is TlsOutcome.ESTABLISHED:
        return False
    if attempt.failure in (StageFailure.CLOSED, StageFailure.REFUSED):
        return attempt.got_no_reply
    tls = attempt.tls
    return (
        attempt.failure is StageFailure.TLS_FAILED
        and tls is not None
        and tls.outcome in (TlsOutcome.RESET, TlsOutcome.CLOSED)
        and not tls.has_peer_alert
    )


def connect_cut_by_deadline(
    result: tuple[TcpObservation, socket.socket | None], deadline: Deadline
) -> tuple[TcpObservation, socket.socket | None]:
    """A connect that timed out when the run's deadline passed had only what was left of
    the run: its silence is ours, not a drop on the way (`run.incomplete`, never
    `tcp.filtered`)."""
    observation, sock = result
    if observation.outcome is TcpOutcome.TIMEOUT and deadline.is_expired:
        waited = observation.elapsed_ms / 1000
        detail = f"the run's deadline passed after {waited:.2g} s of waiting for an answer"
        return dataclasses.replace(observation, outcome=TcpOutcome.SKIPPED, detail=detail), sock
    return observation, sock


class _Connections:
    """The reachability probe of every address of one endpoint, all at once. The first
    open address (in the resolver's order) keeps its connection for the protocol; every
    other connection is closed as soon as it is open, even one that completes after the
    endpoint's probe has moved on."""

    def __init__(
        self,
        addresses: tuple[str, ...],
        port: int,
        timeout: float,
        pacing: _Pacing,
    ) -> None:
        self._addresses = addresses
        self._lock = threading.Lock()
        self._results: list[tuple[TcpObservation, socket.socket | None] | None] = [None] * len(
            addresses
        )
        self._done = [threading.Event() for _ in addresses]
        self._is_closed = False
        for index, address in enumerate(addresses):
            threading.Thread(
                target=self._connect,
                args=(index, address, port, timeout, pacing),
                name=f"netdiag-connect-{address}",
                daemon=True,
            ).start()

    def _connect(
        self,
        index: int,
        address: str,
        port: int,
        timeout: float,
        pacing: _Pacing,
    ) -> None:
        deadline, pause_s = pacing.deadline, pacing.pause_s
        try:
            result = connect_cut_by_deadline(
                connect_tcp(address, port, deadline.step(timeout), pacing.flows), deadline
            )
            first = result[0]
            if first.outcome is TcpOutcome.REFUSED and deadline.remaining() > 2 * pause_s:
                # A device that restarts (an interceptor under load) refuses for a moment;
                # a rule that rejects refuses again. One more connect tells them apart.
                time.sleep(pause_s)
                second, sock = connect_cut_by_deadline(
                    connect_tcp(address, port, deadline.step(timeout), pacing.flows), deadline
                )
                earlier = f"{describe_connect(first)}; tried again {pause_s:g} s later"
                result = (dataclasses.replace(second, earlier=earlier), sock)
        except DeadlineExpired as e:
            family = 6 if ":" in address else 4
            skipped = TcpObservation(
                address=address, port=port, family=family, outcome=TcpOutcome.SKIPPED, detail=str(e)
            )
            result = (skipped, None)
        with self._lock:
            if self._is_closed and result[1] is not None:
                result[1].close()
                result = (result[0], None)
            self._results[index] = result
        self._done[index].set()

    def first_open(self) -> tuple[str, Connected | None] | None:
        """The first address, in order, that answered the SYN, with its connection (None
        when the peer reset it right after the handshake)."""
        for index, address in enumerate(self._addresses):
            self._done[index].wait()
            result = self._results[index]
            assert result is not None
            observation, sock = result
            if sock is not None:
                return address, Connected(sock, observation.elapsed_ms / 1000)
            if observation.outcome is TcpOutcome.OPEN:
                return address, None
        return None

    def seen(self) -> tuple[TcpObservation, ...]:
        """The outcomes known so far, in address order."""
        with self._lock:
            return tuple(r[0] for r in self._results if r is not None)

    def wait_all(self) -> tuple[TcpObservation, ...]:
        """Every address's outcome; the connects are bounded by their own timeouts."""
        for event in self._done:
            event.wait()
        return tuple(r[0] for r in self._results if r is not None)

    def __enter__(self) -> _Connections:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._is_closed = True
            # The kept connection is the dialogue's to close; closing it again here is a
            # no-op then, and a guard if the dialogue never started.
            for index, result in enumerate(self._results):
                if result is not None and result[1] is not None:
                    result[1].close()
                    self._results[index] = (result[0], None)


def _converse(
    config: CheckConfig,
    target: Target,
    address: str,
    pacing: _Pacing,
    connected: Connected | None,
) -> ProtocolObservation:
    """The protocol dialogue of the endpoint's service on one open address: on the
    reachability probe's connection when `connected` is given, else on a new one."""
    settings = TlsSettings(identity=config.identity)
    server_name = "" if target.is_address_literal else target.host
    common = (address, target.port, server_name, settings, config.timeout_s, pacing.deadline)
    if target.service is Service.SMTP_STARTTLS:
        from netdiag.probes.smtp import probe_smtp

        return probe_smtp(*common, connected, pacing.flows)
    if target.service is Service.POP3S:
        from netdiag.probes.pop3s import probe_pop3s

        return probe_pop3s(*common, connected, pacing.flows, login=config.pop3_login)
    from netdiag.probes.tlsport import probe_tls_port

    return probe_tls_port(*common, connected, pacing.flows)


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


def _interception(
    config: CheckConfig,
    target: Target,
    current: _Round,
    client: ClientCertificateObservation | None,
) -> tuple[Finding, ...]:
    """The trust verdict for the endpoint's presented chain: its facts judged once (pins,
    `--ca`, the stores, the client bundle), weighed against the chains the other endpoints
    of the same round presented."""
    protocol = current.endpoints[target].protocol
    mine = PresentedChain.of(target, protocol) if protocol is not None else None
    if mine is None or protocol is None:
        return ()
    now = datetime.now(UTC)
    server_name = mine.tls.server_name or protocol.address
    facts = judge_chain(mine.tls, server_name, config.trust, config.pins.for_target(target), now)
    others = [
        chain
        for t, e in current.endpoints.items()
        if (p := e.protocol) is not None and (chain := PresentedChain.of(t, p)) is not None
    ]
    exempt = [
        f"{t.label} ({t.service.value})" for t in config.targets if t.service is not Service.TCP
    ]
    return tuple(
        diagnose_interception(
            mine,
            facts,
            config.trust,
            record=config.pins.record_for(target),
            others=others,
            now=now,
            exempt=exempt,
            client_issuers=client.issuer_names_der if client is not None else (),
        )
    )


def _result(
    config: CheckConfig,
    target: Target,
    rounds: list[_Round],
    client: ClientCertificateObservation | None,
) -> EndpointResult:
    per_round = [_diagnosed(config, target, r, client) for r in rounds]
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
        rounds=codes if len(per_round) > 1 else (),
        was_completed=not cut_short_by(last) and not last.error,
    )


def _contained(target: Target, judge: Callable[[], tuple[Finding, ...]]) -> tuple[Finding, ...]:
    """A rule's findings, or the endpoint's `probe.error` when the rule breaks on it."""
    try:
        return judge()
    except Exception as error:  # noqa: BLE001 - contained, see probe.error
        return (probe_error(target, describe_error(error), "diagnosis"),)


def _convicted_alike(target: Target, current: _Round) -> list[tuple[Target, str]]:
    """The endpoints on the same port and service proven intercepted, with what convicted
    them (the product, else the issuer)."""
    assert current.interception is not None
    convicted = []
    for other, findings in current.interception.items():
        if (other.port, other.service) != (target.port, target.service):
            continue
        protocol = current.endpoints[other].protocol
        tls = protocol.tls if protocol is not None else None
        proven = next((f for f in findings if f.code == "tls.intercepted"), None)
        if tls is not None and tls.chain and proven is not None:
            convicted.append((other, proven.subject or tls.chain[0].issuer))
    return convicted


def _diagnosed(
    config: CheckConfig,
    target: Target,
    current: _Round,
    client: ClientCertificateObservation | None,
) -> tuple[Finding, ...]:
    """One round's findings for the endpoint; an error inside a rule stays this
    endpoint's finding."""
    observation = current.endpoints[target]
    try:
        if current.interception is None:
            current.interception = {
                t: _contained(t, partial(_interception, config, t, current, client))
                for t in current.endpoints
            }
        interception = current.interception[target]
        if not interception:
            interception = tuple(
                diagnose_likely_interception(
                    target, observation.attempts, _convicted_alike(target, current)
                )
            )
        return diagnose_endpoint(
            target,
            observation,
            expected_networks=config.expected_networks,
            client=client,
            slow_banner_s=config.slow_banner_s,
            interception=interception,
        )
    except Exception as error:  # noqa: BLE001 - contained, see probe.error
        return (probe_error(target, describe_error(error), "diagnosis"),)
