"""Files a user or a ticket brings are read bounded and only as regular files: a FIFO (which
would wait for a writer for ever), a device such as /dev/zero, a folder, or a 3 GB file are
refused in one line, each in well under a second, at every option that takes a file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers.tcp import closed_port

GIB = 1024**3


def fifo(directory: Path) -> Path:
    path = directory / "fifo"
    os.mkfifo(path)
    return path


def huge(directory: Path) -> Path:
    """A 3 GB file that takes no room: sparse, read only as far as its limit allows."""
    path = directory / "huge"
    with path.open("wb") as f:
        f.truncate(3 * GIB)
    return path


def folder(directory: Path) -> Path:
    path = directory / "folder"
    path.mkdir()
    return path


KINDS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "fifo": (fifo, "named pipe (FIFO), not a file"),
    "device": (lambda _: Path("/dev/zero"), "is a device, not a file"),
    "folder": (folder, "is a folder, not a file"),
    "huge": (huge, "is larger than"),
}


def _args(option: str, path: Path) -> list[str]:
    target = ["--target", f"127.0.0.1:{closed_port()}/tcp"]
    if option == "diff":
        return ["diff", str(path), str(path)]
    if option == "--cert-password-file":
        return ["check", *target, "--cert", "x.p12", "--cert-password-file", str(path)]
    if option == "--profile":
        return ["check", "--profile", str(path)]
    return ["check", *target, option, str(path)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "option", ["--cert", "--cert-password-file", "--profile", "--pins", "--ca", "diff"]
)
def test_a_file_that_is_no_file_or_too_large_is_one_line_at_once(
    option: str, kind: str, tmp_path: Path
) -> None:
    make, said = KINDS[kind]
    path = make(tmp_path)
    started = time.monotonic()
    result = run_cli(*_args(option, path))
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, (result.stdout[-300:], result.stderr)
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert str(path) in result.stderr
    assert elapsed < 1.5, elapsed


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_a_trust_store_that_is_no_file_is_a_note_and_the_check_runs(
    kind: str, tmp_path: Path
) -> None:
    """The machine's trust store is context: one that cannot be read is said, and the
    check's answer stands."""
    make, said = KINDS[kind]
    path = make(tmp_path)
    started = time.monotonic()
    result = run_cli(
        "check", "--json", "--target", f"127.0.0.1:{closed_port()}/tls", "--trust-store", str(path)
    )
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.stderr
    notes = " ".join(result.json()["notes"])
    assert said in notes, notes


def test_a_regular_file_at_its_limit_is_read(tmp_path: Path) -> None:
    """The twin: a password file of exactly 4096 bytes is a password (the PKCS#12 it opens
    is another matter), one of 4097 is refused."""
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 4096)
    over = tmp_path / "over"
    over.write_bytes(b"x" * 4097)
    cert = tmp_path / "c.p12"
    cert.write_bytes(b"\x30\x03\x02\x01\x03")
    args = ["check", "--target", "127.0.0.1:1/tcp", "--cert", str(cert), "--cert-password-file"]
    assert "larger than" not in run_cli(*args, str(exact)).stderr
    assert "larger than 4 KiB" in run_cli(*args, str(over)).stderr
