"""Passwords: read from a file, the environment or a prompt, never from the command line,
and never shown by repr() or str()."""

from __future__ import annotations

import getpass
import os
import sys
import weakref
from pathlib import Path

from netdiag.errors import UsageError
from netdiag.files import FileKind, read_bounded

MAX_PASSWORD_FILE = 4096
PASSWORD_FILE = FileKind("password file", "Passwortdatei")


class Secret:
    """A password that prints as `***`, so no log, report or traceback shows it."""

    __slots__ = ("_value", "__weakref__")

    def __init__(self, value: bytes) -> None:
        self._value = value
        _LIVE.add(self)

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Every secret this process holds, so that debug output can be scrubbed of them.
_LIVE: weakref.WeakSet[Secret] = weakref.WeakSet()


def scrub(text: str) -> str:
    """`text` (a traceback for NETDIAG_DEBUG) with every live secret, in every form and
    every part of four characters or more that a codec error could quote, replaced."""
    from netdiag.privacy.audit import KnownSecrets

    known = KnownSecrets.of(("secret", s.reveal()) for s in list(_LIVE))
    text = known.scrub(text)
    for secret in list(_LIVE):
        value = secret.reveal().decode("utf-8", "replace")
        for size in range(len(value), 3, -1):
            for start in range(0, len(value) - size + 1):
                part = value[start : start + size]
                if part in text:
                    text = text.replace(part, "***")
    return text


def read_secret(*, file: Path | None, env_var: str, prompt: str, may_prompt: bool) -> Secret | None:
    """The secret from `file`, else `env_var`, else an interactive prompt, else None."""
    if file is not None:
        raw = read_bounded(file, MAX_PASSWORD_FILE, PASSWORD_FILE, UsageError)
        # A trailing newline is what editors and `echo` add, never part of the password.
        return Secret(raw.rstrip(b"\r\n"))
    value = os.environ.get(env_var)
    if value is not None:
        return Secret(value.encode("utf-8"))
    if may_prompt and sys.stdin.isatty():
        try:
            return Secret(getpass.getpass(prompt).encode("utf-8"))
        except (EOFError, KeyboardInterrupt):
            raise UsageError("no password given", de="kein Passwort angegeben") from None
    return None
