"""The mailbox login against three POP3S servers at once, as a check of the vendor's six
does it: a refused password goes to one server only (each wrong try counts against the
mailbox and, on Dovecot, delays the next answer to this address), an accepted one to all;
a refusal that comes late is a refusal, and a login that gets no answer is said as such,
never as "the peer does not speak POP3" (what a real Dovecot's growing delay was read as)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from netdiag.probes import pop3s
from netdiag.probes.login_gate import LoginGate, Turn
from tests.conftest import CliResult, assert_never_ok_unless_checked, codes
from tests.integration.tls_fixtures import check, vendor_pins
from tests.servers.base import Server
from tests.servers.dns import DnsServer
from tests.servers.mail import Pop3Handler, TlsPolicy, server_context
from tests.servers.pki import Pki

PASSWORD = "Mailbox-Pw-7e1"
HOSTS = ("mail1.dicommail.com", "mail2.dicommail.com", "mail3.dicommail.com")


@contextmanager
def mailboxes(
    pki: Pki, password: bytes | None, **options: Any
) -> Iterator[tuple[list[Server], list[bytes]]]:
    """Three POP3S servers of one mailbox (`options` as `Pop3Handler` takes them): the
    passwords they were sent, in one list."""
    sent: list[bytes] = []
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                Server(
                    Pop3Handler(
                        server_context(pki, TlsPolicy()),
                        TlsPolicy(),
                        password,
                        passwords=sent,
                        **options,
                    )
                )
            )
            for _ in HOSTS
        ]
        yield servers, sent


def login_check(
    dns_server: DnsServer, pki: Pki, servers: list[Server], tmp_path: Path, *extra: str
) -> tuple[CliResult, dict[str, Any]]:
    (tmp_path / "pop3.pw").write_text(PASSWORD + "\n", "utf-8")
    targets = [f"{host}:{server.port}/pop3s" for host, server in zip(HOSTS, servers, strict=True)]
    more = [arg for target in targets[1:] for arg in ("--target", target)]
    result = check(
        dns_server, targets[0], *more,
        "--cert", str(pki.client_pem(tmp_path)), "--pins", str(vendor_pins(pki, tmp_path)),
        "--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "pop3.pw"), *extra,
    )  # fmt: skip
    assert result.stdout, result.stderr
    report = result.json()
    assert_never_ok_unless_checked(report)
    assert PASSWORD not in result.stdout + result.stderr
    return result, report


def refused_here(report: dict[str, Any], code: str = "pop3.login_failed") -> list[str]:
    """The endpoints whose own server refused the login (not those only inferred)."""
    return [
        e["host"] for e in report["endpoints"] for f in e["findings"]
        if f["code"] == code and "not tried" not in f["summary"]
    ]  # fmt: skip


def test_a_refused_password_goes_to_one_server_and_the_others_say_why_not(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """One refusal: that server is the cause, the two spared ones its likely members (the
    same password, not tried there) — never 'working'."""
    with mailboxes(pki, password=None) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    assert sent == [PASSWORD.encode()]
    assert result.exit_code == 2
    refused = refused_here(report)
    assert len(refused) == 1, report["endpoints"]
    spared = [h for h in HOSTS if h != refused[0]]
    found = {e["host"]: codes(e) for e in report["endpoints"]}
    for host in spared:
        assert {"pop3.login_not_repeated", "pop3.login_failed"} <= found[host], found
    summaries = [
        f["summary"] for e in report["endpoints"] for f in e["findings"]
        if f["code"] == "pop3.login_not_repeated"
    ]  # fmt: skip
    assert all(f"{refused[0]}:" in s and "Authentication failed" in s for s in summaries)
    (cause,) = report["causes"]
    assert cause["code"] == "pop3.login_failed"
    assert [e.split(":")[0] for e in cause["endpoints"]] == refused
    assert sorted(e.split(":")[0] for e in cause["likely"]) == spared
    assert report["working"] == []


def test_each_round_of_a_repeat_is_a_measurement_of_its_own(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """--repeat 2: each round sends the refused password once and finds it refused, so
    the last round still says pop3.login_failed (not only 'not repeated'), and no
    endpoint reads as flapping."""
    with mailboxes(pki, password=None) as (servers, sent):
        result, report = login_check(
            dns_server, pki, servers, tmp_path, "--repeat", "2", "--interval", "0"
        )
    assert sent == [PASSWORD.encode()] * 2
    assert result.exit_code == 2
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert len(refused_here(report)) == 1 and "endpoint.flapping" not in found, found


def test_an_accepted_password_goes_to_every_server(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """The twin: the first server accepts, so the others are sent it too, and all are ok."""
    with mailboxes(pki, password=PASSWORD.encode()) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    assert sent == [PASSWORD.encode()] * 3
    assert result.exit_code == 0, report["causes"]
    for endpoint in report["endpoints"]:
        assert endpoint["status"] == "ok"
        assert not {"pop3.login_not_repeated", "pop3.login_failed"} & codes(endpoint)
        # The mailbox opened: STAT after the login was answered +OK.
        assert endpoint["observations"]["protocol"]["mailbox"]["status"] == "+OK"


def test_a_refusal_later_than_the_step_timeout_is_a_refusal(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """Dovecot answers a wrong password after 2 s and more: with a 1 s step timeout, still
    the server's refusal, not a silence or a protocol error."""
    with mailboxes(pki, password=None, answer_after_s=1.5) as (servers, sent):
        _, report = login_check(dns_server, pki, servers, tmp_path, "--timeout", "1")
    assert len(sent) == 1
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert len(refused_here(report)) == 1 and "pop3.protocol_error" not in found


def test_a_login_without_an_answer_is_said_as_such(
    pki: Pki, dns_server: DnsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No answer to the password in the time a login may take: pop3.login_unanswered on
    that server, and the password is not sent to the others."""
    monkeypatch.setattr(pop3s, "LOGIN_ANSWER_S", 1.0)
    with mailboxes(pki, password=None, answer_after_s=2.5) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path, "--timeout", "1")
    assert len(sent) == 1
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert len(refused_here(report, "pop3.login_unanswered")) == 1, found
    assert found.count("pop3.login_not_repeated") == 2, found
    # The spared ones are likely members of the silence's cause, not of another.
    assert [c["code"] for c in report["causes"]] == ["pop3.login_unanswered"]
    assert len(report["causes"][0]["likely"]) == 2
    assert "pop3.protocol_error" not in found and result.exit_code == 2
    silent = next(
        f for e in report["endpoints"] for f in e["findings"]
        if f["code"] == "pop3.login_unanswered" and "not tried" not in f["summary"]
    )  # fmt: skip
    assert "no answer to the mailbox's login" in silent["summary"]


BUSY = b"-ERR [IN-USE] Mailbox is locked by another POP3 session"


@pytest.mark.parametrize(
    ("refusal", "closes", "said", "exit_code"),
    [
        (BUSY, False, "pop3.mailbox_in_use", 1),
        # Dovecot ends the session after [IN-USE]: its close is no broken dialogue.
        (BUSY, True, "pop3.mailbox_in_use", 1),
        (b"-ERR [SYS/TEMP] Internal error occurred.", False, "pop3.mailbox_unavailable", 2),
    ],
    ids=["busy mailbox", "busy mailbox, then closed", "server trouble"],
)
def test_an_answer_that_is_not_about_the_password_does_not_stop_the_turns(
    pki: Pki,
    dns_server: DnsServer,
    tmp_path: Path,
    refusal: bytes,
    closes: bool,
    said: str,
    exit_code: int,
) -> None:
    """-ERR [IN-USE] (RFC 2449: the credentials were good, another session holds the
    mailbox — the gateway's own mail software fetching) counts as accepted: every server
    gets the password and says pop3.mailbox_in_use (WARN), never pop3.login_failed.
    -ERR [SYS/TEMP] (RFC 3206: the server's trouble) says nothing of the password: the
    turn passes on, and each server says what it says. The twin of a refusal, which goes
    to one server only."""
    with mailboxes(pki, password=None, refusal=refusal, closes_after_refusal=closes) as (
        servers,
        sent,
    ):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    assert len(sent) == 3
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert found.count(said) == 3 and "pop3.login_not_repeated" not in found, found
    assert "pop3.protocol_error" not in found, found
    assert result.exit_code == exit_code, report["causes"]


# The gate itself, without a network -------------------------------------------------------


def test_the_gate_gives_one_turn_at_a_time_and_passes_it_on_when_nothing_was_sent() -> None:
    import threading
    import time

    gate = LoginGate()
    assert gate.turn("a:995", time.monotonic() + 1) == Turn()
    # b waits while a logs in; a's connection broke before the password: b's turn.
    said: list[Turn] = []
    waiter = threading.Thread(target=lambda: said.append(gate.turn("b:995", time.monotonic() + 5)))
    waiter.start()
    time.sleep(0.1)
    assert said == []
    gate.settle("a:995", None)
    waiter.join(5)
    assert said == [Turn()]
    # b refused: nobody else gets a turn, and is told where and how.
    gate.settle("b:995", False, "refused it: -ERR [AUTH] Authentication failed.")
    assert gate.turn("c:995", time.monotonic() + 1) == Turn(
        "b:995 refused it: -ERR [AUTH] Authentication failed.", unanswered=False
    )


def test_the_gate_lets_everyone_in_after_an_acceptance_and_bounds_the_wait() -> None:
    import time

    gate = LoginGate()
    assert gate.turn("a:995", time.monotonic() + 1) == Turn()
    started = time.monotonic()
    ran_out = gate.turn("b:995", time.monotonic() + 0.2)
    # No refusal was seen: what b was told is a silence, not a refusal.
    assert "a:995 had not answered" in ran_out.withheld and ran_out.unanswered
    assert time.monotonic() - started < 2
    gate.settle("a:995", True)
    gate.ended("a:995")
    assert gate.turn("b:995", time.monotonic()) == Turn()


def test_after_an_acceptance_each_session_holds_the_mailbox_until_it_ends() -> None:
    """RFC 1939 8: a server locks the maildrop for a session; netdiag's own sessions take
    turns, so that none of them reads as the mailbox being busy."""
    import threading
    import time

    gate = LoginGate()
    assert gate.turn("a:995", time.monotonic() + 1) == Turn()
    gate.settle("a:995", True)
    said: list[Turn] = []
    waiter = threading.Thread(target=lambda: said.append(gate.turn("b:995", time.monotonic() + 5)))
    waiter.start()
    time.sleep(0.1)
    assert said == []  # a's session still holds the mailbox
    gate.ended("b:995")  # not b's to free
    time.sleep(0.1)
    assert said == []
    gate.ended("a:995")
    waiter.join(5)
    assert said == [Turn()]
    # b holds it now; c's time runs out: after an acceptance it goes ahead, not withheld.
    started = time.monotonic()
    assert gate.turn("c:995", time.monotonic() + 0.2) == Turn()
    assert 0.15 < time.monotonic() - started < 2


def test_a_login_taken_and_a_mailbox_that_does_not_open_is_the_servers_trouble(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """As Dovecot whose mail store fails: '+OK Logged in.', then at once '-ERR [SYS/TEMP]
    Internal error occurred.' and the end of the session. The password was good (every
    server gets it); the mailbox is not usable — the vendor's matter, never 'working' and
    never a protocol error. Its twin, the mailbox that opens, is the accepted password."""
    failure = b"-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information."
    with mailboxes(pki, PASSWORD.encode(), mailbox_failure=failure) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    assert len(sent) == 3
    for endpoint in report["endpoints"]:
        found = codes(endpoint)
        assert "pop3.mailbox_unavailable" in found, endpoint["findings"]
        assert not found & {"pop3.protocol_error", "pop3.login_failed"}, found
    (cause,) = report["causes"]
    assert cause["code"] == "pop3.mailbox_unavailable" and len(cause["endpoints"]) == 3
    assert report["working"] == []
    assert result.exit_code == 2


def test_a_mailbox_held_by_another_client_ends_the_turns() -> None:
    """Turns cannot free a mailbox another client holds ([IN-USE]): the rest go at once."""
    import time

    gate = LoginGate()
    assert gate.turn("a:995", time.monotonic() + 1) == Turn()
    gate.settle("a:995", True, held_elsewhere=True)
    started = time.monotonic()
    assert gate.turn("b:995", time.monotonic() + 5) == Turn()
    assert gate.turn("c:995", time.monotonic() + 5) == Turn()
    assert time.monotonic() - started < 0.5


def test_servers_that_lock_the_maildrop_see_one_session_at_a_time(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """Three servers of one mailbox store that lock the maildrop per session (RFC 1939 8)
    and answer a second session [IN-USE]: netdiag's logins take turns, so every server
    takes the login and opens the mailbox — none reads as busy, exit 0."""
    maildrop = threading.Lock()
    with mailboxes(pki, PASSWORD.encode(), maildrop=maildrop) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    assert sent == [PASSWORD.encode()] * 3
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert "pop3.mailbox_in_use" not in found, found
    assert result.exit_code == 0, report["causes"]


def test_a_server_that_lets_go_of_a_session_late_gets_one_more_session(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """The maildrop is let go of 0.3 s after each session ends (Dovecot's per-user count
    under load): the next turn's login is answered [IN-USE] right after netdiag's own
    session ended — that endpoint logs in once more and is judged by it (the transcript
    says why), and every later turn gives the server time to let go first. Exit 0, never
    the mailbox in use."""
    maildrop = threading.Lock()
    options = {"maildrop": maildrop, "releases_after_s": 0.3, "closes_after_refusal": True}
    with mailboxes(pki, PASSWORD.encode(), **options) as (servers, sent):
        result, report = login_check(dns_server, pki, servers, tmp_path)
    found = [c for e in report["endpoints"] for c in codes(e)]
    assert "pop3.mailbox_in_use" not in found, found
    assert result.exit_code == 0, report["causes"]
    assert sent == [PASSWORD.encode()] * 4  # the second server's twice, the third's once
    notes = [
        line["text"]
        for e in report["endpoints"]
        for attempt in e["observations"]["attempts"]
        for line in attempt["transcript"]
        if "own sessions had just ended" in line["text"]
    ]
    assert len(notes) == 1, notes
    assert all(
        e["observations"]["protocol"]["mailbox"]["status"] == "+OK" for e in report["endpoints"]
    )


def test_a_mailbox_held_from_the_start_is_busy_without_a_second_try(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """The twin: another client holds the maildrop before netdiag starts. No session of
    netdiag's had ended when the first server said [IN-USE]: that is the mailbox's state,
    the turns end, nobody logs in twice, and every server says busy."""
    maildrop = threading.Lock()
    maildrop.acquire()
    try:
        with mailboxes(pki, PASSWORD.encode(), maildrop=maildrop, closes_after_refusal=True) as (
            servers,
            sent,
        ):
            result, report = login_check(dns_server, pki, servers, tmp_path)
    finally:
        maildrop.release()
    assert sent == [PASSWORD.encode()] * 3
    assert [c for e in report["endpoints"] for c in codes(e)].count("pop3.mailbox_in_use") == 3
    assert result.exit_code == 1, report["causes"]


def test_a_busy_answer_right_after_an_own_session_ended_does_not_end_the_turns() -> None:
    import time

    from netdiag.probes.login_gate import OWN_SESSION_LINGER_S

    gate = LoginGate()
    assert gate.turn("a:995", time.monotonic() + 1) == Turn()
    assert gate.settle("a:995", True) is False
    gate.ended("a:995")
    assert gate.turn("b:995", time.monotonic() + 1) == Turn()
    # b is answered [IN-USE] at once: maybe a's session, not let go of yet.
    assert gate.settle("b:995", True, held_elsewhere=True) is True
    # The turns go on: c waits while b's session lasts.
    assert gate.turn("c:995", time.monotonic() + 0.2) == Turn()  # accepted: goes after the wait
    gate.ended("b:995")
    # A busy answer long after the last own session ended is the mailbox's state.
    late = LoginGate()
    late.turn("a:995", time.monotonic() + 1)
    late.settle("a:995", True)
    late.ended("a:995")
    time.sleep(OWN_SESSION_LINGER_S + 0.1)
    late.turn("b:995", time.monotonic() + 1)
    assert late.settle("b:995", True, held_elsewhere=True) is False
    started = time.monotonic()
    assert late.turn("c:995", time.monotonic() + 5) == Turn()
    assert late.turn("d:995", time.monotonic() + 5) == Turn()
    assert time.monotonic() - started < 0.5
