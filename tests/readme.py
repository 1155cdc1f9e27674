"""The README's commands, taken from README.md itself, so that what CI runs and what a user
reads cannot drift apart (standard library only: CI calls it before anything is installed).

    python3 -m tests.readme check      # the first command: install and run `netdiag check`
    python3 -m tests.readme test       # the second: install and run the tests

Every line of a ```sh block is a command a user may type on Linux (or in any POSIX shell);
Windows-only examples live in ```powershell or ```bat blocks."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    line: int
    text: str


def blocks(lang: str, text: str | None = None) -> list[list[Command]]:
    """The commands of every ```lang block, comments and blank lines left out, a line that
    ends in a backslash joined with the next. A block that starts with `#!` is a script
    file shown whole, not commands to type: it is left out."""
    text = README.read_text("utf-8") if text is None else text
    found = []
    for match in _BLOCK.finditer(text):
        if match.group("lang") != lang or match.group("body").startswith("#!"):
            continue
        first = text.count("\n", 0, match.start("body")) + 1
        commands: list[Command] = []
        pending: tuple[int, str] | None = None
        for offset, raw in enumerate(match.group("body").splitlines()):
            command = _without_comment(raw).strip()
            if pending is not None:
                command = f"{pending[1]} {command}".strip()
            start = pending[0] if pending is not None else first + offset
            if command.endswith("\\"):
                pending = (start, command[:-1].strip())
                continue
            pending = None
            if command:
                commands.append(Command(start, command))
        found.append(commands)
    return found


def _without_comment(line: str) -> str:
    """`netdiag check   # every endpoint` -> `netdiag check` (a `#` inside quotes stays)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def the_two_commands() -> tuple[str, str]:
    """The README's first two ```sh blocks, one command each: install and check, install
    and test."""
    first, second = blocks("sh")[:2]
    assert len(first) == 1 and len(second) == 1, "each of the first two blocks is one command"
    return first[0].text, second[0].text


if __name__ == "__main__":
    check, test = the_two_commands()
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which not in ("check", "test"):
        sys.exit("usage: python3 -m tests.readme check|test")
    print(check if which == "check" else test)
