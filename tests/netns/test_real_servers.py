"""netdiag against the vendor's site in real software (`tests.netns.real_site`: dnsmasq,
Postfix, Dovecot, nginx) behind a router: the healthy site is clean, and what the real
daemons do in the worlds a hand-made server only imitates is read as what it is — a wrong
mailbox password that Dovecot answers ever more slowly, Postfix's limits on connections per
client (a rate, and a count that only the run's own parallel sessions meet)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_never_ok_unless_checked, codes
from tests.netns.real_site import PACKAGES, PASSWORD, RealVendorSite
from tests.netns.topology import Topology, require_netns
from tests.netns.vendor import DNS, SMTP_SPLIT, TLS_SPLIT, Sslsplit, redirect_rules

# One Postfix world at a time in a worker is plenty; each has its own queue and directory.
pytestmark = [pytest.mark.netns, pytest.mark.xdist_group("real_servers")]


def check(path: Topology, site: RealVendorSite, *more: str) -> tuple[int, dict[str, Any]]:
    args = ["check", "--json", "--no-system-resolver", "--resolver", DNS, "--timeout", "5"]
    args += ["--expect-network", "198.18.0.0/15", "--cert", str(site.client)]
    args += ["--pins", str(site.pins), *more]
    result = path.netdiag(*args, timeout=120)
    assert result.stdout, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert_never_ok_unless_checked(report)
    return result.returncode, report


def by_port(report: dict[str, Any], port: int) -> list[dict[str, Any]]:
    return [e for e in report["endpoints"] if e["port"] == port]


def test_the_vendor_site_in_real_software_is_clean(tmp_path: Path) -> None:
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path) as site:
        code, report = check(path, site)
    assert code == 0, report["causes"]
    assert len(report["endpoints"]) == 13
    for endpoint in report["endpoints"]:
        assert endpoint["status"] == "ok" and "tls.pinned" in codes(endpoint), endpoint


def test_a_mail_store_dovecot_cannot_write_is_a_mailbox_it_cannot_open(tmp_path: Path) -> None:
    """Dovecot takes the login ('+OK Logged in.'), its mail process cannot create the
    mailbox, says '-ERR [SYS/TEMP] Internal error occurred' and ends the session: the
    password was good, the mailbox unusable — pop3.mailbox_unavailable on every server,
    the vendor's matter; never 'working', never a protocol error. (The twin is the clean
    world with a login: a writable store, STAT +OK.)"""
    require_netns(*PACKAGES, packages=PACKAGES)
    (tmp_path / "right").write_text(PASSWORD + "\n")
    login = ["--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "right")]
    with Topology("", []) as path, RealVendorSite(path) as site:
        shutil.chown(site.directory / "mail", "root", "root")
        code, report = check(path, site, *login)
        dovecot = site.log("dovecot.log")
    found = [c for e in by_port(report, 995) for c in codes(e)]
    assert found.count("pop3.mailbox_unavailable") == 6, found
    assert not any(c in found for c in ("pop3.login_failed", "pop3.protocol_error")), found
    assert "Failed to autocreate mailbox" in dovecot
    assert code == 2 and [c["code"] for c in report["causes"]] == ["pop3.mailbox_unavailable"]
    assert not any(e.endswith(":995") for e in report["working"]), report["working"]


def test_a_wrong_mailbox_password_is_one_failed_login_at_dovecot(tmp_path: Path) -> None:
    """Dovecot answers a failed login after 2 s and each further one from this address
    later: sent to all six at once, five answers came after the step's timeout and read
    as 'the peer does not speak POP3'. Now one server gets the password, the others are
    spared it, and Dovecot logs one failure. The twin: the right password, six logins."""
    require_netns(*PACKAGES, packages=PACKAGES)
    (tmp_path / "wrong").write_text("not-" + PASSWORD + "\n")
    (tmp_path / "right").write_text(PASSWORD + "\n")
    login = ["--pop3-user", "gateway"]
    with Topology("", []) as path, RealVendorSite(path) as site:
        code, report = check(path, site, *login, "--pop3-password-file", str(tmp_path / "wrong"))
        failures = site.log("dovecot.log").count("auth failed")
        right_code, right = check(
            path, site, *login, "--pop3-password-file", str(tmp_path / "right")
        )
        logins = site.log("dovecot.log").count("Login: user=<gateway>")
    found = [c for e in by_port(report, 995) for c in codes(e)]
    assert code == 2 and failures == 1, (failures, found)
    assert found.count("pop3.login_not_repeated") == 5, found
    (cause,) = report["causes"]
    assert cause["code"] == "pop3.login_failed" and len(cause["endpoints"]) == 1, cause
    assert len(cause["likely"]) == 5
    assert not any(e.endswith(":995") for e in report["working"]), report["working"]
    assert "pop3.protocol_error" not in found
    assert all(e["status"] == "ok" for e in by_port(report, 25) + by_port(report, 8140))
    assert right_code == 0 and logins == 6, right["causes"]
    # And each mailbox opened: STAT after the login, +OK from Dovecot's mail process.
    assert all(
        e["observations"]["protocol"]["mailbox"]["status"] == "+OK" for e in by_port(right, 995)
    )


def test_postscreen_before_postfix_is_a_healthy_site() -> None:
    """Postfix's postscreen in front of smtpd, as mail providers run it: '220-' at once,
    the rest of the greeting after its greet wait (6 s, past netdiag's 5 s step), and a
    client that talks before it ends fails the pregreet test (PREGREET in the log). netdiag
    waits without a word: the pause is the server's (info), never smtp.slow_banner, and
    postscreen passes it. (The twin, a banner late as a whole, is smtp.slow_banner:
    tests/integration/test_check_tls.py.)"""
    require_netns(*PACKAGES, packages=PACKAGES)
    postfix = "postscreen_greet_action = enforce"
    with Topology("", []) as path, RealVendorSite(path, postfix, postscreen=True) as site:
        code, report = check(path, site)
        log = site.log("postfix.log")
    assert "postscreen" in log and "PASS NEW" in log, log[-2000:]
    assert "PREGREET" not in log, log[-2000:]
    assert code == 0, report["causes"]
    for endpoint in by_port(report, 25):
        assert {"smtp.greeting_pause", "tls.pinned"} <= codes(endpoint), codes(endpoint)
        assert "smtp.slow_banner" not in codes(endpoint)


def test_an_nginx_that_speaks_only_tls_1_0_and_1_1_is_named_for_it() -> None:
    """nginx with TLSv1 and TLSv1.1 only refuses netdiag's hello (1.2 and 1.3) with
    protocol_version, and answers a hello of TLS 1.2 only with a TLS 1.1 ServerHello: the
    experiments (the control, 1.2 only, 1.3 only, 1.0-1.1) name it tls.version_outdated,
    never a device that blocks TLS 1.3; no name experiment; the other ports stay clean."""
    require_netns(*PACKAGES, packages=PACKAGES)
    old = "ssl_protocols TLSv1 TLSv1.1; ssl_ciphers DEFAULT:@SECLEVEL=0;"
    with Topology("", []) as path, RealVendorSite(path, nginx=old) as site:
        code, report = check(path, site)
    assert code == 2
    (atlas,) = by_port(report, 8140)
    assert "tls.version_outdated" in codes(atlas), atlas["findings"]
    assert not {"tls.version_blocked", "tls.handshake_failed"} & codes(atlas)
    ran = {e["kind"]: e["answer"] for e in atlas["observations"]["experiments"]}
    assert ran == {
        "same_hello": "alert",
        "tls12_only": "other_version",
        "tls13_only": "alert",
        "old_tls": "server_hello",
    }
    assert [c["code"] for c in report["causes"]] == ["tls.version_outdated"]
    for endpoint in [*by_port(report, 25), *by_port(report, 995)]:
        assert endpoint["status"] == "ok", endpoint["findings"]


def test_an_nginx_without_tls_on_8140_is_said_and_no_proxy_is_convicted() -> None:
    """The twin of the transparent web proxy (tests/netns/test_squid_bump.py): the vendor's
    own nginx speaking plain HTTP on 8140 answers the hello with its 400 as Squid does —
    but names no proxy the catalogue knows, so nothing is said of a redirect: the handshake's
    failure stays, with what answered and both causes it leaves."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path, nginx_tls=False) as site:
        code, report = check(path, site)
    assert code == 2
    (atlas,) = by_port(report, 8140)
    assert "trace.transparent_proxy" not in codes(atlas), atlas["findings"]
    (failed,) = [f for f in atlas["findings"] if f["code"] == "tls.handshake_failed"]
    said = next(line for line in failed["evidence"] if line.startswith("experiments:"))
    assert "answered in HTTP" in said and "Server: 'nginx" in said, said
    assert "or the server itself without TLS on this port" in said, said
    assert [c["code"] for c in report["causes"]] == ["tls.handshake_failed"]


def test_an_nginx_without_tls_1_3_is_healthy_and_runs_no_experiment() -> None:
    """The twin: nginx with TLS 1.2 only answers the full hello in 1.2 — no refusal, no
    experiment, nothing about versions."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology("", []) as path, RealVendorSite(path, nginx="ssl_protocols TLSv1.2;") as site:
        code, report = check(path, site)
    assert code == 0, report["causes"]
    (atlas,) = by_port(report, 8140)
    assert "tls.pinned" in codes(atlas) and atlas["observations"]["experiments"] == []
    assert atlas["observations"]["protocol"]["tls"]["version"] == "TLSv1.2"


def test_postfix_limiting_connections_per_client_is_throttling(tmp_path: Path) -> None:
    """Postfix's anvil allows this client three connections a minute: the other mail
    hosts' 421 is smtp.throttled (WARN: the server said 'later'), never a TLS or protocol
    verdict, and the ports that were not limited stay clean."""
    require_netns(*PACKAGES, packages=PACKAGES)
    limit = "smtpd_client_connection_rate_limit = 3\nanvil_rate_time_unit = 60s"
    with Topology("", []) as path, RealVendorSite(path, postfix=limit) as site:
        code, report = check(path, site)
    smtp = by_port(report, 25)
    throttled = [e for e in smtp if "smtp.throttled" in codes(e)]
    assert code == 1 and len(throttled) == 3, [codes(e) for e in smtp]
    for endpoint in smtp:
        assert endpoint in throttled or endpoint["status"] == "ok", endpoint
        assert not any(c.startswith(("tls.handshake", "smtp.protocol")) for c in codes(endpoint))
    assert all(e["status"] == "ok" for e in by_port(report, 995) + by_port(report, 8140))
    # Refused among the run's other sessions, each was tried again alone after the round,
    # and a rate limit refuses that too: the refusal stands, the lone try in its evidence.
    for endpoint in throttled:
        assert endpoint["observations"]["retried_alone"] is True
        assert "smtp.connection_limit" not in codes(endpoint)
        (finding,) = [f for f in endpoint["findings"] if f["code"] == "smtp.throttled"]
        assert any("alone" in line and "refused again" in line for line in finding["evidence"])


def test_postfix_limiting_simultaneous_connections_meets_only_our_own_probes() -> None:
    """Postfix's anvil allows this client one connection at a time: netdiag's six SMTP
    sessions at once meet it (421 'too many connections') as far as Postfix runs them at
    once; tried again alone after the round, every one is taken — the site is healthy, exit
    0, and the limit is named as what it is (`smtp.connection_limit`, info, with Postfix's
    words), never throttling. (How many sessions Postfix runs at once depends on how fast
    its master starts smtpd processes on a loaded machine: the limit met at all is forced
    on loopback, tests/integration/test_verdict_trust.py.)"""
    require_netns(*PACKAGES, packages=PACKAGES)
    limit = "smtpd_client_connection_count_limit = 1"
    with Topology("", []) as path, RealVendorSite(path, postfix=limit) as site:
        code, report = check(path, site)
    assert code == 0, report["causes"]
    assert all(e["status"] == "ok" for e in report["endpoints"]), report["causes"]
    smtp = by_port(report, 25)
    met = [e for e in smtp if "smtp.connection_limit" in codes(e)]
    for endpoint in smtp:
        assert "tls.pinned" in codes(endpoint), endpoint["findings"]
        assert not {"smtp.throttled", "endpoint.intermittent"} & codes(endpoint)
    for endpoint in met:
        assert endpoint["observations"]["retried_alone"] is True
        (finding,) = [f for f in endpoint["findings"] if f["code"] == "smtp.connection_limit"]
        assert "too many connections from" in finding["summary"], finding


# The gateway's own mail software, fetching: one POP3 session that holds the mailbox.
HOLDER = """
import poplib, ssl, sys, time
context = ssl.create_default_context(cafile=sys.argv[2])
context.load_cert_chain(sys.argv[1])
context.check_hostname = False
session = poplib.POP3_SSL("198.18.2.11", 995, context=context, timeout=10)
session.user("gateway")
print(session.pass_(sys.stdin.readline().strip()).decode(), flush=True)
sys.stdin.readline()  # held until the test lets go
session.quit()
"""


def test_a_mailbox_held_by_the_gateways_own_session_is_in_use_not_broken(tmp_path: Path) -> None:
    """Dovecot with pop3_lock_session: while another POP3 session (the gateway's mail
    software) holds the mailbox, a login gets '-ERR [IN-USE] Mailbox is locked by another
    POP3 session' after its lock wait, and the session is closed. The password was good:
    pop3.mailbox_in_use (WARN) on every server, never a failed login, and the close after it
    is no protocol error."""
    require_netns(*PACKAGES, packages=PACKAGES)
    (tmp_path / "right").write_text(PASSWORD + "\n")
    login = ["--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "right")]
    with Topology("", []) as path, RealVendorSite(path, dovecot="pop3_lock_session = yes") as site:
        with subprocess.Popen(
            ["ip", "netns", "exec", path.client, sys.executable, "-c", HOLDER,
             str(site.client), str(site.directory / "vendor-ca.pem")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        ) as holder:  # fmt: skip
            assert holder.stdin is not None and holder.stdout is not None
            try:
                holder.stdin.write(PASSWORD + "\n")
                holder.stdin.flush()
                assert holder.stdout.readline().startswith("+OK"), site.log("dovecot.log")
                code, report = check(path, site, *login)
            finally:
                holder.stdin.write("\n")
                holder.stdin.close()
                holder.wait(timeout=15)
    found = [c for e in by_port(report, 995) for c in codes(e)]
    assert found.count("pop3.mailbox_in_use") == 6, found
    assert not any(c in found for c in ("pop3.login_failed", "pop3.protocol_error")), found
    assert code == 1, report["causes"]
    assert [c["code"] for c in report["causes"]] == ["pop3.mailbox_in_use"]
    assert all(e["status"] == "ok" for e in by_port(report, 25) + by_port(report, 8140))


def test_netdiags_own_sessions_never_read_as_a_busy_mailbox(tmp_path: Path) -> None:
    """The twin of the held mailbox: Dovecot locking the POP3 session and allowing one
    connection per user and address. netdiag's six logins take turns (RFC 1939 8), so each
    opens the mailbox: exit 0, six logins, no [IN-USE]."""
    require_netns(*PACKAGES, packages=PACKAGES)
    (tmp_path / "right").write_text(PASSWORD + "\n")
    login = ["--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "right")]
    strict = "pop3_lock_session = yes\nmail_max_userip_connections = 1"
    with Topology("", []) as path, RealVendorSite(path, dovecot=strict) as site:
        code, report = check(path, site, *login)
        logins = site.log("dovecot.log").count("Login: user=<gateway>")
    assert code == 0 and logins == 6, report["causes"]
    assert all(
        e["observations"]["protocol"]["mailbox"]["status"] == "+OK" for e in by_port(report, 995)
    )


def test_behind_a_real_interceptor_the_password_never_reaches_dovecot(tmp_path: Path) -> None:
    """sslsplit on the router intercepts 995 and would pass whatever it is sent on to the
    real Dovecot: the chain is unproven, so the mailbox password is withheld — Dovecot logs
    no login and no failure, and sslsplit never sees it. The twin is the clean world above:
    the same password, six logins."""
    require_netns("sslsplit", *PACKAGES, packages=PACKAGES)
    (tmp_path / "right").write_text(PASSWORD + "\n")
    login = ["--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "right")]
    with (
        Topology(redirect_rules((995,)), []) as path,
        RealVendorSite(path) as site,
        Sslsplit(path, tmp_path),
    ):
        code, report = check(path, site, *login)
        dovecot = site.log("dovecot.log")
    assert code == 2
    for endpoint in by_port(report, 995):
        found = codes(endpoint)
        assert "tls.intercepted" in found and "pop3.login_withheld" in found, found
        assert "pop3.login_failed" not in found, found
    # Dovecot names the user of every login it was sent, accepted or not.
    assert "user=<gateway>" not in dovecot and "auth failed" not in dovecot, dovecot[-600:]
    assert all(e["status"] == "ok" for e in by_port(report, 25) + by_port(report, 8140))


def test_sslsplit_listening_for_tls_on_25_too_is_the_same_device_there(tmp_path: Path) -> None:
    """sslsplit's `ssl` listener (not `autossl`) behind 25 as behind 995 and 8140, as a
    naive set-up has it: it waits for a ClientHello, so Postfix's banner never comes, and a
    hello sent at once is cut when Postfix answers sslsplit's upstream hello with its banner.
    995 and 8140 are proven intercepted; 25 is most likely the same device (inferred, one
    cause). The twins of the rule are table rows (tests/unit/test_hello_at_once.py)."""
    require_netns("sslsplit", *PACKAGES, packages=PACKAGES)
    rules = redirect_rules((25, 995, 8140)).replace(f":{SMTP_SPLIT}", f":{TLS_SPLIT}")
    with Topology(rules, []) as path, RealVendorSite(path) as site, Sslsplit(path, tmp_path):
        code, report = check(path, site)
    assert code == 2
    for endpoint in by_port(report, 25):
        (found,) = [f for f in endpoint["findings"] if f["code"] == "tls.intercepted"]
        assert "likely intercepted by the same device" in found["summary"], found
        assert "smtp.slow_banner" in codes(endpoint)
    for endpoint in by_port(report, 995) + by_port(report, 8140):
        assert "tls.intercepted" in codes(endpoint), endpoint["findings"]
    [cause] = report["causes"]
    assert cause["code"] == "tls.intercepted", report["causes"]
    assert sorted(e.split(":")[1] for e in cause["likely"]) == ["25"] * 6, cause


# A tunnel that carries nothing larger than 1000 bytes from the gateway and says nothing
# about it (no ICMP 'fragmentation needed'): the router drops such packets silently.
LARGE_PACKETS_LOST = """table ip netdiag_mtu {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip saddr 198.18.1.0/24 meta length > 1000 drop
    }
}
"""


def test_the_gateways_large_packets_lost_on_the_way_are_a_path_mtu_black_hole() -> None:
    """The servers' chains come, the gateway's certificate (its first flight larger than
    1000 bytes) never arrives: Postfix and Dovecot (TLS 1.3) say nothing after the
    handshake, nginx's handshake stalls. Every endpoint is path.mtu_blackhole (detail
    "sent": the hello padded past one packet got no answer, the same hello in small
    segments and the hello unpadded did),
    never "the peer does not speak SMTP/POP3"; the chain's own verdict stands beside it.
    The twin on loopback: a server silent after the certificate while large packets pass
    (tests/integration/test_experiments.py)."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology(LARGE_PACKETS_LOST, []) as path, RealVendorSite(path) as site:
        code, report = check(path, site)
    assert code == 2, report["causes"]
    assert [c["code"] for c in report["causes"]] == ["path.mtu_blackhole"], report["causes"]
    for endpoint in report["endpoints"]:
        found = {f["code"]: f for f in endpoint["findings"]}
        assert "path.mtu_blackhole" in found, endpoint["findings"]
        assert found["path.mtu_blackhole"]["detail"] == "sent"
        assert not {"smtp.protocol_error", "pop3.protocol_error", "tls.handshake_stalled"} & set(
            found
        ), endpoint["findings"]
        answers = {x["kind"]: x["answer"] for x in endpoint["observations"]["experiments"]}
        assert answers == {
            "same_hello": "server_hello",
            "big_hello": "silence",
            "big_hello_split": "server_hello",
        }, answers


# The same tunnel the other way: nothing larger than 1000 bytes from the vendor's side.
LARGE_PACKETS_LOST_ON_THE_WAY_BACK = LARGE_PACKETS_LOST.replace("198.18.1.0/24", "198.18.2.0/24")


def test_the_servers_large_packets_lost_on_the_way_back_are_a_path_mtu_black_hole() -> None:
    """The servers' first flight (ServerHello and chain, more than one packet) never
    arrives: every hello goes unanswered, every variant too — but the same hello on a
    connection whose SYN asks for segments of at most 500 bytes is answered. Every
    endpoint is path.mtu_blackhole (detail "received"), never a stalled handshake of
    unknown cause; no chain came, so no chain verdict. Its twins: a device that drops
    every hello (tests/integration/test_experiments.py: small segments silent too)."""
    require_netns(*PACKAGES, packages=PACKAGES)
    with Topology(LARGE_PACKETS_LOST_ON_THE_WAY_BACK, []) as path, RealVendorSite(path) as site:
        code, report = check(path, site)
    assert code == 2, report["causes"]
    assert [c["code"] for c in report["causes"]] == ["path.mtu_blackhole"], report["causes"]
    for endpoint in report["endpoints"]:
        found = {f["code"]: f for f in endpoint["findings"]}
        assert set(found) == {"tcp.open", "path.mtu_blackhole"}, endpoint["findings"]
        assert found["path.mtu_blackhole"]["detail"] == "received"
        answers = {x["kind"]: x["answer"] for x in endpoint["observations"]["experiments"]}
        assert answers.pop("small_segments") == "server_hello", answers
        # No other hello got its ServerHello through (an alert, small, may come).
        assert answers.pop("same_hello") == "silence", answers
        assert set(answers.values()) <= {"silence", "alert"}, answers
