"""Reading the files a user or a ticket brings (profiles, pin files, certificates, password
files, trust stores, saved reports): bounded, and only regular files.

Each file is opened without blocking (a FIFO would wait for a writer for ever), checked to
be a regular file on the very descriptor that is read (a FIFO, a device such as /dev/zero or
a folder is refused in one line), and read up to its limit plus one byte: a file above the
limit is refused without being read whole, in well under a second whatever its size."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from netdiag.errors import NetdiagError

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a file is to the user, in both languages ("profile", "Profil"), for the one
    line that says what is wrong with it."""

    en: str
    de: str


def _what_it_is(mode: int) -> tuple[str, str]:
    if stat.S_ISDIR(mode):
        return "a folder", "ein Ordner"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)", "eine benannte Pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device", "ein Gerät"
    if stat.S_ISSOCK(mode):
        return "a socket", "ein Socket"
    return "not a regular file", "keine gewöhnliche Datei"


def _size(limit: int) -> tuple[str, str]:
    if limit >= MIB and limit % MIB == 0:
        return f"{limit // MIB} MiB", f"{limit // MIB} MiB"
    if limit >= KIB and limit % KIB == 0:
        return f"{limit // KIB} KiB", f"{limit // KIB} KiB"
    return f"{limit} bytes", f"{limit} Bytes"


def open_regular(path: Path, limit: int, kind: FileKind, error: type[NetdiagError]) -> int:
    """A descriptor of the regular file `path` of at most `limit` bytes (the caller closes
    it); every other case is `error` with one line in both languages."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as e:
        reason = e.strerror or "unreadable"
        raise error(
            f"cannot read {kind.en} {path}: {reason}",
            de=f"{kind.de} {path} ist nicht lesbar: {reason}",
        ) from None
    info = os.fstat(descriptor)
    problem: tuple[str, str] | None = None
    if not stat.S_ISREG(info.st_mode):
        en, de = _what_it_is(info.st_mode)
        problem = (
            f"{kind.en} {path} is {en}, not a file",
            f"{kind.de} {path} ist {de}, keine Datei",
        )
    elif info.st_size > limit:
        en, de = _size(limit)
        problem = (f"{kind.en} {path} is larger than {en}", f"{kind.de} {path} ist größer als {de}")
    if problem is not None:
        os.close(descriptor)
        raise error(problem[0], de=problem[1])
    return descriptor


def read_bounded(path: Path, limit: int, kind: FileKind, error: type[NetdiagError]) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; every other case is
    `error` with one line in both languages that names the file and why."""
    descriptor = open_regular(path, limit, kind, error)
    try:
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            try:
                chunk = os.read(descriptor, min(left, 64 * KIB))
            except OSError as e:
                reason = e.strerror or "unreadable"
                raise error(
                    f"cannot read {kind.en} {path}: {reason}",
                    de=f"{kind.de} {path} ist nicht lesbar: {reason}",
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        en, de = _size(limit)
        raise error(
            f"{kind.en} {path} is larger than {en}",
            de=f"{kind.de} {path} ist größer als {de}",
        )
    return data


def read_text_bounded(path: Path, limit: int, kind: FileKind, error: type[NetdiagError]) -> str:
    """`read_bounded` as UTF-8 text (a byte-order mark, as Windows editors write, removed)."""
    data = read_bounded(path, limit, kind, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(
            f"{kind.en} {path} is not UTF-8 text",
            de=f"{kind.de} {path} ist kein UTF-8-Text",
        ) from None
