"""`netdiag check` against loopback ports that are open, closed and dropping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import assert_never_ok_unless_checked, codes, run_cli
from tests.servers.base import Server
from tests.servers.dns import DnsServer, addresses
from tests.servers.tcp import DroppingPort, OpenPort, closed_port


def test_open_closed_and_dropping_ports_are_told_apart() -> None:
    refused = closed_port()
    with OpenPort() as open_port, DroppingPort() as dropping:
        result = run_cli(
            "check",
            "--target",
            f"127.0.0.1:{open_port.port}/tcp",
            "--target",
            f"127.0.0.1:{refused}/tcp",
            "--target",
            f"127.0.0.1:{dropping.port}/tcp",
            "--timeout",
            "0.5",
            "--json",
        )
    assert result.exit_code == 2
    assert codes(result.endpoint("127.0.0.1", open_port.port)) == {"tcp.open"}
    assert codes(result.endpoint("127.0.0.1", refused)) == {"tcp.refused"}
    filtered = result.endpoint("127.0.0.1", dropping.port)
    assert codes(filtered) == {"tcp.filtered"}
    assert filtered["observations"]["tcp"][0]["outcome"] == "timeout"
    assert "no answer within 0.5 s" in filtered["findings"][0]["evidence"][0]
    refused_obs = result.endpoint("127.0.0.1", refused)["observations"]["tcp"][0]
    assert refused_obs["errno_name"] == "ECONNREFUSED"


def _vendor_profile(tmp_path: Path, smtp: int, pop3: int, tls: int) -> Path:
    hosts = ", ".join(f'"mail{n}.dicommail.com"' for n in range(1, 7))
    profile = tmp_path / "vendor.toml"
    profile.write_text(
        f"""
name = "vendor names on loopback"
expected_networks = ["127.0.0.0/8"]
[[endpoints]]
hosts = [{hosts}]
port = {smtp}
service = "smtp-starttls"
[[endpoints]]
hosts = [{hosts}]
port = {pop3}
service = "pop3s"
[[endpoints]]
host = "atlas79.mydhp.de"
port = {tls}
service = "tls"
""",
        "utf-8",
    )
    return profile


def test_a_run_where_everything_is_dropped_ends_after_about_one_timeout(tmp_path: Path) -> None:
    zone = {f"mail{n}.dicommail.com": addresses("127.0.0.1") for n in range(1, 7)}
    zone["atlas79.mydhp.de"] = addresses("127.0.0.1")
    with (
        DroppingPort() as a,
        DroppingPort() as b,
        DroppingPort() as c,
        DnsServer(zone) as dns_server,
    ):
        profile = _vendor_profile(tmp_path, a.port, b.port, c.port)
        started = time.monotonic()
        result = run_cli(
            "check",
            "--profile",
            str(profile),
            "--resolver",
            dns_server.spec,
            "--no-system-resolver",
            "--timeout",
            "2",
            "--json",
        )
        elapsed = time.monotonic() - started
    # About one timeout, never one per endpoint (13 × 2 s): the margin is two timeouts, for a
    # busy machine (the suite's other worker) — a serial run would take 26 s.
    assert elapsed < 3 * 2, f"13 dropped endpoints took {elapsed:.1f} s with --timeout 2"
    report = result.json()
    assert len(report["endpoints"]) == 13
    assert {frozenset(codes(e)) for e in report["endpoints"]} == {frozenset({"tcp.filtered"})}
    assert result.exit_code == 2


class FlappingPort(Server):
    """Open for the first connection, then closed: the verdict changes between rounds."""

    def __init__(self) -> None:
        super().__init__(self._close_listener)

    def _close_listener(self, conn: socket.socket) -> None:
        self._sock.close()


def test_repeat_reports_an_endpoint_whose_result_changes() -> None:
    with FlappingPort() as port, OpenPort() as steady:
        result = run_cli(
            "check",
            "--target",
            f"127.0.0.1:{port.port}/tcp",
            "--target",
            f"127.0.0.1:{steady.port}/tcp",
            "--repeat",
            "2",
            "--interval",
            "0.3",
            "--timeout",
            "0.5",
            "--json",
        )
    flapping = result.endpoint("127.0.0.1", port.port)
    assert "endpoint.flapping" in codes(flapping)
    assert flapping["rounds"] == [["tcp.open"], ["tcp.refused"]]
    assert codes(result.endpoint("127.0.0.1", steady.port)) == {"tcp.open"}


def _syn_sent_to(port: int) -> bool:
    """Whether some socket on this machine waits for an answer to its SYN to `port`
    (state SYN_SENT in /proc/net/tcp): the run has reached the dropping port."""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[3] == "02" and int(fields[2].split(":")[1], 16) == port:
                return True
    return False


def test_ctrl_c_ends_the_run_with_what_was_gathered() -> None:
    finished = threading.Event()

    def until_closed(conn: socket.socket) -> None:
        # netdiag closes its connection once it has recorded the endpoint: the server's
        # accept alone came before that, and a Ctrl-C in between found it unfinished.
        conn.recv(1)
        finished.set()

    with DroppingPort() as dropping, Server(until_closed) as open_port:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "netdiag", "check", "--json", "--timeout", "30",
                "--target", f"127.0.0.1:{open_port.port}/tcp",
                "--target", f"127.0.0.1:{dropping.port}/tcp",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            # Signals, not sleeps: the open endpoint was checked, the other one hangs.
            assert finished.wait(30), "netdiag never finished the open endpoint"
            for _ in range(300):  # bounded: 30 s
                if _syn_sent_to(dropping.port):
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("netdiag never sent its SYN to the dropping port")
            started = time.monotonic()
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=10)
        finally:
            process.kill()
            process.communicate()
        stopped_in = time.monotonic() - started
    assert stopped_in < 5, "Ctrl-C must end a run with a 30 s timeout at once"
    assert process.returncode == 3, stderr
    import json

    report = json.loads(stdout)
    assert_never_ok_unless_checked(report)
    assert report["interrupted"] is True
    by_port = {e["port"]: e for e in report["endpoints"]}
    assert codes(by_port[open_port.port]) == {"tcp.open"}
    assert codes(by_port[dropping.port]) == {"run.incomplete"}
    assert by_port[dropping.port]["status"] == "unknown"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--target", "nonsense"], "expected HOST:PORT/SERVICE"),
        (["check", "--target", "h:25/carrier-pigeon"], "unknown service"),
        (["check", "--resolver", "not-an-ip", "--target", "127.0.0.1:1"], "--resolver"),
        (["check", "--profile", "/nonexistent/profile.toml"], "cannot read profile"),
        (["check", "--timeout", "-1", "--target", "127.0.0.1:1"], "--timeout"),
        (["check", "--only", "nothing-matches-this"], "no endpoint matches"),
        (["check", "--no-system-resolver"], "needs at least one --resolver"),
        (["check", "--no-such-option"], "No such option"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_3(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 3
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is = = not toml", "is not valid TOML"),
        ("name = 'x'\n", "no [[endpoints]] table"),
        ("[[endpoints]]\nhost = 'a.example'\nport = 70000\n", "port must be a number"),
        ("[[endpoints]]\nhost = 'bad host!'\nport = 25\n", "neither a host name"),
        ("[[endpoints]]\nhost = 'a.example'\nport = 25\nservice = 'x'\n", "unknown service"),
        (
            "expected_networks = ['nope']\n[[endpoints]]\nhost = 'a.example'\nport = 25\n",
            "not a network",
        ),
    ],
)
def test_a_bad_profile_gives_one_line_and_exit_code_3(
    tmp_path: Path, content: str, message: str
) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text(content, "utf-8")
    result = run_cli("check", "--profile", str(profile))
    assert result.exit_code == 3
    assert message in result.stderr
    assert str(profile) in result.stderr


def test_check_firewall_fortigate_prints_the_rule_for_a_dropped_port(tmp_path: Path) -> None:
    """Port 25 dropped on all six mail hosts: `--firewall fortigate` prints FortiOS objects
    for the six hosts and a policy for exactly that port — and without it, the offer."""
    zone = {f"mail{n}.dicommail.com": addresses("127.0.0.1") for n in range(1, 7)}
    with DroppingPort() as dropped, DnsServer(zone) as dns_server:
        hosts = ", ".join(f'"mail{n}.dicommail.com"' for n in range(1, 7))
        profile = tmp_path / "mail.toml"
        profile.write_text(
            f'name = "mail"\nexpected_networks = ["127.0.0.0/8"]\n[[endpoints]]\n'
            f'hosts = [{hosts}]\nport = {dropped.port}\nservice = "tcp"\n',
            "utf-8",
        )
        common = ["check", "--profile", str(profile), "--no-system-resolver"]
        common += ["--resolver", dns_server.spec, "--timeout", "0.5"]
        chosen = run_cli(*common, "--firewall", "fortigate")
        offered = run_cli(*common)
    out = chosen.stdout
    assert "config firewall address" in out
    for n in range(1, 7):
        assert f'set fqdn "mail{n}.dicommail.com"' in out
    assert f"set tcp-portrange {dropped.port}" in out and chosen.exit_code == 2
    assert "--firewall fortigate|panos|checkpoint|sophos|opnsense|pfsense|asa" in offered.stdout
    assert "config firewall address" not in offered.stdout
    wrong = run_cli(*common, "--firewall", "cisco-pix")
    assert wrong.exit_code == 3 and "--firewall 'cisco-pix'" in wrong.stderr
