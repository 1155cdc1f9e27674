"""Bad input ends in one line and exit code 3, before any probing: a wrong language for
the bundle, host names that are no names."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.servers.tcp import closed_port


def test_a_wrong_bundle_language_is_refused_before_the_run(tmp_path: object) -> None:
    result = run_cli(
        "check", "--json", "--target", f"127.0.0.1:{closed_port()}/tcp",
        "--bundle", "x.zip", "--lang", "fr",
    )  # fmt: skip
    assert result.exit_code == 3
    assert result.stdout == ""  # nothing was checked
    assert result.stderr.strip() == "netdiag: --lang 'fr': de or en"


@pytest.mark.parametrize("command", ["trace", "mtu"])
@pytest.mark.parametrize(
    "name",
    ["a..b", "x" * 70 + ".example", "mail1..dicommail.com", "fe80::1%x\nnext", "a b", "$(id)"],
)
def test_a_name_that_is_no_name_is_one_line_before_any_lookup(command: str, name: str) -> None:
    result = run_cli(command, name, "--timeout", "2")
    assert result.exit_code == 3, result.stderr
    assert (
        result.stderr.count("\n") == 1
        and "neither a host name" in result.stderr
        or ("zone" in result.stderr)
    )
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("command", ["bundle", "check"])
def test_a_bundle_to_a_folder_is_refused_before_the_run(command: str, tmp_path: object) -> None:
    import time
    from pathlib import Path

    folder = Path(str(tmp_path))
    option = "--out" if command == "bundle" else "--bundle"
    started = time.monotonic()
    result = run_cli(command, "--target", f"127.0.0.1:{closed_port()}/tcp", option, str(folder))
    assert result.exit_code == 3 and "is a folder" in result.stderr, result.stderr
    # Nothing was checked: no report, no progress, at once.
    assert result.stdout == "" and time.monotonic() - started < 2
