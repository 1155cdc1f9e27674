"""Start-up: a plain `netdiag check --json` imports what the run needs and nothing else —
no trace or MTU machinery, no capture, no firewall renderer, no HTML or bundle, no host
checks, no Windows readers, no signature code — so that a later change cannot pull them
back silently (issue 31). The set is pinned: a module added to it must be one every
plain run needs, and this list says so by being updated with it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

PLAIN_CHECK = {
    "netdiag", "netdiag.cli", "netdiag.cli.common", "netdiag.cli.groups", "netdiag.cli.pins",
    "netdiag.console", "netdiag.diagnosis", "netdiag.diagnosis.catalogue",
    "netdiag.diagnosis.causes", "netdiag.diagnosis.clock", "netdiag.diagnosis.completeness",
    "netdiag.diagnosis.dialogue", "netdiag.diagnosis.dns", "netdiag.diagnosis.hypotheses",
    "netdiag.diagnosis.place",
    "netdiag.diagnosis.interception", "netdiag.diagnosis.pop3", "netdiag.diagnosis.protocol",
    "netdiag.diagnosis.proxy", "netdiag.diagnosis.remedy_plan", "netdiag.diagnosis.round",
    "netdiag.diagnosis.smtp", "netdiag.diagnosis.tcp", "netdiag.diagnosis.tls",
    "netdiag.diagnosis.tlsport", "netdiag.errors", "netdiag.files", "netdiag.privacy",
    "netdiag.privacy.audit", "netdiag.privacy.own_flows", "netdiag.privacy.secret",
    "netdiag.probes", "netdiag.probes.deadline", "netdiag.probes.dialogue",
    "netdiag.probes.dns", "netdiag.probes.lines", "netdiag.probes.proxies",
    "netdiag.probes.serverhello", "netdiag.probes.tcp", "netdiag.probes.tls",
    "netdiag.probes.trust_store", "netdiag.renderers", "netdiag.renderers.json",
    "netdiag.renderers.summary", "netdiag.renderers.text", "netdiag.report",
    "netdiag.report.messages", "netdiag.report.model", "netdiag.report.observations",
    "netdiag.session", "netdiag.session.check", "netdiag.session.config",
    "netdiag.session.endpoint", "netdiag.session.proxies", "netdiag.session.resolution",
    "netdiag.session.runs", "netdiag.session.scheduler", "netdiag.session.setup",
    "netdiag.session.stores",
    "netdiag.session.trace_settings", "netdiag.session.warmup", "netdiag.settings",
    "netdiag.settings.config",
    "netdiag.settings.defaults", "netdiag.settings.host_requirements",
    "netdiag.settings.targets", "netdiag.trust", "netdiag.trust.chains",
    "netdiag.trust.identity", "netdiag.trust.model", "netdiag.trust.pins",
    "netdiag.trust.products", "netdiag.trust.proof", "netdiag.trust.stores",
}  # fmt: skip
# Never in a plain run, whatever else changes.
NEVER = (
    "netdiag.probes.trace", "netdiag.probes.mtu", "netdiag.probes.raw",
    "netdiag.probes.receiver", "netdiag.probes.capture", "netdiag.session.traces",
    "netdiag.diagnosis.trace", "netdiag.diagnosis.mtu", "netdiag.renderers.firewalls",
    "netdiag.renderers.html", "netdiag.renderers.bundle", "netdiag.probes.host",
    "netdiag.probes.windows", "netdiag.diagnosis.host", "netdiag.trust.cms",
    "netdiag.probes.hello", "netdiag.report.trace_observations",
    "netdiag.report.host_observations", "netdiag.probes.cut_sender",
    "netdiag.diagnosis.cut_sender", "scapy", "psutil", "pyasn1", "pyasn1_modules",
    "tabulate",
)  # fmt: skip

SCRIPT = """
import contextlib, io, json, sys
sys.argv = ["netdiag", "check", "--json", "--target", sys.argv[1]]
from netdiag.cli import main
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as done:
        code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imported_by_a_plain_check() -> tuple[int, set[str]]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                connection.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, f"127.0.0.1:{port}/tcp"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.strip().splitlines()[-1])
    return said["code"], set(said["modules"])


def test_a_plain_check_imports_the_pinned_set_and_nothing_it_does_not_need() -> None:
    code, modules = _imported_by_a_plain_check()
    assert code == 0
    ours = {m for m in modules if m == "netdiag" or m.startswith("netdiag.")}
    assert sorted(ours - PLAIN_CHECK) == [], "imported now, not pinned: needed by every run?"
    assert sorted(PLAIN_CHECK - ours) == [], "pinned, no longer imported: take it off the list"
    pulled = [m for m in NEVER if m in modules]
    assert pulled == []


def test_the_warm_up_prepares_what_the_round_needs_after_it() -> None:
    """In a fresh interpreter: the warm-up thread imports the judging and rendering modules
    and reads the product catalogue; a module that cannot be imported stops nothing."""
    code = (
        "import sys\n"
        "from netdiag.session.warmup import AFTER_THE_ROUND, start_warm_up\n"
        "before = [m for m in AFTER_THE_ROUND if m in sys.modules]\n"
        "start_warm_up(('netdiag.no_such_module', *AFTER_THE_ROUND)).join(30)\n"
        "from netdiag.trust.products import catalogue\n"
        "print(before, [m for m in AFTER_THE_ROUND if m not in sys.modules],"
        " catalogue.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["[]", "[]", "1"], done.stdout + done.stderr
