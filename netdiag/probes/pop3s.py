"""POP3S probe (RFC 8314 implicit TLS on 995, RFC 1939): TLS with the client certificate,
greeting, CAPA, optionally a login, QUIT."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from functools import partial

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import EXPECTED_ERRORS, Connected, Dialogue, Garbage, TlsSettings
from netdiag.probes.lines import LineReader, PeerClosed, PeerReset
from netdiag.probes.login_gate import LET_GO_S, LoginGate
from netdiag.report.observations import (
    Pop3Observation,
    Pop3Reply,
    Pop3Status,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TranscriptLine,
)
from netdiag.settings.config import LoginKind, Pop3Login

MAX_MULTILINE = 200
# How long the answer to a login may take: servers delay a refusal on purpose (Dovecot 2 s,
# doubling per failure from the same address up to 15 s), longer than any step's timeout.
LOGIN_ANSWER_S = 20.0


def parse_status(line: str) -> Pop3Reply:
    """`+OK text` or `-ERR text` (RFC 1939 3); ValueError otherwise."""
    for status in Pop3Status:
        prefix = status.value
        if line == prefix or line.startswith(prefix + " "):
            return Pop3Reply(status=status, lines=(line[len(prefix) :].strip(),))
    raise ValueError(f"not a POP3 status line: {line[:120]!r}")


def read_status(reader: LineReader, until: float) -> Pop3Reply:
    line = reader.read_line(until)
    try:
        return parse_status(line)
    except ValueError as e:
        raise Garbage(str(e)) from None


def read_multiline(reader: LineReader, until: float, status: Pop3Reply) -> Pop3Reply:
    """The body of a multi-line +OK answer up to the lone ".", dot-stuffing removed."""
    lines = list(status.lines)
    for _ in range(MAX_MULTILINE):
        line = reader.read_line(until)
        if line == ".":
            return Pop3Reply(status=status.status, lines=tuple(lines))
        lines.append(line[1:] if line.startswith("..") else line)
    raise Garbage(f"a multi-line answer of more than {MAX_MULTILINE} lines")


def probe_pop3s(
    address: str,
    port: int,
    server_name: str,
    tls_settings: TlsSettings,
    timeout: float,
    deadline: Deadline,
    connected: Connected | None = None,
    flows: FlowLog | None = None,
    login: Pop3Login | None = None,
    unproven: Callable[[TlsObservation], str] | None = None,
    gate: LoginGate | None = None,
) -> Pop3Observation:
    """The POP3S dialogue, with a login when one is wanted (the mailbox's own, or a made-up
    user's). The mailbox's password goes only to a connection whose chain `unproven` finds
    nothing against ("" — proven the vendor's in this run); without it, or with a reason,
    the login is withheld and the reason recorded. With a `gate`, it goes to one server at
    a time until one accepts it (`netdiag.probes.login_gate`). A made-up user's login
    carries no secret and is not held back.

    A busy mailbox that may be one of netdiag's own sessions not yet let go of (the gate
    says so) gets one more session, on a new connection, once the server had LET_GO_S to
    let go: the endpoint is judged by it, and the first one's lines stay in its
    transcript."""
    session = partial(
        _session, address, port, server_name, tls_settings, timeout, deadline,
        flows=flows, login=login, unproven=unproven, gate=gate,
    )  # fmt: skip
    observation, may_be_own = session(connected)
    if not may_be_own or deadline.remaining() < LET_GO_S + 2 * timeout:
        return observation
    # The gate gives the new session its turn once the server had LET_GO_S to let go.
    again, _ = session(None)
    note = TranscriptLine(
        direction="-",
        text=(
            "one of netdiag's own sessions had just ended: the server may not have let go of "
            f"it yet; a new session once it had {LET_GO_S:g} s to"
        ),
        at_ms=observation.transcript[-1].at_ms if observation.transcript else 0.0,
    )
    return dataclasses.replace(again, transcript=(*observation.transcript, note, *again.transcript))


def _session(
    address: str,
    port: int,
    server_name: str,
    tls_settings: TlsSettings,
    timeout: float,
    deadline: Deadline,
    connected: Connected | None,
    flows: FlowLog | None,
    login: Pop3Login | None,
    unproven: Callable[[TlsObservation], str] | None,
    gate: LoginGate | None,
) -> tuple[Pop3Observation, bool]:
    """One POP3S session (see `probe_pop3s`), and whether its busy answer may be one of
    netdiag's own sessions."""
    may_be_own = False
    start = Pop3Observation(service="pop3s", address=address, port=port)
    dialogue = Dialogue(start, timeout, deadline, connected, flows)
    stage = ProtocolStage.CONNECT
    gated: LoginGate | None = None
    where = f"{server_name or address}:{port}"
    try:
        dialogue.connect()
        stage = ProtocolStage.TLS
        if dialogue.start_tls(server_name, tls_settings) is None or dialogue.reader is None:
            return dialogue.finish(), may_be_own
        reader = dialogue.reader

        stage = ProtocolStage.GREETING
        greeting = read_status(reader, dialogue.until())
        dialogue.observation = dataclasses.replace(dialogue.observation, greeting=greeting)
        if not greeting.is_ok:
            dialogue.stop(stage, StageFailure.REFUSED, f"-ERR {greeting.text}")
            return dialogue.finish(), may_be_own

        stage = ProtocolStage.CAPA
        reader.send_line("CAPA", dialogue.until())
        capa = read_status(reader, dialogue.until())
        if capa.is_ok:
            capa = read_multiline(reader, dialogue.until(), capa)
        dialogue.observation = dataclasses.replace(dialogue.observation, capa=capa)

        withheld = ""
        if login is not None and login.kind is LoginKind.MAILBOX:
            tls = dialogue.observation.tls
            withheld = (
                "no proof was available to judge the chain"
                if unproven is None or tls is None
                else unproven(tls)
            )
            if withheld:
                dialogue.observation = dataclasses.replace(
                    dialogue.observation, login_withheld=withheld
                )
        gated = gate if login is not None and login.kind is LoginKind.MAILBOX else None
        if gated is not None and not withheld:
            waited = time.monotonic() + deadline.step(LOGIN_ANSWER_S + 2 * timeout)
            turn = gated.turn(where, waited)
            if turn.withheld:
                withheld = turn.withheld
                dialogue.observation = dataclasses.replace(
                    dialogue.observation,
                    login_not_repeated=turn.withheld,
                    login_not_repeated_unanswered=turn.unanswered,
                )
        if login is not None and not withheld:
            stage = ProtocolStage.LOGIN
            dialogue.observation = dataclasses.replace(dialogue.observation, login_kind=login.kind)
            accepted: bool | None = None
            refusal, answered, held_elsewhere = "", True, False
            try:
                reader.send_line(f"USER {login.user}", dialogue.until())
                reply = read_status(reader, dialogue.until())
                if reply.is_ok:
                    # The password's bytes as given (RFC 1939 names no charset): never
                    # decoded or encoded here, so no codec error can quote a part of it.
                    reader.send_secret_line(
                        b"PASS ", login.password, dialogue.until(), shown="PASS ***"
                    )
                    accepted = False
                    patience = deadline.step(max(timeout, LOGIN_ANSWER_S))
                    refusal = f"had not answered the password after {patience:.0f} s"
                    answered = False
                    reply = read_status(reader, time.monotonic() + patience)
                    answered = True
                # A busy mailbox took the credentials (RFC 2449); the server's own trouble
                # says nothing of them, and the turn passes on.
                accepted = None if reply.is_server_trouble else reply.is_ok or reply.is_mailbox_busy
                held_elsewhere = reply.is_mailbox_busy
                refusal = f"refused it: {reply.as_sent}"[:200]
                dialogue.observation = dataclasses.replace(
                    dialogue.observation, login=reply, login_kind=login.kind
                )
            finally:
                if gated is not None:
                    may_be_own = gated.settle(
                        where,
                        accepted,
                        refusal,
                        unanswered=not answered,
                        held_elsewhere=held_elsewhere,
                    )

        if login is not None and not withheld and _was_login_taken(dialogue.observation):
            # The login process said +OK; whether the mailbox opens is the mail process's
            # answer (Dovecot's comes after the +OK, and ends the session when it fails).
            # STAT reads nothing of the mail and changes nothing.
            stage = ProtocolStage.MAILBOX
            reader.send_line("STAT", dialogue.until())
            stat = read_status(reader, dialogue.until())
            dialogue.observation = dataclasses.replace(dialogue.observation, mailbox=stat)

        stage = ProtocolStage.QUIT
        try:
            reader.send_line("QUIT", dialogue.until())
            read_status(reader, dialogue.until())
        except (PeerClosed, PeerReset, OSError):
            # A server may end the session after refusing a login or the mailbox (Dovecot
            # does after [IN-USE] and [SYS/TEMP]): having answered, its close is its word,
            # not a broken dialogue.
            if not _was_refused(dialogue.observation):
                raise
        dialogue.stop(ProtocolStage.DONE, StageFailure.NONE)
    except EXPECTED_ERRORS as error:
        dialogue.stop_on(stage, error)
    finally:
        dialogue.close()
        if gated is not None:
            gated.ended(where)  # the session is over: the mailbox is free
    return dialogue.finish(), may_be_own


def _was_login_taken(observation: Pop3Observation) -> bool:
    return observation.login is not None and observation.login.is_ok


def _was_refused(observation: Pop3Observation) -> bool:
    """The login, or the mailbox after it, was refused: the server may end the session."""
    return (observation.login is not None and not observation.login.is_ok) or (
        observation.mailbox is not None and not observation.mailbox.is_ok
    )
