"""POP3S probe (RFC 8314 implicit TLS on 995, RFC 1939): TLS with the client certificate,
greeting, CAPA, optionally a login, QUIT."""

from __future__ import annotations

from netdiag.deadline import Deadline
from netdiag.flows import FlowLog
from netdiag.observations import (
    POP3_ERR,
    POP3_OK,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    StageFailure,
)
from netdiag.probes.dialogue import EXPECTED_ERRORS, Connected, Dialogue, Garbage, TlsSettings
from netdiag.probes.lines import LineReader
from netdiag.secrets import Secret

MAX_MULTILINE = 200


def parse_status(line: str) -> Reply:
    """`+OK text` or `-ERR text` (RFC 1939 3); ValueError otherwise."""
    for prefix, code in (("+OK", POP3_OK), ("-ERR", POP3_ERR)):
        if line == prefix or line.startswith(prefix + " "):
            return Reply(code=code, lines=(line[len(prefix) :].strip(),))
    raise ValueError(f"not a POP3 status line: {line[:120]!r}")


def read_status(reader: LineReader, until: float) -> Reply:
    line = reader.read_line(until)
    try:
        return parse_status(line)
    except ValueError as e:
        raise Garbage(str(e)) from None


def read_multiline(reader: LineReader, until: float, status: Reply) -> Reply:
    """The body of a multi-line +OK answer up to the lone ".", dot-stuffing removed."""
    lines = list(status.lines)
    for _ in range(MAX_MULTILINE):
        line = reader.read_line(until)
        if line == ".":
            return Reply(code=status.code, lines=tuple(lines))
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
    login: tuple[str, Secret] | None = None,
    login_kind: str = "mailbox",
) -> ProtocolObservation:
    """The POP3S dialogue; `login` is (user, password) when a login is wanted, `login_kind`
    says whether it is the mailbox's own ("mailbox") or a made-up user ("probe")."""
    dialogue = Dialogue("pop3s", address, port, timeout, deadline, connected, flows)
    stage = ProtocolStage.CONNECT
    try:
        dialogue.connect()
        stage = ProtocolStage.TLS
        if dialogue.start_tls(server_name, tls_settings) is None or dialogue.reader is None:
            return dialogue.finish()
        reader = dialogue.reader

        stage = ProtocolStage.GREETING
        greeting = read_status(reader, dialogue.until())
        dialogue.fields["banner"] = greeting
        if greeting.code != POP3_OK:
            dialogue.stop(stage, StageFailure.REFUSED, f"-ERR {greeting.text}")
            return dialogue.finish()

        stage = ProtocolStage.CAPA
        reader.send_line("CAPA", dialogue.until())
        capa = read_status(reader, dialogue.until())
        if capa.code == POP3_OK:
            capa = read_multiline(reader, dialogue.until(), capa)
        dialogue.fields["capa"] = capa

        if login is not None:
            stage = ProtocolStage.LOGIN
            user, password = login
            reader.send_line(f"USER {user}", dialogue.until())
            reply = read_status(reader, dialogue.until())
            if reply.code == POP3_OK:
                # The password's bytes as given (RFC 1939 names no charset): never decoded or
                # encoded here, so no codec error can quote a part of it.
                reader.send_secret_line(b"PASS ", password, dialogue.until(), shown="PASS ***")
                reply = read_status(reader, dialogue.until())
            dialogue.fields["login"] = reply
            dialogue.fields["login_kind"] = login_kind

        stage = ProtocolStage.QUIT
        reader.send_line("QUIT", dialogue.until())
        read_status(reader, dialogue.until())
        dialogue.stop(ProtocolStage.DONE, StageFailure.NONE)
    except EXPECTED_ERRORS as error:
        dialogue.stop_on(stage, error)
    finally:
        dialogue.close()
    return dialogue.finish()
