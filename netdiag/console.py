"""Where output goes: passed in, never global, so that tests can capture it."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

# A run shorter than this shows no progress at all.
PROGRESS_AFTER_S = 1.0


# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional
# formatting characters (the "Trojan Source" reordering): never written to a terminal, a
# ticket or a console as they are.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character shown as `\\xNN` or `\\uNNNN`, on one line."""
    return CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def utf8_unless_console(stream: TextIO) -> TextIO:
    """`stream` writing UTF-8 when it goes to a file or a pipe (`netdiag check --json >
    a.json`), whatever the console's code page: on Windows Python would write cp1252 or
    cp850 there, and the file would be no JSON `netdiag diff` can read. A console keeps its
    own encoding, which is what it can display."""
    isatty = getattr(stream, "isatty", None)
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or (isatty is not None and isatty()):
        return stream
    if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
        reconfigure(encoding="utf-8", errors="replace")
    return stream


@dataclass
class Console:
    """stdout for results, stderr for errors and progress."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    shows_progress: bool = False
    _progress_width: int = 0
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    _progress_since: float = 0.0

    @classmethod
    def system(cls) -> Console:
        isatty = getattr(sys.stderr, "isatty", None)
        return cls(
            utf8_unless_console(sys.stdout),
            utf8_unless_console(sys.stderr),
            shows_progress=bool(isatty and isatty()),
        )

    @property
    def can_ask(self) -> bool:
        """Whether a person can answer a question (stdin is a terminal)."""
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    def confirm(self, question: str) -> bool:
        """Ask on stderr, read the answer from stdin: yes (or German ja) or not."""
        self.clear_progress()
        self.stderr.write(f"{question} [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline().strip().lower()
        return answer in ("y", "yes", "j", "ja")

    def out(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def error(self, text: str) -> None:
        # One line, whatever a file name or a server's words in it hold.
        self.clear_progress()
        self.stderr.write(f"netdiag: {visible(text)}\n")
        self.stderr.flush()

    def note(self, text: str) -> None:
        self.clear_progress()
        self.stderr.write(f"netdiag: {visible(text)}\n")
        self.stderr.flush()

    def warn(self, text: str) -> None:
        self.clear_progress()
        self.stderr.write(f"netdiag: warning: {visible(text)}\n")
        self.stderr.flush()

    def progress(self, text: str) -> None:
        """One self-overwriting status line on a terminal, once the run has taken a second
        (a quick run needs none); nothing otherwise."""
        if not self.shows_progress:
            return
        now = time.monotonic()
        if self._progress_since == 0.0:
            self._progress_since = now
        if now - self._progress_since < PROGRESS_AFTER_S:
            return
        line = text[:78]
        pad = max(0, self._progress_width - len(line))
        self.stderr.write("\r" + line + " " * pad)
        self.stderr.flush()
        self._progress_width = len(line)

    def clear_progress(self) -> None:
        if self.shows_progress and self._progress_width:
            self.stderr.write("\r" + " " * self._progress_width + "\r")
            self.stderr.flush()
            self._progress_width = 0
