"""One endpoint's probe, as a state machine: reach every address at once (each refused
connect tried once more), converse on the connection the first open address gave, try a
dialogue that failed without a word once more, done. Every step records into the
endpoint's `Progress`, so that what was seen survives the deadline or Ctrl-C."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from netdiag.diagnosis.smtp import is_banner_withheld, is_refused_for_now
from netdiag.diagnosis.tcp import describe_connect
from netdiag.errors import DeadlineExpired, describe_error
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import Connected, TlsSettings
from netdiag.probes.tcp import connect_tcp
from netdiag.report.observations import (
    DnsObservation,
    DnsOutcome,
    EndpointObservation,
    Experiment,
    ExperimentResult,
    ProbeStep,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TcpObservation,
    TcpOutcome,
    TlsObservation,
    TlsOutcome,
    TranscriptLine,
)
from netdiag.session.config import CheckConfig
from netdiag.settings.targets import Service, Target

if TYPE_CHECKING:
    from netdiag.probes.login_gate import LoginGate
    from netdiag.trust.model import ChainFacts, TrustContext


class Progress:
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


# At most this many endpoints are tried again alone after a round, one at a time: a
# profile holds six SMTP hosts, and every retry counts against the server's rate limit.
MAX_RETRIED_ALONE = 8


def was_refused_among_others(observation: EndpointObservation) -> bool:
    """The endpoint's one session was refused for now (an SMTP 4xx) during the round, while
    the run's other probes were connected: a server's limit of connections per client
    answers so, and then the refusal is the run's own doing."""
    attempts = observation.attempts
    return len(attempts) == 1 and not observation.cut_short and is_refused_for_now(attempts[0])


def retry_alone(config: CheckConfig, target: Target, progress: Progress, pacing: Pacing) -> bool:
    """The endpoint's session once more on a new connection, after the round, with no other
    connection of netdiag open (`was_refused_among_others`); True once finished."""
    first = progress.snapshot().attempts[0]
    second = converse(config, target, first.address, pacing, None)
    progress.add_attempt(second)
    if second.stopped_at is ProtocolStage.DONE:
        progress.record(retried_alone=True, reached=ProbeStep.DONE)
    else:
        progress.record(retried_alone=True)
    return True


@dataclass(frozen=True, slots=True)
class Pacing:
    """What every step of one endpoint's probe shares: the run's deadline, the pause before
    its one retry, where its flows are registered for a capture, and the turns at the
    mailbox login."""

    deadline: Deadline
    pause_s: float
    flows: FlowLog | None = None
    login_gate: LoginGate | None = None


def probe_endpoint(config: CheckConfig, target: Target, progress: Progress, pacing: Pacing) -> bool:
    """Reach every address of the endpoint, then run its protocol on the connection the
    reachability probe opened to the first open address; True once finished. Whatever
    goes wrong inside stays with this endpoint: the others finish."""
    try:
        _reach_and_converse(config, target, progress, pacing)
    except Exception as error:  # noqa: BLE001 - contained: this endpoint's finding
        progress.record(error=describe_error(error))
    return True


def _reach_and_converse(
    config: CheckConfig, target: Target, progress: Progress, pacing: Pacing
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
            first = converse(config, target, address, pacing, connected)
        progress.add_attempt(first)
        progress.record(tcp=connections.wait_all())
    if first.stopped_at is ProtocolStage.DONE:
        progress.record(reached=ProbeStep.DONE)
        return
    if is_worth_retrying(first) and deadline.remaining() >= 2 * pause_s:
        time.sleep(pause_s)  # a device that restarts needs a moment to listen again
        second = converse(config, target, address, pacing, None)
        progress.add_attempt(second)
        if second.stopped_at is ProtocolStage.DONE:
            progress.record(reached=ProbeStep.DONE)
            return
    attempts = progress.snapshot().attempts
    experiments: tuple[ExperimentResult, ...] = ()
    if is_banner_withheld(attempts) and deadline.remaining() >= 1.0:
        experiments = _hello_at_once(config, target, address, progress, pacing)
    experiments += run_experiments(config, target, address, attempts, pacing)
    if experiments:
        progress.record(experiments=experiments)


def _hello_at_once(
    config: CheckConfig, target: Target, address: str, progress: Progress, pacing: Pacing
) -> tuple[ExperimentResult, ...]:
    """For an SMTP port that sent no banner: a TLS handshake at once (recorded in the
    endpoint's `hello_at_once`); where that was answered in another protocol, the same
    hello once more, read raw (the experiment that names what answers)."""
    from netdiag.probes.tlsport import probe_hello_at_once

    server_name = "" if target.is_address_literal else target.host
    deadline, flows = pacing.deadline, pacing.flows
    at_once = probe_hello_at_once(
        address, target.port, server_name, config.timeout_s, deadline, flows
    )
    progress.record(hello_at_once=at_once)
    if at_once.tls is None or at_once.tls.outcome is not TlsOutcome.NOT_TLS:
        return ()
    from netdiag.probes.hello import probe_hello

    raw = probe_hello(
        address, target.port, Service.TLS, server_name, Experiment.SAME_HELLO,
        config.timeout_s, deadline, flows,
    )  # fmt: skip
    return (raw,)


def other_name(config: CheckConfig, target: Target) -> str:
    """Another of the profile's names for the server-name experiment: one of the same
    group first (the vendor's other mail hosts), else any; "" when there is none."""
    names = [t for t in config.targets if t.host != target.host and not t.is_address_literal]
    same_group = [t for t in names if t.group == target.group]
    chosen = (same_group or names)[:1]
    return chosen[0].host if chosen else ""


def run_experiments(
    config: CheckConfig,
    target: Target,
    address: str,
    attempts: tuple[ProtocolObservation, ...],
    pacing: Pacing,
) -> tuple[ExperimentResult, ...]:
    """The experiments the endpoint's failed handshake calls for, all at once, within the
    run's deadline (`netdiag.diagnosis.hypotheses`); none for a healthy endpoint."""
    from concurrent.futures import ThreadPoolExecutor

    from netdiag.diagnosis.hypotheses import experiments_for, symptom_of
    from netdiag.probes.hello import probe_hello

    planned = experiments_for(symptom_of(attempts), target, other_name(config, target))
    if not planned or pacing.deadline.remaining() < 1.0:
        return ()
    with ThreadPoolExecutor(max_workers=len(planned), thread_name_prefix="netdiag-exp") as pool:
        futures = [
            pool.submit(
                probe_hello,
                address,
                target.port,
                target.service,
                name,
                kind,
                config.timeout_s,
                pacing.deadline,
                pacing.flows,
            )
            for kind, name in planned
        ]
        return tuple(f.result() for f in futures)


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
        pacing: Pacing,
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
        pacing: Pacing,
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


def _chain_facts(
    config: CheckConfig, target: Target, server_name: str, tls: TlsObservation, trust: TrustContext
) -> ChainFacts | None:
    """The chain of this connection judged now against `trust` and the target's pins; None
    when the server showed no chain."""
    from datetime import UTC, datetime

    from netdiag.trust.model import judge_chain

    if not tls.chain_der:
        return None
    pins = config.pins.for_target(target)
    return judge_chain(tls, server_name, trust, pins, datetime.now(UTC))


def unproven_because(
    config: CheckConfig, target: Target, server_name: str, tls: TlsObservation
) -> str:
    """Why the chain of this connection is not proven the vendor's in this run ("" when
    it is): what a secret (the mailbox password) is held back for."""
    facts = _chain_facts(config, target, server_name, tls, config.judged_against())
    if facts is None:
        return "the server showed no chain"
    if facts.proof is not None:
        return ""
    if facts.path_by is None:
        return "no pin, no --ca and no public root reaches the chain"
    return "; ".join(part.fact for part in facts.failed)


def proven_by_pins(
    config: CheckConfig, target: Target, server_name: str, tls: TlsObservation
) -> bool:
    """Whether the chain is proven the vendor's by the pins or `--ca` alone, while the
    machine's and the public stores may still be being read: enough to stop waiting for
    the server's verdict on our certificate once its ticket came, never enough for a secret
    (`unproven_because` judges with every store)."""
    facts = _chain_facts(config, target, server_name, tls, config.trust)
    return facts is not None and facts.proof is not None


def converse(
    config: CheckConfig,
    target: Target,
    address: str,
    pacing: Pacing,
    connected: Connected | None,
) -> ProtocolObservation:
    """The protocol dialogue of the endpoint's service on one open address: on the
    reachability probe's connection when `connected` is given, else on a new one."""
    server_name = "" if target.is_address_literal else target.host
    settings = TlsSettings(
        identity=config.identity,
        is_proven=partial(proven_by_pins, config, target, server_name or address),
    )
    common = (address, target.port, server_name, settings, config.timeout_s, pacing.deadline)
    if target.service is Service.SMTP_STARTTLS:
        from netdiag.probes.smtp import probe_smtp

        return probe_smtp(*common, connected, pacing.flows)
    if target.service is Service.POP3S:
        from netdiag.probes.pop3s import probe_pop3s

        return probe_pop3s(
            *common,
            connected,
            pacing.flows,
            login=config.pop3_login,
            unproven=partial(unproven_because, config, target, server_name or address),
            gate=pacing.login_gate,
        )
    from netdiag.probes.tlsport import probe_tls_port

    return probe_tls_port(*common, connected, pacing.flows)
