"""Captures hold netdiag's own packets and nothing else: a real "production" SMTP session
of another process to the same server and port during `check --capture` leaves not one
byte in the pcap, and ICMP errors about another process's connections are dropped while
those about netdiag's own are kept."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.netns.topology import Topology, require_netns

pytestmark = pytest.mark.netns

MARKERS = (b"PRODUCTION-EHLO-7f3a", b"PATIENT-STUDY-BODY-19c2")
PROHIBIT = 2603

# A plain SMTP server without STARTTLS, as a mail relay inside a hospital might be.
PLAIN_SMTP = textwrap.dedent(
    """
    import socket, sys, threading
    def serve(conn):
        f = conn.makefile("rwb")
        f.write(b"220 relay ESMTP\\r\\n"); f.flush()
        in_data = False
        for line in f:
            if in_data:
                if line.strip() == b".":
                    in_data = False
                    f.write(b"250 2.0.0 queued\\r\\n"); f.flush()
                continue
            word = line.strip().split(b" ")[0].upper()
            if word == b"EHLO":
                f.write(b"250-relay\\r\\n250 8BITMIME\\r\\n")
            elif word == b"DATA":
                in_data = True
                f.write(b"354 go ahead\\r\\n")
            elif word == b"QUIT":
                f.write(b"221 bye\\r\\n"); f.flush(); break
            elif word == b"STARTTLS":
                f.write(b"502 5.5.1 not offered\\r\\n")
            else:
                f.write(b"250 ok\\r\\n")
            f.flush()
        conn.close()
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 25)); s.listen(32)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    """
)

# The gateway's own mail software: sends mail in a loop (bounded) until told to stop.
PRODUCTION = textwrap.dedent(
    """
    import smtplib, sys, time
    server = sys.argv[1]
    print("ready", flush=True)
    body = "Subject: x\\r\\n\\r\\nPATIENT-STUDY-BODY-19c2\\r\\n"
    for n in range(200):
        with smtplib.SMTP(server, 25, local_hostname="PRODUCTION-EHLO-7f3a", timeout=5) as smtp:
            smtp.sendmail("a@hospital", ["b@vendor"], body)
        time.sleep(0.05)
    """
)

# Another process whose connections the router rejects: it prints its source ports.
REJECTED = textwrap.dedent(
    """
    import socket, sys, time
    server, port = sys.argv[1], int(sys.argv[2])
    print("ready", flush=True)
    for n in range(100):
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        print(s.getsockname()[1], flush=True)
        try:
            s.settimeout(1); s.connect((server, port))
        except OSError:
            pass
        s.close()
        time.sleep(0.05)
    """
)


def _background(path: Topology, namespace: str, script: str, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _stop(process: subprocess.Popen[str]) -> str:
    process.kill()
    out, _ = process.communicate(timeout=10)
    return out


def _check(path: Topology, directory: Path, *targets: str) -> dict[str, Any]:
    args = ["check", "--json", "--timeout", "2", "--capture", "--capture-dir", str(directory)]
    for target in targets:
        args += ["--target", target]
    result = path.netdiag(*args)
    assert result.stdout, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_another_processs_smtp_session_leaves_no_byte_in_the_pcap(tmp_path: Path) -> None:
    require_netns()
    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    with Topology("", []) as path:
        server = _background(path, path.server, PLAIN_SMTP)
        production = _background(path, path.client, PRODUCTION, path.server4)
        try:
            report = _check(path, tmp_path, f"{path.server4}:25/smtp-starttls")
        finally:
            _stop(production)
            _stop(server)
    (stats,) = report["capture_stats"]
    packets = rdpcap(stats["path"])
    assert len(packets) == stats["kept"] > 0
    assert stats["dropped"] > 0  # the production session was seen, and not written
    raw = Path(stats["path"]).read_bytes()
    for marker in MARKERS:
        assert marker not in raw
    # What was kept is netdiag's own session: its EHLO and the server's answer to STARTTLS.
    payload = b"".join(bytes(p[TCP].payload) for p in packets if p.haslayer(TCP))
    assert b"EHLO [198.18.1.2]" in payload and b"502 5.5.1 not offered" in payload
    codes = {f["code"] for f in report["endpoints"][0]["findings"]}
    assert "smtp.starttls_missing" in codes
    assert any("dropped" in note and "other processes" in note for note in report["notes"])


def test_icmp_errors_about_other_processes_are_dropped_ours_kept(tmp_path: Path) -> None:
    require_netns()
    from scapy.layers.inet import ICMP, TCPerror
    from scapy.utils import rdpcap

    rules = f"""
table inet netdiag_test {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        tcp dport {PROHIBIT} reject with icmpx type admin-prohibited
    }}
}}
"""
    with Topology(rules, []) as path:
        other = _background(path, path.client, REJECTED, path.server4, str(PROHIBIT))
        try:
            report = _check(path, tmp_path, f"{path.server4}:{PROHIBIT}/tcp")
        finally:
            others_ports = {int(line) for line in _stop(other).split() if line.isdigit()}
    assert "tcp.prohibited" in {f["code"] for f in report["endpoints"][0]["findings"]}
    (stats,) = report["capture_stats"]
    errors = [p for p in rdpcap(stats["path"]) if p.haslayer(ICMP) and p.haslayer(TCPerror)]
    assert errors, "the ICMP error for netdiag's own SYN must be kept"
    quoted = {int(p[TCPerror].sport) for p in errors}
    assert not quoted & others_ports
    assert stats["dropped"] > 0 and others_ports
