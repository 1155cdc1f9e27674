"""The cause, not the symptom: real servers behind a device that cuts ClientHellos by the
server name, by offering TLS 1.3, or by size — netdiag runs the experiments itself and
names the cause; and the twins: a healthy path runs no experiment and opens one connection
per endpoint, a server that genuinely does not speak TLS 1.3 is no blocking device, a
server's own alert is no filter, a device that cuts everything stays the symptom."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.integration.tls_fixtures import check, serving, vendor_pins
from tests.servers.base import Handler
from tests.servers.dns import DnsServer
from tests.servers.hello_filter import HelloFilter, Policy
from tests.servers.mail import (
    HttpsHandler,
    Pop3Handler,
    SilentAfterTlsHandler,
    SmtpHandler,
    TlsPolicy,
    server_context,
)
from tests.servers.pki import Pki

MAIL1 = "mail1.dicommail.com"
MAIL3 = "mail3.dicommail.com"
ATLAS = "atlas79.mydhp.de"
TLS13 = TlsPolicy()
TLS12 = TlsPolicy(max_version=ssl.TLSVersion.TLSv1_2)


@pytest.fixture(scope="module")
def files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("experiments")
    return pki.client_pem(folder), vendor_pins(pki, folder)


def run(
    dns_server: DnsServer, files: tuple[Path, Path], *targets: str, cert: bool = True
) -> CliResult:
    client, pins = files
    extra = [arg for t in targets[1:] for arg in ("--target", t)]
    if cert:
        extra += ["--cert", str(client)]
    return check(dns_server, targets[0], "--pins", str(pins), *extra)


@contextmanager
def behind(handler: Handler, policy: Policy) -> Iterator[HelloFilter]:
    """The real server, and the device in front of it."""
    with serving(handler) as server, HelloFilter(server.port, policy) as device:
        yield device


def pop3(pki: Pki, policy: TlsPolicy = TLS13) -> Handler:
    return Pop3Handler(server_context(pki, policy), policy)


def endpoint(result: CliResult, host: str) -> dict:  # type: ignore[type-arg]
    return next(e for e in result.json()["endpoints"] if e["host"] == host)


def codes(found: dict) -> list[str]:  # type: ignore[type-arg]
    return [f["code"] for f in found["findings"]]


def experiments(found: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {x["kind"]: x["answer"] for x in found["observations"]["experiments"]}


def test_a_filter_by_server_name_is_named(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    """POP3S: handshakes naming mail3 are reset, the same address answers mail1."""
    with behind(pop3(pki), Policy(blocked_names=(MAIL3,))) as device:
        result = run(
            dns_server, files, f"{MAIL3}:{device.port}/pop3s", f"{MAIL1}:{device.port}/pop3s"
        )
    assert result.exit_code == 2, result.stderr
    blocked = endpoint(result, MAIL3)
    assert codes(blocked)[0] == "tls.sni_filtered", blocked["findings"]
    assert "tls.handshake_failed" not in codes(blocked)
    cause = blocked["findings"][0]
    assert f"answers the name {MAIL1}" in cause["summary"] and cause["subject"] == ""
    found = experiments(blocked)
    assert found["same_hello"] == "reset" and found["other_name"] == "server_hello"
    assert found["no_name"] == "server_hello"
    sent = {x["kind"]: x["sent"] for x in blocked["observations"]["experiments"]}
    assert sent["other_name"].startswith(f"ClientHello (SNI {MAIL1}, TLS 1.2-1.3, ")
    # The cause sentence an administrator reads first says it.
    assert "by the server name" in result.json()["causes"][0]["sentence"]["en"]
    # The healthy twin on the same device ran no experiment.
    healthy = endpoint(result, MAIL1)
    assert healthy["observations"]["experiments"] == [] and "tls.pinned" in codes(healthy)


def test_a_filter_by_server_name_on_starttls(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    """SMTP: the experiments run the STARTTLS prelude before their hello."""
    with behind(
        SmtpHandler(server_context(pki, TLS13), TLS13), Policy(blocked_names=(MAIL3,))
    ) as device:
        result = run(
            dns_server,
            files,
            f"{MAIL3}:{device.port}/smtp-starttls",
            f"{MAIL1}:{device.port}/smtp-starttls",
        )
    blocked = endpoint(result, MAIL3)
    assert codes(blocked)[0] == "tls.sni_filtered", blocked["findings"]
    assert experiments(blocked)["other_name"] == "server_hello"


def test_a_device_that_blocks_tls13_is_named(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(
        HttpsHandler(server_context(pki, TLS13), TLS13), Policy(blocks_tls13=True)
    ) as device:
        result = run(dns_server, files, f"{ATLAS}:{device.port}/tls")
    found = endpoint(result, ATLAS)
    assert codes(found)[0] == "tls.version_blocked", found["findings"]
    answers = experiments(found)
    assert answers["tls12_only"] == "server_hello" and answers["tls13_only"] == "reset"
    assert answers["small_hello"] == "reset"


def test_a_device_that_chokes_on_large_hellos_is_named(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(pop3(pki), Policy(max_hello=300)) as device:
        result = run(dns_server, files, f"{MAIL3}:{device.port}/pop3s")
    found = endpoint(result, MAIL3)
    assert codes(found)[0] == "tls.hello_intolerant", found["findings"]
    assert experiments(found)["small_hello"] == "server_hello"
    assert max(h.size for h in device.hellos) > 300  # the full hello was the one cut


def test_a_device_that_drops_named_hellos_silently_is_named_too(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(pop3(pki), Policy(blocked_names=(MAIL3,), silent=True)) as device:
        result = run(
            dns_server, files, f"{MAIL3}:{device.port}/pop3s", f"{MAIL1}:{device.port}/pop3s"
        )
    blocked = endpoint(result, MAIL3)
    assert codes(blocked)[0] == "tls.sni_filtered", blocked["findings"]
    assert experiments(blocked)["same_hello"] == "silence"


# The twins ------------------------------------------------------------------------------


def test_a_healthy_path_runs_no_experiment_and_one_connection_per_endpoint(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(pop3(pki), Policy()) as device:
        result = run(
            dns_server, files, f"{MAIL3}:{device.port}/pop3s", f"{MAIL1}:{device.port}/pop3s"
        )
        accepted = device.accepted
    assert result.exit_code == 0, result.stdout
    for host in (MAIL1, MAIL3):
        assert endpoint(result, host)["observations"]["experiments"] == []
    assert accepted == 2  # one connection per endpoint address, nothing more


def test_a_server_without_tls13_is_no_blocking_device(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(HttpsHandler(server_context(pki, TLS12), TLS12), Policy()) as device:
        result = run(dns_server, files, f"{ATLAS}:{device.port}/tls")
    found = endpoint(result, ATLAS)
    assert "tls.version_blocked" not in codes(found) and result.exit_code == 0, found["findings"]
    assert found["observations"]["experiments"] == []


def test_a_servers_own_alert_is_no_filter(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    """A server that requires the client certificate says so with an alert (TLS 1.2):
    a stated refusal, no experiment."""
    with behind(pop3(pki, TLS12), Policy()) as device:
        result = run(dns_server, files, f"{MAIL3}:{device.port}/pop3s", cert=False)
    found = endpoint(result, MAIL3)
    assert found["observations"]["experiments"] == []
    assert not {"tls.sni_filtered", "tls.version_blocked", "tls.hello_intolerant"} & set(
        codes(found)
    )


def test_a_device_that_cuts_every_handshake_stays_the_symptom(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    with behind(pop3(pki), Policy(blocks_all=True)) as device:
        result = run(
            dns_server, files, f"{MAIL3}:{device.port}/pop3s", f"{MAIL1}:{device.port}/pop3s"
        )
    found = endpoint(result, MAIL3)
    assert not {"tls.sni_filtered", "tls.version_blocked", "tls.hello_intolerant"} & set(
        codes(found)
    )
    failed = next(f for f in found["findings"] if f["code"] == "tls.handshake_failed")
    evidence = "\n".join(failed["evidence"])
    assert "so was every variant" in evidence
    assert set(experiments(found).values()) == {"reset"}


def test_a_device_that_removes_tls13_from_the_hello_is_named_by_the_servers_marker(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    """The device rewrites the hello to TLS 1.2; the TLS 1.3 server answers 1.2 with its
    RFC 8446 downgrade marker, which OpenSSL refuses. The twin: a server that speaks no
    TLS 1.3, through the same device untouched, answers 1.2 without a marker — healthy."""
    with behind(pop3(pki), Policy(strips_tls13=True)) as device:
        result = run(dns_server, files, f"{MAIL1}:{device.port}/pop3s")
    assert result.exit_code == 2, result.stderr
    rewritten = endpoint(result, MAIL1)
    assert codes(rewritten)[-1] == "tls.downgraded", rewritten["findings"]
    assert "tls.handshake_failed" not in codes(rewritten)
    assert "removes TLS 1.3" in result.json()["causes"][0]["sentence"]["en"]
    with behind(pop3(pki, TLS12), Policy()) as device:
        result = run(dns_server, files, f"{MAIL1}:{device.port}/pop3s")
    assert result.exit_code == 0, result.stderr
    healthy = endpoint(result, MAIL1)
    assert "tls.downgraded" not in codes(healthy) and "tls.pinned" in codes(healthy)
    assert healthy["observations"]["protocol"]["tls"]["version"] == "TLSv1.2"


def test_a_server_silent_after_the_certificate_is_no_mtu_black_hole(
    pki: Pki, dns_server: DnsServer, files: tuple[Path, Path]
) -> None:
    """POP3S that takes the handshake and the certificate, then says nothing: the session
    went silent once the certificate was sent, so the control and the big hello (1600
    bytes, padded; once in one write, once in small segments) run — a real OpenSSL server
    answers them all (the padding is ignored, large packets pass on loopback), and nothing
    is convicted: the symptom stays, with what the
    big hello proved. The twin of tests/netns/test_real_servers.py's black hole."""
    silent = SilentAfterTlsHandler(server_context(pki, TLS13), TLS13)
    with serving(silent) as server:
        client, pins = files
        result = check(
            dns_server, f"{MAIL1}:{server.port}/pop3s", "--pins", str(pins),
            "--cert", str(client), timeout="1.5",
        )  # fmt: skip
    found = endpoint(result, MAIL1)
    assert "path.mtu_blackhole" not in codes(found), found["findings"]
    assert experiments(found) == {
        "same_hello": "server_hello",
        "big_hello": "server_hello",
        "big_hello_split": "server_hello",
    }
    big = next(x for x in found["observations"]["experiments"] if x["kind"] == "big_hello")
    assert big["hello_bytes"] == 1600 and "padded" in big["sent"]
    (symptom,) = [f for f in found["findings"] if f["code"] == "pop3.protocol_error"]
    assert any("large packets arrive" in line for line in symptom["evidence"]), symptom
    assert result.exit_code == 2
