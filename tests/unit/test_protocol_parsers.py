"""Property-based tests of the SMTP, POP3 and HTTP reply parsers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netdiag.probes.pop3s import parse_status
from netdiag.probes.smtp import extensions, parse_reply, parse_reply_line, starttls_mask
from netdiag.probes.tlsport import parse_http_response
from netdiag.report.observations import Pop3Reply, Pop3Status, Reply

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60
)
CODE = st.integers(200, 599)


@given(CODE, st.lists(TEXT, min_size=1, max_size=20))
def test_smtp_multiline_round_trip(code: int, texts: list[str]) -> None:
    lines = [f"{code}-{t}" for t in texts[:-1]] + [f"{code} {texts[-1]}"]
    assert parse_reply(lines) == Reply(code=code, lines=tuple(texts))


@given(st.lists(st.text(max_size=30), max_size=6))
def test_smtp_parser_accepts_or_rejects_cleanly(lines: list[str]) -> None:
    try:
        reply = parse_reply(lines)
    except ValueError:
        return
    assert 200 <= reply.code <= 599 and len(reply.lines) == len(lines)


@given(CODE, st.lists(TEXT, min_size=1, max_size=5))
def test_smtp_reply_cut_short_is_rejected(code: int, texts: list[str]) -> None:
    lines = [f"{code}-{t}" for t in texts]
    with pytest.raises(ValueError, match="cut short"):
        parse_reply(lines)


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("250 OK", (250, True, "OK")),
        ("250-PIPELINING", (250, False, "PIPELINING")),
        ("250", (250, True, "")),
        ("220 ****", (220, True, "****")),
        ("HTTP/1.1 400", None),
        ("25O OK", None),
        ("600 nope", None),
    ],
)
def test_reply_lines(line: str, parsed: object) -> None:
    assert parse_reply_line(line) == parsed


def test_masked_and_missing_starttls() -> None:
    masked = Reply(code=250, lines=("mail1", "PIPELINING", "XXXXXXXA", "8BITMIME"))
    assert starttls_mask(masked) == "XXXXXXXA" and "STARTTLS" not in extensions(masked)
    plain = Reply(code=250, lines=("mail1", "STARTTLS", "SIZE 1000"))
    assert starttls_mask(plain) == "" and extensions(plain) == ("STARTTLS", "SIZE")


@given(TEXT)
def test_pop3_status_round_trip(text: str) -> None:
    assert parse_status(f"+OK {text}") == Pop3Reply(status=Pop3Status.OK, lines=(text.strip(),))
    assert parse_status(f"-ERR {text}") == Pop3Reply(status=Pop3Status.ERR, lines=(text.strip(),))


@given(st.text(max_size=40))
def test_pop3_status_never_crashes(line: str) -> None:
    try:
        reply = parse_status(line)
    except ValueError as e:
        assert "not a POP3 status line" in str(e)
    else:
        assert line.startswith(("+OK", "-ERR")) and reply.status in (Pop3Status.OK, Pop3Status.ERR)


@given(st.binary(max_size=300))
def test_http_parser_never_crashes(data: bytes) -> None:
    reply = parse_http_response(data)
    assert reply is None or 0 <= reply.code


def test_http_response_keeps_the_telling_lines() -> None:
    data = (
        b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html><head><title>400 No required SSL "
        b"certificate was sent</title></head></html>"
    )
    reply = parse_http_response(data)
    assert reply is not None and reply.code == 400
    assert any("No required SSL certificate was sent" in line for line in reply.lines)
