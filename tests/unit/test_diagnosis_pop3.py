"""A POP3 answer's extended response code (RFC 2449 8, RFC 3206), and what it says of a
login: a busy mailbox took the credentials, the server's trouble says nothing of them."""

from __future__ import annotations

import pytest

from netdiag.probes.pop3s import parse_status


@pytest.mark.parametrize(
    ("line", "code", "busy", "trouble"),
    [
        ("-ERR [IN-USE] Mailbox is locked by another POP3 session", "IN-USE", True, False),
        ("-ERR [login-delay] Wait 5 minutes", "LOGIN-DELAY", True, False),
        ("-ERR [SYS/TEMP] Internal error occurred.", "SYS/TEMP", False, True),
        ("-ERR [SYS/PERM] Account disabled", "SYS/PERM", False, True),
        ("-ERR [AUTH] Authentication failed.", "AUTH", False, False),
        ("-ERR Authentication failed.", "", False, False),
        ("-ERR [IN-USE unterminated", "", False, False),
        ("-ERR text [IN-USE] later in the line", "", False, False),
        ("+OK [IN-USE] an OK is never a refusal", "IN-USE", False, False),
    ],
)
def test_response_codes(line: str, code: str, busy: bool, trouble: bool) -> None:
    reply = parse_status(line)
    assert reply.response_code == code
    assert (reply.is_mailbox_busy, reply.is_server_trouble) == (busy, trouble)
