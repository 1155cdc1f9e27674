"""What every protocol probe shares: the connection (the reachability probe's own, or a
new one for a retry), per-step deadlines, recording where and why the dialogue stopped, and
the TLS upgrade. Judging the chain is the diagnosis' work, not the probe's."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from netdiag.errors import DeadlineExpired
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.lines import (
    LineReader,
    LineTooLong,
    PeerClosed,
    PeerReset,
    PeerTimeout,
    PlainTransport,
    TlsAlert,
    Transcript,
)
from netdiag.probes.tcp import connect_tcp
from netdiag.probes.tls import TlsTransport, handshake
from netdiag.report.observations import (
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TcpObservation,
    TcpOutcome,
    TlsObservation,
    TlsOutcome,
)
from netdiag.trust.identity import ClientIdentity

# How long to listen for a TLS 1.3 post-handshake alert: a few round trips (measured by
# our own connect), within these bounds; paid only when the server asked for a certificate.
ALERT_WAIT_MIN_S = 0.05
ALERT_WAIT_MAX_S = 0.5
ALERT_WAIT_RTTS = 3


class Garbage(Exception):
    """The peer sent something that is not the protocol (the quoted line is the message)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TlsSettings:
    """What a TLS upgrade needs besides the socket; `is_proven` says whether a chain is
    proven the vendor's by what the run has at hand without the machine's stores (the pins,
    `--ca`)."""

    identity: ClientIdentity | None = None
    is_proven: Callable[[TlsObservation], bool] | None = None


ObservationT = TypeVar("ObservationT", bound=ProtocolObservation)


class Dialogue(Generic[ObservationT]):
    """A protocol dialogue under construction. `observation` is the protocol's own frozen
    observation as far as it got (the probe replaces it step by step); `finish()` adds the
    transcript."""

    def __init__(
        self,
        observation: ObservationT,
        timeout: float,
        deadline: Deadline,
        connected: Connected | None = None,
        flows: FlowLog | None = None,
    ) -> None:
        self.observation = observation
        self.timeout = timeout
        self.deadline = deadline
        self.transcript = Transcript()
        self.sock: socket.socket | None = None
        self.reader: LineReader | None = None
        self.tls_transport: TlsTransport | None = None
        self.connect_s = 0.0
        self.has_listened = False
        self.connected = connected
        self.flows = flows

    def until(self) -> float:
        """The absolute end of the next step: its timeout, cut to the run's deadline."""
        return time.monotonic() + self.deadline.step(self.timeout)

    def connect(self) -> LineReader:
        """The dialogue's connection: the one the reachability probe opened when it was
        handed over, else a new one (a retry)."""
        address, port = self.observation.address, self.observation.port
        where = f"{address}:{port}"
        if self.connected is not None:
            sock, self.connect_s = self.connected.sock, self.connected.connect_s
            self.connected = None
            self.sock = sock
            self.transcript.add("-", f"connected to {where} (the reachability probe's connection)")
        else:
            connect, opened = connect_tcp(
                address, port, self.deadline.step(self.timeout), self.flows
            )
            if opened is None:
                raise _connect_error(connect)
            sock = self.sock = opened
            self.connect_s = connect.elapsed_ms / 1000
            self.transcript.add("-", f"connected to {where}")
        self.reader = LineReader(PlainTransport(sock), self.transcript)
        return self.reader

    def start_tls(self, server_name: str, settings: TlsSettings) -> TlsTransport | None:
        """The TLS handshake, recorded; on failure the dialogue stops at the TLS stage and
        None is returned."""
        assert self.sock is not None
        self.transcript.add("-", "TLS handshake")
        tls, transport = handshake(
            self.sock, server_name, settings.identity, self.until(), self.timeout
        )
        if transport is None:
            self.observation = dataclasses.replace(self.observation, tls=tls)
            if tls.outcome is TlsOutcome.STALLED and self.deadline.is_expired:
                # The handshake had only what was left of the run: its silence is ours.
                self.transcript.add("-", "the run's deadline passed during the TLS handshake")
                self.stop(ProtocolStage.TLS, StageFailure.DEADLINE, "the run's deadline passed")
                return None
            self.transcript.add("-", f"TLS {tls.outcome.value}: {tls.error or tls.alert}")
            failure = tls.error or tls.alert or tls.outcome.value
            self.stop(ProtocolStage.TLS, StageFailure.TLS_FAILED, failure)
            return None
        self.tls_transport = transport
        if self.reader is None:
            self.reader = LineReader(transport, self.transcript)
        else:
            self.reader.switch(transport)
        self.transcript.add("-", f"TLS established: {tls.version} {tls.cipher}")
        self.observation = dataclasses.replace(self.observation, tls=tls)
        if tls.version == "TLSv1.3":
            # The proven vendor's ticket ends the wait for its verdict on our certificate;
            # anything else (an interceptor sends its ticket before its own upstream has
            # answered) gets the whole wait.
            proven = settings.is_proven is not None and settings.is_proven(tls)
            self._catch_certificate_rejection(
                transport, (lambda: transport.has_session_ticket) if proven else None
            )
        return transport

    def listen_s(self) -> float:
        """A few round trips, as measured by our own connect, within bounds."""
        wait = ALERT_WAIT_RTTS * self.connect_s + ALERT_WAIT_MIN_S
        return min(wait, ALERT_WAIT_MAX_S, self.timeout, self.deadline.remaining())

    def _catch_certificate_rejection(
        self, transport: TlsTransport, settled: Callable[[], bool] | None = None
    ) -> None:
        """In TLS 1.3 the server judges our certificate after the handshake has completed
        for us (RFC 8446 4.4.2.4): its alert is what a first read returns; and an
        interceptor whose own upstream was just refused closes at this moment. Read once,
        briefly, before speaking: a request sent into a connection the peer is already
        closing would only earn a reset that hides the cause (and crashes some
        interceptors, sslsplit among them, which the gateway then shares). `settled`, when
        given, ends the wait early: the server's session ticket came instead of an alert.
        Only a wait that ran its course is a listen for a server that speaks first."""
        assert self.reader is not None
        try:
            data = transport.recv(4096, time.monotonic() + self.listen_s(), settled)
        except PeerTimeout:
            self.has_listened = settled is None or not settled()
            return
        self.has_listened = True
        if not data:
            raise PeerClosed("")
        self.reader.buffer += data

    def record_alert(self, text: str) -> None:
        tls = self.observation.tls
        if tls is not None:
            tls = dataclasses.replace(tls, post_handshake_alert=text)
            self.observation = dataclasses.replace(self.observation, tls=tls)
        self.transcript.add("-", f"TLS alert: {text}")

    def stop(self, stage: ProtocolStage, failure: StageFailure, detail: str = "") -> None:
        self.observation = dataclasses.replace(
            self.observation, stopped_at=stage, failure=failure, failure_detail=detail
        )

    def stop_on(self, stage: ProtocolStage, error: BaseException) -> None:
        """Record why the dialogue ended at `stage`, from the exception that ended it."""
        if isinstance(error, PeerClosed):
            self.transcript.add("-", "connection closed by the peer")
            self.stop(stage, StageFailure.CLOSED, "connection closed by the peer")
        elif isinstance(error, PeerReset):
            self.transcript.add("-", "connection reset by the peer")
            self.stop(stage, StageFailure.CLOSED, "connection reset by the peer")
        elif isinstance(error, PeerTimeout | TimeoutError) and self.deadline.is_expired:
            # The step was cut to what was left of the run: silence is not the peer's.
            self.transcript.add("-", "the run's deadline passed")
            self.stop(stage, StageFailure.DEADLINE, "the run's deadline passed")
        elif isinstance(error, PeerTimeout):
            self.transcript.add("-", f"no complete answer within {self.timeout:g} s")
            self.stop(stage, StageFailure.TIMEOUT, f"no complete answer within {self.timeout:g} s")
        elif isinstance(error, DeadlineExpired):
            self.stop(stage, StageFailure.DEADLINE, "the run's deadline passed")
        elif isinstance(error, LineTooLong):
            self.stop(stage, StageFailure.TOO_LONG, f"a line longer than 4096 bytes: {error}")
        elif isinstance(error, Garbage):
            self.stop(stage, StageFailure.GARBAGE, str(error))
        elif isinstance(error, TlsAlert):
            self.record_alert(str(error))
            self.stop(stage, StageFailure.TLS_ALERT, str(error))
        elif isinstance(error, TimeoutError):
            self.stop(stage, StageFailure.TIMEOUT, f"no answer within {self.timeout:g} s")
        elif isinstance(error, ConnectionRefusedError):
            self.transcript.add("-", "connection refused")
            self.stop(stage, StageFailure.REFUSED, "connection refused")
        elif isinstance(error, OSError):
            self.transcript.add("-", error.strerror or str(error))
            self.stop(stage, StageFailure.CLOSED, error.strerror or str(error))
        else:
            raise error

    def close(self) -> None:
        """Close whatever is open; safe to call twice, and called whatever happened."""
        transport, self.tls_transport = self.tls_transport, None
        if transport is not None:
            transport.close()
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
        if self.connected is not None:  # handed over but never used
            self.connected.sock.close()
            self.connected = None

    def finish(self) -> ObservationT:
        self.close()
        return dataclasses.replace(self.observation, transcript=tuple(self.transcript.lines))


def _connect_error(observation: TcpObservation) -> OSError:
    """The exception a failed connect of a retry stands for, for `stop_on`."""
    if observation.outcome is TcpOutcome.REFUSED:
        return ConnectionRefusedError(observation.errno, observation.detail)
    if observation.outcome is TcpOutcome.TIMEOUT:
        return TimeoutError(observation.detail)
    return OSError(observation.errno, observation.detail or observation.outcome.value)


@dataclasses.dataclass(frozen=True, slots=True)
class Connected:
    """A connection the reachability probe opened and hands over to the dialogue."""

    sock: socket.socket
    connect_s: float


EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    PeerClosed,
    PeerReset,
    PeerTimeout,
    LineTooLong,
    Garbage,
    TlsAlert,
    DeadlineExpired,
    OSError,
)
