"""The README as executable documentation: every command of its ```sh blocks runs, in the
order written, as a user would type it, against the vendor's site in namespaces (never a
real vendor host), and none prints a traceback or "internal error" or ends with an exit
code the README does not document for it."""

from __future__ import annotations

import concurrent.futures
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netns.topology import require_netns
from tests.netns.world import VendorWorld, broken
from tests.readme import Command, blocks, the_two_commands

pytestmark = pytest.mark.netns

# The exit codes the README documents: the Nagios states for every command that reports
# (3 is "could not run", never the answer to a documented example); `diff` says 0 for no
# change and 1 for a change.
REPORTING = {0, 1, 2}
DIFF = {0, 1}


def documented_commands() -> list[Command]:
    """Every ```sh command; of the first two blocks, the part after the install (the first
    is `pip install . && netdiag check`; the second runs this very test suite)."""
    check, _ = the_two_commands()
    sh = blocks("sh")
    first_line = sh[0][0].line
    runnable = [Command(first_line, check.split("&&", 1)[1].strip())]
    for block in sh[2:]:
        runnable.extend(block)
    return runnable


def expected_codes(command: str) -> set[int]:
    last = command.split("&&")[-1].split(";")[-1].strip()
    return DIFF if last.startswith("netdiag diff") else REPORTING


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorWorld]:
    require_netns()
    with VendorWorld(tmp_path_factory.mktemp("readme")) as world:
        yield world


def test_the_readme_documents_commands_to_run() -> None:
    commands = [c.text for c in documented_commands()]
    assert commands[0] == "netdiag check"
    assert len(commands) > 20, commands


def lanes(commands: list[Command]) -> list[list[Command]]:
    """The commands in lanes that can run side by side: in README order within a lane; a
    command joins the lane of an earlier one whose file it reads (`> before.json`, then
    `diff before.json …`), and every `pins` command joins one lane (each changes the pins
    the next one shows)."""
    found: list[list[Command]] = []
    lane_of_file: dict[str, int] = {}
    pins_lane: int | None = None
    for command in commands:
        files = set(re.findall(r"[\w.-]+\.(?:json|zip|html|pem|p12|key)", command.text))
        joined = next((lane_of_file[f] for f in files if f in lane_of_file), None)
        if joined is None and command.text.startswith("netdiag pins"):
            joined = pins_lane
        if joined is None:
            found.append([])
            joined = len(found) - 1
        found[joined].append(command)
        if command.text.startswith("netdiag pins"):
            pins_lane = joined
        written = re.findall(r"(?:>|--out|--bundle)\s+([\w.-]+)", command.text)
        for name in written:
            lane_of_file[name] = joined
    return found


def test_lanes_keep_what_depends_together() -> None:
    commands = [
        Command(1, "netdiag pins import a.pem"),
        Command(2, "netdiag check --json > before.json"),
        Command(3, "netdiag check"),
        Command(4, "netdiag pins show"),
        Command(5, "netdiag check --json > after.json; netdiag diff before.json after.json"),
    ]
    assert [[c.line for c in lane] for lane in lanes(commands)] == [[1, 4], [2, 5], [3]]


def _run_lane(world: VendorWorld, lane: list[Command], folder: Path) -> list[str]:
    """A lane's commands in order, in a copy of the examples' folder of its own."""
    shutil.copytree(world.work, folder)
    failures = []
    for command in lane:
        result = world.run(command.text, cwd=folder)
        problem = broken(result)
        if problem is None and result.returncode not in expected_codes(command.text):
            problem = f"exit code {result.returncode}"
        if problem is not None:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            failures.append(f"README.md:{command.line}: {command.text}: {problem}: {tail}")
    return failures


# Every command of the README, some of them full checks and bundles: more than the suite's
# default minute on a busy 2-core machine.
@pytest.mark.timeout(180)
def test_every_documented_command_runs(world: VendorWorld, tmp_path: Path) -> None:
    # Three lanes at a time: the commands wait on the network more than they compute.
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = pool.map(
            lambda numbered: _run_lane(world, numbered[1], tmp_path / f"lane{numbered[0]}"),
            enumerate(lanes(documented_commands())),
        )
        failures = [failure for lane in results for failure in lane]
    assert failures == []


@pytest.mark.parametrize("command", ["trace", "mtu"])
def test_trace_and_mtu_report_a_name_that_does_not_exist_as_check_does(
    world: VendorWorld, command: str
) -> None:
    """What the README says: `trace` and `mtu` report like `check` — a name the resolver
    does not know is the DNS finding and exit 2, not a usage error."""
    result = world.run(f"netdiag {command} no-such-host.dicommail.com --json --timeout 2")
    assert result.returncode == 2, result.stderr
    [endpoint] = json.loads(result.stdout)["endpoints"]
    assert [f["code"] for f in endpoint["findings"]] == ["dns.nxdomain"], endpoint
    check = world.run("netdiag check --target no-such-host.dicommail.com:25/tcp --json")
    assert check.returncode == 2
    [checked] = json.loads(check.stdout)["endpoints"]
    assert {f["code"] for f in checked["findings"]} >= {"dns.nxdomain"}


def test_a_broken_command_is_seen(world: VendorWorld, tmp_path: Path) -> None:
    """The twin: a command that fails in each way the test looks for is caught."""
    assert broken(world.run("netdiag check --timeout nan")) is None  # one line, exit 3
    assert world.run("netdiag check --timeout nan").returncode not in REPORTING
    crashing = world.run("python3 -c 'raise SystemExit(\"Traceback (most recent call last)\")'")
    assert broken(crashing) is not None
