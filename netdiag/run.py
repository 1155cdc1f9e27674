"""A whole check: DNS for every host, then every endpoint address, concurrently, under
one deadline per round; rounds repeated for flapping; Ctrl-C keeps what was gathered."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from netdiag.concurrency import run_all
from netdiag.config import CheckConfig, ResolverSpec
from netdiag.console import Console
from netdiag.deadline import Deadline
from netdiag.diagnosis import diagnose_endpoint, diagnose_flapping
from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.interception import diagnose_interception, diagnose_local_roots
from netdiag.errors import DeadlineExpired
from netdiag.observations import (
    ClientCertificateObservation,
    DnsAnswer,
    DnsObservation,
    DnsOutcome,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TcpObservation,
    TcpOutcome,
)
from netdiag.probes.dialogue import TlsSettings
from netdiag.probes.dns import QTYPES, lookup_os, query_addresses, system_resolvers
from netdiag.probes.tcp import probe_tcp
from netdiag.report import EndpointResult, Finding, Report
from netdiag.targets import Service, Target


@dataclass
class _Round:
    """What one round gathered, filled in as tasks finish."""

    dns: dict[str, DnsObservation] = field(default_factory=dict)
    tcp: dict[Target, list[TcpObservation]] = field(default_factory=dict)
    protocol: dict[Target, ProtocolObservation] = field(default_factory=dict)
    complete: set[Target] = field(default_factory=set)
    was_interrupted: bool = False


def run_check(config: CheckConfig, console: Console | None = None) -> Report:
    """Probe every target of `config`, `config.repeat` times, and diagnose what was seen."""
    console = console or Console()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    client, local_findings = _client_certificate(config, started_at)
    local_findings += diagnose_local_roots(
        config.local_roots, config.public_roots, config.local_roots_name
    )
    resolvers, notes = _resolvers(config)
    rounds: list[_Round] = []
    for number in range(1, max(1, config.repeat) + 1):
        prefix = f"round {number}/{config.repeat} " if config.repeat > 1 else ""
        if number > 1 and not _pause(config.interval_s, console, prefix):
            rounds[-1].was_interrupted = True
            break
        current = _probe_round(config, resolvers, console, prefix)
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


def _client_certificate(
    config: CheckConfig, now: datetime
) -> tuple[ClientCertificateObservation | None, list[Finding]]:
    if config.identity is None:
        return None, []
    from netdiag.diagnosis.certificate import diagnose_client_certificate
    from netdiag.identity import observe_identity

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


def _resolvers(config: CheckConfig) -> tuple[tuple[ResolverSpec, ...], list[str]]:
    if not config.uses_system_resolver:
        return config.resolvers, []
    system, note = system_resolvers()
    return system + config.resolvers, [note] if note else []


def _probe_round(
    config: CheckConfig, resolvers: tuple[ResolverSpec, ...], console: Console, prefix: str
) -> _Round:
    deadline = Deadline.after(config.deadline_s)
    current = _Round()
    hosts = tuple(dict.fromkeys(t.host for t in config.targets if not t.is_address_literal))

    dns_tasks: list[Callable[[], DnsAnswer]] = []
    dns_hosts: list[str] = []
    for host in hosts:
        for resolver in resolvers:
            for qtype in QTYPES:
                dns_tasks.append(partial(_query, host, resolver, qtype, config.timeout_s, deadline))
                dns_hosts.append(host)
        if config.uses_system_resolver:
            dns_tasks.append(partial(_lookup_os, host, config.timeout_s, deadline))
            dns_hosts.append(host)
    outcome = run_all(
        dns_tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}DNS {done}/{total}"),
    )
    answers: dict[str, list[DnsAnswer]] = {h: [] for h in hosts}
    for host, answer in zip(dns_hosts, outcome.results, strict=True):
        if answer is not None:
            answers[host].append(answer)
    current.dns = {h: DnsObservation(host=h, answers=tuple(a)) for h, a in answers.items()}
    if outcome.was_interrupted:
        current.was_interrupted = True
        return current

    connect_tasks: list[Callable[[], TcpObservation]] = []
    connect_targets: list[Target] = []
    for target in config.targets:
        current.tcp[target] = []
        addresses = (
            (target.host,) if target.is_address_literal else current.dns[target.host].addresses
        )
        if not addresses:
            current.complete.add(target)
        for address in addresses[: config.max_addresses]:
            connect_tasks.append(
                partial(_connect, address, target.port, config.timeout_s, deadline)
            )
            connect_targets.append(target)
    connects = run_all(
        connect_tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}connect {done}/{total}"),
    )
    missing: set[Target] = set()
    for target, observation in zip(connect_targets, connects.results, strict=True):
        if observation is None:
            missing.add(target)
        else:
            current.tcp[target].append(observation)
    if connects.was_interrupted:
        current.was_interrupted = True
        current.complete.update(t for t in connect_targets if t not in missing)
        return current

    protocol_tasks: list[Callable[[], ProtocolObservation]] = []
    protocol_targets: list[Target] = []
    for target in config.targets:
        if target in missing:
            continue
        open_addresses = [o.address for o in current.tcp[target] if o.outcome is TcpOutcome.OPEN]
        if target.service is Service.TCP or not open_addresses:
            current.complete.add(target)
            continue
        protocol_tasks.append(partial(_converse, config, target, open_addresses[0], deadline))
        protocol_targets.append(target)
    dialogues = run_all(
        protocol_tasks,
        limit=config.max_parallel,
        deadline=deadline,
        on_done=lambda done, total: console.progress(f"{prefix}TLS {done}/{total}"),
    )
    for target, dialogue in zip(protocol_targets, dialogues.results, strict=True):
        if dialogue is not None:
            current.protocol[target] = dialogue
            current.complete.add(target)
    current.was_interrupted = dialogues.was_interrupted
    return current


def _converse(
    config: CheckConfig, target: Target, address: str, deadline: Deadline
) -> ProtocolObservation:
    """The protocol dialogue of the endpoint's service on one open address."""
    settings = TlsSettings(
        identity=config.identity,
        anchors=config.anchors,
        anchors_name=config.anchors_name,
        local_roots=config.local_roots,
        public_roots=config.public_roots,
    )
    server_name = "" if target.is_address_literal else target.host
    if target.service is Service.SMTP_STARTTLS:
        from netdiag.probes.smtp import probe_smtp

        return probe_smtp(address, target.port, server_name, settings, config.timeout_s, deadline)
    if target.service is Service.POP3S:
        from netdiag.probes.pop3s import probe_pop3s

        return probe_pop3s(
            address,
            target.port,
            server_name,
            settings,
            config.timeout_s,
            deadline,
            login=config.pop3_login,
            login_kind=config.pop3_login_kind,
        )
    if target.service is Service.TLS:
        from netdiag.probes.tlsport import probe_tls_port

        return probe_tls_port(
            address, target.port, server_name, settings, config.timeout_s, deadline
        )
    return ProtocolObservation(
        service=target.service.value,
        address=address,
        port=target.port,
        stopped_at=ProtocolStage.CONNECT,
        failure=StageFailure.NONE,
    )


def _query(
    host: str, resolver: ResolverSpec, qtype: str, timeout: float, deadline: Deadline
) -> DnsAnswer:
    try:
        return query_addresses(host, resolver, qtype, deadline.step(timeout))
    except DeadlineExpired as e:
        return DnsAnswer(
            resolver=resolver.name, qtype=qtype, outcome=DnsOutcome.TIMEOUT, detail=str(e)
        )


def _lookup_os(host: str, timeout: float, deadline: Deadline) -> DnsAnswer:
    try:
        return lookup_os(host, deadline.step(timeout))
    except DeadlineExpired as e:
        return DnsAnswer(resolver="os", qtype="A+AAAA", outcome=DnsOutcome.TIMEOUT, detail=str(e))


def _connect(address: str, port: int, timeout: float, deadline: Deadline) -> TcpObservation:
    try:
        return probe_tcp(address, port, deadline.step(timeout))
    except DeadlineExpired as e:
        family = 6 if ":" in address else 4
        return TcpObservation(
            address=address, port=port, family=family, outcome=TcpOutcome.SKIPPED, detail=str(e)
        )


def _interception(config: CheckConfig, target: Target, current: _Round) -> tuple[Finding, ...]:
    """Interception findings for the endpoint's presented chain, judged with the pins and
    against the chains the other endpoints of the same round presented."""
    protocol = current.protocol.get(target)
    if protocol is None or protocol.tls is None or not protocol.tls.chain:
        return ()
    others = [(t, p.tls) for t, p in current.protocol.items() if p.tls is not None and p.tls.chain]
    exempt = [
        f"{t.label} ({t.service.value})" for t in config.targets if t.service is not Service.TCP
    ]
    return tuple(
        diagnose_interception(
            target,
            protocol.tls,
            pins=config.pins.for_target(target),
            record=config.pins.record_for(target),
            others=others,
            now=datetime.now(UTC),
            exempt=exempt,
        )
    )


def _result(
    config: CheckConfig,
    target: Target,
    rounds: list[_Round],
    client: ClientCertificateObservation | None,
) -> EndpointResult:
    finished = [r for r in rounds if target in r.complete]
    if not finished:
        last = rounds[-1]
        reason = "interrupted (Ctrl-C)" if last.was_interrupted else "the run's deadline passed"
        return EndpointResult(
            target=target,
            findings=(finding("run.incomplete", f"{target.label} not fully checked: {reason}"),),
            dns=last.dns.get(target.host),
            tcp=tuple(last.tcp.get(target, ())),
            protocol=last.protocol.get(target),
            was_completed=False,
        )
    per_round = [
        diagnose_endpoint(
            target,
            r.dns.get(target.host),
            r.tcp[target],
            r.protocol.get(target),
            expected_networks=config.expected_networks,
            client=client,
            slow_banner_s=config.slow_banner_s,
        )
        + _interception(config, target, r)
        for r in finished
    ]
    findings = per_round[-1]
    codes = tuple(tuple(f.code for f in round_findings) for round_findings in per_round)
    flapping = diagnose_flapping(target, codes) if len(per_round) > 1 else None
    if flapping is not None:
        findings = (*findings, flapping)
    last = finished[-1]
    return EndpointResult(
        target=target,
        findings=findings,
        dns=last.dns.get(target.host),
        tcp=tuple(last.tcp[target]),
        protocol=last.protocol.get(target),
        rounds=codes if len(per_round) > 1 else (),
    )
