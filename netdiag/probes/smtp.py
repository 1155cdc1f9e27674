"""SMTP probe: banner, EHLO, STARTTLS (RFC 3207), TLS with the client certificate, EHLO
again, QUIT — with the whole transcript and its timings."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import EXPECTED_ERRORS, Connected, Dialogue, Garbage, TlsSettings
from netdiag.probes.lines import LineReader, PeerClosed, PeerTimeout
from netdiag.probes.server_clock import from_banner
from netdiag.report.observations import ProtocolStage, Reply, SmtpObservation, StageFailure

# RFC 5321 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
#                            Reply-code [ SP textstring ] CRLF
_REPLY_LINE = re.compile(r"^([2-5][0-9]{2})(?:([ -])(.*))?$", re.DOTALL)
MAX_REPLY_LINES = 100
# How long a greeting whose first line has come ("220-...") may take to end. A pregreet
# test holds the rest back to catch clients that talk first (Postfix's postscreen: 6 s by
# default); mail software waits for it (RFC 5321 4.5.3.2: 5 minutes for the greeting).
GREETING_PAUSE_S = 30.0
# ESMTP inspection on Cisco ASA/PIX replaces the extensions it does not support with X's
# ("XXXXXXXA" for STARTTLS): the same length, the last letter sometimes kept.
_MASKED_EXTENSION = re.compile(r"^X{4,}[A-Z]?$")


def parse_reply_line(line: str) -> tuple[int, bool, str] | None:
    """(code, is_last, text) of one reply line, or None if it is not an SMTP reply line."""
    match = _REPLY_LINE.match(line)
    if match is None:
        return None
    return int(match[1]), match[2] != "-", match[3] or ""


def parse_reply(lines: Sequence[str]) -> Reply:
    """A complete multi-line reply; ValueError (quoting the line) if it is not one."""
    if not lines:
        raise ValueError("empty reply")
    code: int | None = None
    texts: list[str] = []
    for index, line in enumerate(lines):
        parsed = parse_reply_line(line)
        if parsed is None:
            raise ValueError(f"not an SMTP reply line: {line[:120]!r}")
        line_code, is_last, text = parsed
        if code is not None and line_code != code:
            raise ValueError(f"reply code changes from {code} to {line_code} inside one reply")
        code = line_code
        texts.append(text)
        if is_last != (index == len(lines) - 1):
            raise ValueError(
                "a reply line marked last is followed by more lines"
                if is_last
                else "reply cut short"
            )
    assert code is not None
    return Reply(code=code, lines=tuple(texts))


class GreetingUnfinished(Exception):
    """The greeting's first line came, its last did not within the pause allowed."""

    def __init__(self, first_line: str, first_s: float) -> None:
        super().__init__(first_line)
        self.first_line, self.first_s = first_line, first_s


def _reply_line(reader: LineReader, lines: Sequence[str], until: float) -> tuple[str, bool]:
    """The next line of a reply of which `lines` came already, and whether it is its last."""
    try:
        line = reader.read_line(until)
    except PeerClosed:
        if lines:
            raise Garbage(
                f"the peer closed in the middle of a reply, after {lines[-1][:80]!r}"
            ) from None
        raise
    parsed = parse_reply_line(line)
    if parsed is None:
        raise Garbage(f"not SMTP: {line[:120]!r}")
    return line, parsed[1]


def read_reply(reader: LineReader, until: float, begun: Sequence[str] = ()) -> Reply:
    """Read one complete reply (the rest of one whose first lines are `begun`), bounded in
    lines."""
    lines = list(begun)
    while len(lines) < MAX_REPLY_LINES:
        line, is_last = _reply_line(reader, lines, until)
        lines.append(line)
        if is_last:
            return _complete(lines)
    raise Garbage(f"a reply of more than {MAX_REPLY_LINES} lines")


def read_greeting(
    reader: LineReader, until: float, deadline: Deadline, pause_s: float = GREETING_PAUSE_S
) -> tuple[Reply, float]:
    """The server's greeting, and after how many seconds its first line came: the first
    line by `until`, the rest of a multi-line greeting within `pause_s` of it (cut to the
    run's deadline) — GreetingUnfinished if it does not end by then."""
    started = time.monotonic()
    line, is_last = _reply_line(reader, (), until)
    first_s = time.monotonic() - started
    if is_last:
        return _complete([line]), first_s
    try:
        rest = time.monotonic() + deadline.step(pause_s)
        return read_reply(reader, rest, [line]), first_s
    except PeerTimeout:
        if deadline.is_expired:
            raise
        raise GreetingUnfinished(line, first_s) from None


def _complete(lines: Sequence[str]) -> Reply:
    try:
        return parse_reply(lines)
    except ValueError as e:
        raise Garbage(str(e)) from None


def extensions(ehlo: Reply) -> tuple[str, ...]:
    """The EHLO keywords (the first line is the greeting, RFC 5321 4.1.1.1)."""
    return tuple(line.split()[0].upper() for line in ehlo.lines[1:] if line.split())


def starttls_mask(ehlo: Reply) -> str:
    """The masked keyword standing where STARTTLS should be, or ""."""
    return next((k for k in extensions(ehlo) if _MASKED_EXTENSION.match(k)), "")


def helo_name(local_address: str) -> str:
    """An address literal (RFC 5321 4.1.3): always valid, needs no DNS."""
    return f"[IPv6:{local_address}]" if ":" in local_address else f"[{local_address}]"


def probe_smtp(
    address: str,
    port: int,
    server_name: str,
    tls_settings: TlsSettings,
    timeout: float,
    deadline: Deadline,
    connected: Connected | None = None,
    flows: FlowLog | None = None,
) -> SmtpObservation:
    """The SMTP dialogue up to and past STARTTLS; every outcome becomes an observation."""
    start = SmtpObservation(service="smtp-starttls", address=address, port=port)
    dialogue = Dialogue(start, timeout, deadline, connected, flows)
    stage = ProtocolStage.CONNECT
    try:
        reader = dialogue.connect()
        assert dialogue.sock is not None
        stage = ProtocolStage.BANNER
        started = time.monotonic()
        try:
            banner, first_s = read_greeting(reader, dialogue.until(), dialogue.deadline)
        except GreetingUnfinished as unfinished:
            detail = (
                f"the greeting began after {unfinished.first_s * 1000:.0f} ms "
                f"({unfinished.first_line[:80]!r}) and did not end within "
                f"{GREETING_PAUSE_S:g} s"
            )
            dialogue.transcript.add("-", detail)
            dialogue.observation = dataclasses.replace(
                dialogue.observation, banner_first_ms=round(unfinished.first_s * 1000, 1)
            )
            dialogue.stop(stage, StageFailure.TIMEOUT, detail)
            return dialogue.finish()
        banner_ms = round((time.monotonic() - started) * 1000, 1)
        dialogue.observation = dataclasses.replace(
            dialogue.observation,
            banner=banner,
            banner_ms=banner_ms,
            banner_first_ms=min(banner_ms, round(first_s * 1000, 1)),
            server_clock=from_banner(banner.text, datetime.now(UTC)),
        )
        if banner.code != 220:
            dialogue.stop(stage, StageFailure.REFUSED, f"{banner.code} {banner.text}")
            _quit(reader, dialogue)
            return dialogue.finish()

        stage = ProtocolStage.EHLO
        reader.send_line(f"EHLO {helo_name(dialogue.sock.getsockname()[0])}", dialogue.until())
        ehlo = read_reply(reader, dialogue.until())
        dialogue.observation = dataclasses.replace(dialogue.observation, ehlo=ehlo)
        if ehlo.code != 250:
            dialogue.stop(stage, StageFailure.REFUSED, f"{ehlo.code} {ehlo.text}")
            _quit(reader, dialogue)
            return dialogue.finish()
        dialogue.observation = dataclasses.replace(
            dialogue.observation,
            is_starttls_advertised="STARTTLS" in extensions(ehlo),
            starttls_mask=starttls_mask(ehlo),
        )

        # Sent even when STARTTLS is masked or missing: the answer (typically
        # "500 #5.5.1 command not recognized") is the evidence of what intercepts it.
        stage = ProtocolStage.STARTTLS
        reader.send_line("STARTTLS", dialogue.until())
        reply = read_reply(reader, dialogue.until())
        dialogue.observation = dataclasses.replace(dialogue.observation, starttls_reply=reply)
        if reply.code != 220:
            dialogue.stop(stage, StageFailure.REFUSED, f"{reply.code} {reply.text}")
            _quit(reader, dialogue)
            return dialogue.finish()

        stage = ProtocolStage.TLS
        if dialogue.start_tls(server_name, tls_settings) is None:
            return dialogue.finish()

        # RFC 3207 4.2: the client must discard what it knew and say EHLO again. Servers
        # that reject the client certificate after the handshake say so here.
        stage = ProtocolStage.EHLO_TLS
        reader.send_line(f"EHLO {helo_name(dialogue.sock.getsockname()[0])}", dialogue.until())
        after = read_reply(reader, dialogue.until())
        dialogue.observation = dataclasses.replace(dialogue.observation, after_tls=after)
        if after.code != 250:
            dialogue.stop(stage, StageFailure.REFUSED, f"{after.code} {after.text}")
            return dialogue.finish()
        stage = ProtocolStage.QUIT
        _quit(reader, dialogue)
        dialogue.stop(ProtocolStage.DONE, StageFailure.NONE)
    except EXPECTED_ERRORS as error:
        dialogue.stop_on(stage, error)
    finally:
        dialogue.close()
    return dialogue.finish()


def _quit(reader: LineReader, dialogue: Dialogue[SmtpObservation]) -> None:
    """QUIT politely; the answer does not matter any more."""
    try:
        until = time.monotonic() + min(dialogue.timeout, 1.0, dialogue.deadline.remaining())
        reader.send_line("QUIT", until)
        read_reply(reader, until)
    except EXPECTED_ERRORS:
        pass
