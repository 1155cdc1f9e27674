"""The three output formats of one real run: JSON contract, check_mk lines, table."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, run_cli
from tests.servers.dns import NXDOMAIN, DnsServer, addresses
from tests.servers.tcp import DroppingPort, OpenPort, closed_port

CODE = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+)+$")


@pytest.fixture(scope="module")
def scenario() -> Any:
    """Four endpoints: open, refused, dropped, and a name that does not exist."""
    zone = {"ok.test": addresses("127.0.0.1"), "gone.test": NXDOMAIN}
    with OpenPort() as open_port, DroppingPort() as dropping, DnsServer(zone) as dns_server:
        refused = closed_port()
        base = [
            "check",
            "--no-system-resolver",
            "--resolver",
            dns_server.spec,
            "--expect-network",
            "127.0.0.0/8",
            "--timeout",
            "0.5",
            "--target",
            f"ok.test:{open_port.port}/tcp",
            "--target",
            f"127.0.0.1:{refused}/pop3s",
            "--target",
            f"127.0.0.1:{dropping.port}/tls",
            "--target",
            "gone.test:25/smtp-starttls",
        ]
        yield {
            "json": run_cli(*base, "--json"),
            "checkmk": run_cli(*base, "--format", "checkmk"),
            "table": run_cli(*base),
            "ports": (open_port.port, refused, dropping.port),
        }


def validate_report(doc: dict[str, Any]) -> None:
    """The documented contract `netdiag.report/1` (README.md, JSON report)."""
    assert doc["schema"] == "netdiag.report/1"
    assert doc["tool"]["name"] == "netdiag" and isinstance(doc["tool"]["version"], str)
    datetime.fromisoformat(doc["started"])
    assert isinstance(doc["duration_s"], float | int) and doc["duration_s"] >= 0
    assert doc["status"] in ("ok", "warn", "crit", "unknown")
    labels = {f"{e['host']}:{e['port']}" for e in doc["endpoints"]}
    for cause in doc["causes"]:
        assert CODE.match(cause["code"]) and cause["severity"] in ("info", "warn", "crit")
        assert set(cause["sentence"]) == {"en", "de"} and all(cause["sentence"].values())
        assert cause["endpoints"] and set(cause["endpoints"] + cause["likely"]) <= labels
    assert set(doc["working"]) <= labels
    for endpoint in doc["endpoints"]:
        assert isinstance(endpoint["host"], str) and isinstance(endpoint["port"], int)
        assert endpoint["service"] in ("smtp-starttls", "pop3s", "tls", "tcp")
        assert endpoint["status"] in ("ok", "warn", "crit", "unknown")
        for f in endpoint["findings"]:
            assert CODE.match(f["code"]), f["code"]
            assert f["severity"] in ("info", "warn", "crit")
            assert isinstance(f["summary"], str) and f["summary"]
            assert all(isinstance(line, str) for line in f["evidence"])
            assert isinstance(f["remedy"], str)
        observations = endpoint["observations"]
        assert set(observations) >= {"dns", "tcp"}
        for tcp in observations["tcp"]:
            assert tcp["outcome"] in (
                "open",
                "refused",
                "unreachable",
                "timeout",
                "error",
                "skipped",
            )


def test_json_follows_the_contract(scenario: dict[str, Any]) -> None:
    result: CliResult = scenario["json"]
    doc = result.json()
    validate_report(doc)
    assert doc["status"] == "crit" and result.exit_code == 2
    statuses = {(e["host"], e["port"]): e["status"] for e in doc["endpoints"]}
    open_port, refused, dropping = scenario["ports"]
    assert statuses == {
        ("ok.test", open_port): "ok",
        ("127.0.0.1", refused): "crit",
        ("127.0.0.1", dropping): "crit",
        ("gone.test", 25): "crit",
    }


# Checkmk manual, "Local checks": `<state> <service name> <metrics> <details>`; the service
# name may be quoted to contain spaces; metrics are `-` or `name=value[;warn;crit;min;max]`
# joined by `|`.
LOCAL_CHECK = re.compile(
    r'^(?P<state>[0-3P]) (?:"(?P<quoted>[^"]+)"|(?P<plain>\S+)) '
    r"(?P<metrics>-|[\w.]+=[\d.]+(;[\d.]*){0,4}(\|[\w.]+=[\d.]+(;[\d.]*){0,4})*) (?P<text>.+)$"
)


def test_checkmk_lines_parse(scenario: dict[str, Any]) -> None:
    result: CliResult = scenario["checkmk"]
    lines = result.stdout.strip().splitlines()
    parsed = [LOCAL_CHECK.match(line) for line in lines]
    assert all(parsed), [line for line, p in zip(lines, parsed, strict=True) if not p]
    by_name = {(p["quoted"] or p["plain"]): p for p in parsed if p}
    open_port, refused, dropping = scenario["ports"]
    assert by_name["netdiag DNS"]["state"] == "2"
    assert "dns.nxdomain" in by_name["netdiag DNS"]["text"]
    ok = by_name[f"netdiag ok.test:{open_port} tcp"]
    assert ok["state"] == "0" and ok["metrics"].startswith("connect_time=")
    assert by_name[f"netdiag 127.0.0.1:{refused} pop3s"]["state"] == "2"
    assert "tcp.filtered" in by_name[f"netdiag 127.0.0.1:{dropping} tls"]["text"]
    assert result.exit_code == 2


def test_table_shows_each_verdict_and_the_remedies(scenario: dict[str, Any]) -> None:
    result: CliResult = scenario["table"]
    table = result.stdout
    lines = table.splitlines()
    open_port, refused, dropping = scenario["ports"]
    # The answer first: the causes, one sentence each, most severe first; what works.
    assert lines[0] == "Causes:"
    assert all(line.startswith(f"[{n}] CRIT: ") for n, line in enumerate(lines[1:4], start=1))
    assert f"[1] CRIT: TCP {refused} to 127.0.0.1 is refused with a reset." in lines[1:4]
    assert "No address for gone.test: the name does not exist" in "\n".join(lines[1:4])
    assert lines[4] == f"Working: TCP {open_port} (ok.test)."
    assert any(line.split()[:3] == ["status", "host", "port"] for line in lines)
    for code in ("tcp.open", "tcp.refused", "tcp.filtered", "dns.nxdomain"):
        assert code in table
    assert "What to do:" in table and "overall: CRIT" in table
    assert result.exit_code == 2
    assert result.stderr == ""  # no progress line when stderr is not a terminal


def test_targets_lists_the_built_in_profile() -> None:
    result = run_cli("targets")
    assert result.exit_code == 0
    for n in range(1, 7):
        assert f"mail{n}.dicommail.com" in result.stdout
    assert "atlas79.mydhp.de" in result.stdout and "8140" in result.stdout
    only = run_cli("targets", "--only", "mail3")
    assert only.stdout.count("mail3.dicommail.com") == 2 and "mail1" not in only.stdout


def test_version() -> None:
    from netdiag import __version__

    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"netdiag {__version__}"


def test_help_does_not_import_scapy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom netdiag.cli import main\nrc = main(['--help'])\n"
        "heavy = ('scapy', 'OpenSSL', 'dns.resolver', 'tabulate')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip().splitlines()[-1] == "none", out.stdout + out.stderr


def test_output_to_a_file_is_utf8_whatever_the_console_encoding(tmp_path: Path) -> None:
    """As on Windows, where Python writes a pipe or a file in the console's code page: the
    JSON must stay UTF-8 for `netdiag diff`, and a German report keep its umlauts."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    command = [sys.executable, "-m", "netdiag", "check", "--target", "127.0.0.1:1/tcp"]
    reports = []
    for name in ("a.json", "b.json"):
        path = tmp_path / name
        with path.open("wb") as out:
            subprocess.run(
                [*command, "--json", "--timeout", "0.3"],
                stdout=out,
                env=env,
                timeout=60,
                check=False,
            )
        reports.append(path)
    diffed = subprocess.run(
        [sys.executable, "-m", "netdiag", "diff", *map(str, reports)],
        capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert diffed.returncode == 0, diffed.stderr
    german = subprocess.run(
        [*command, "--lang", "de", "--timeout", "0.3", "--host"],
        capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    text = german.stdout.decode("utf-8")  # would fail on cp1252 bytes for the umlauts
    assert "ü" in text or "ä" in text or "ö" in text
