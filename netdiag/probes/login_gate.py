"""The mailbox's password goes to one server at a time until one accepts it.

The same user and password go to every one of the vendor's mail servers: refused by one,
they are all but certainly refused by the others. Sent to six at once, a wrong password
would be six failed logins — against a lockout policy on the mailbox, and against this
gateway's address, which a server like Dovecot answers ever more slowly after each failure
(2 s, doubling up to 15 s). So the first connection ready to log in does so alone; the
others wait for its answer and then log in too (accepted), or do not send the password at
all (refused, or not answered) and say where it was refused. A connection that lost its
server before the password was sent hands the turn on.

Accepted, the logins still take turns, each holding the mailbox until its session ends: a
POP3 server locks the maildrop for the session (RFC 1939 8), and servers that share one
mailbox store refuse a second session of the same user with [IN-USE] — or count them
against a per-user limit (Dovecot's mail_max_userip_connections). netdiag's own sessions
must not read as the mailbox being busy. Once a server says the mailbox is busy already
(another client holds it), taking turns cannot free it: the rest log in at once.

A server lets go of a session a moment after its end: Dovecot counts the connections per
user and address in a process of its own, which under load has not yet heard of the end
when the next turn's login arrives ("[IN-USE] Maximum number of connections from user+IP
exceeded"). A busy answer within OWN_SESSION_LINGER_S of one of netdiag's own sessions
ending may be that session's: it does not end the turns, its endpoint logs in once more
(`netdiag.probes.pop3s`), and from then on each turn begins LET_GO_S after the last own
session ended."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# How long after one of netdiag's own sessions ended a busy answer may still be that one's.
OWN_SESSION_LINGER_S = 2.0
# Once a server was seen to lag so, the time it is given to let go of each session.
LET_GO_S = 0.5


@dataclass(frozen=True, slots=True)
class Turn:
    """A connection's turn at the login: go ahead (`withheld` is ""), or why not, and
    whether that is a server's silence rather than its refusal."""

    withheld: str = ""
    unanswered: bool = False


class LoginGate:
    """One run's turns at the mailbox login, shared by its endpoints' probes."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = ""  # the endpoint logging in now ("" when none is)
        self._accepted = False
        self._refused = ""  # where, and how, the password was refused
        self._unanswered = False  # that refusal was a silence
        self._held_elsewhere = False  # a server said the mailbox is busy: no more turns
        self._holder = ""  # the endpoint whose session holds the mailbox now
        self._last_end: float | None = None  # when such a session of netdiag's ended
        self._lags = False  # a server answered busy right after an own session ended

    def turn(self, where: str, until: float) -> Turn:
        """Wait for this endpoint's turn (until the monotonic time `until` at the most)."""
        with self._changed:
            while True:
                if self._refused:
                    return Turn(self._refused, self._unanswered)
                if self._held_elsewhere:
                    return Turn()
                left = until - time.monotonic()
                let_go = self._let_go_left()
                if not self._busy and (let_go <= 0 or left <= 0):
                    self._busy = where
                    return Turn()
                if not self._busy:
                    self._changed.wait(min(let_go, left))
                    continue
                if left <= 0 and self._accepted:
                    # Another session still holds the mailbox: better a second session
                    # than a login not checked.
                    return Turn()
                if left <= 0:
                    # Still waiting for that server's answer: no refusal seen, a silence.
                    said = f"{self._busy} had not answered the password yet when time ran out"
                    return Turn(said, unanswered=True)
                self._changed.wait(left)

    def settle(
        self,
        where: str,
        accepted: bool | None,
        refusal: str = "",
        *,
        unanswered: bool = False,
        held_elsewhere: bool = False,
    ) -> bool:
        """What became of `where`'s turn: accepted (its session holds the mailbox until
        `ended`; with `held_elsewhere` the server said another session holds it), refused
        (`refusal` says how; `unanswered` when by silence), or None when the password was
        not sent (the turn passes on). True when the busy answer may be one of netdiag's
        own sessions that just ended: the turns go on, and `where` may log in once more."""
        with self._changed:
            may_be_own = (
                held_elsewhere
                and self._last_end is not None
                and time.monotonic() - self._last_end < OWN_SESSION_LINGER_S
            )
            if may_be_own:
                held_elsewhere = False
                self._lags = True
            self._held_elsewhere = self._held_elsewhere or held_elsewhere
            if self._busy == where and (not accepted or held_elsewhere):
                self._busy = ""
            if accepted:
                self._accepted = True
                if not held_elsewhere and not may_be_own:
                    self._holder = where  # its session holds the mailbox until it ends
            elif accepted is False and not self._refused:
                self._refused = f"{where} {refusal}"
                self._unanswered = unanswered
            self._changed.notify_all()
            return may_be_own

    def _let_go_left(self) -> float:
        """How long the server still has to let go of the last own session (0: none)."""
        if not self._lags or self._last_end is None:
            return 0.0
        return self._last_end + LET_GO_S - time.monotonic()

    def ended(self, where: str) -> None:
        """`where`'s session is over: the mailbox is free for the next turn."""
        with self._changed:
            if self._holder == where:
                self._holder = ""
                self._last_end = time.monotonic()
            if self._busy == where:
                self._busy = ""
                self._changed.notify_all()
