"""SMTP STARTTLS, POP3S and TLS on 8140 with client certificates, against real servers and
middleboxes on loopback. Every positive case has a negative twin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, codes
from tests.integration.tls_fixtures import check, only_endpoint, serving, vendor_pins
from tests.servers import mail
from tests.servers.dns import DnsServer
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki, make_pki
from tests.servers.proxies import SmtpInspector, TlsDpi

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"


@pytest.fixture(scope="module")
def foreign() -> Pki:
    return make_pki("Foreign")


PINS: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _vendor_pins(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Pin the vendor's CAs, as `netdiag pins import` of its CA file would: the
    clean paths of these tests are then anchored, not merely unpinned."""
    PINS[:] = [vendor_pins(pki, tmp_path_factory.mktemp("pins"))]


def vcheck(dns_server: DnsServer, target: str, *extra: str, timeout: str = "2") -> CliResult:
    return check(dns_server, target, "--pins", str(PINS[0]), *extra, timeout=timeout)


@pytest.fixture(scope="module")
def client_pem(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.client_pem(tmp_path_factory.mktemp("client"))


def smtp(pki: Pki, policy: TlsPolicy, client_ca: Pki | None = None) -> SmtpHandler:
    return SmtpHandler(server_context(pki, policy, client_ca), policy)


TLS13 = TlsPolicy()
TLS12 = TlsPolicy(max_version=ssl.TLSVersion.TLSv1_2)
NO_REQUEST = TlsPolicy(verify=ssl.CERT_NONE)
LATER = TlsPolicy(verify=ssl.CERT_OPTIONAL, reject_later=True)


# SMTP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [TLS13, TLS12], ids=["tls1.3", "tls1.2"])
def test_smtp_with_client_certificate_is_ok(
    pki: Pki, dns_server: DnsServer, client_pem: Path, policy: TlsPolicy
) -> None:
    with serving(smtp(pki, policy)) as server:
        result = vcheck(
            dns_server, f"{MAIL}:{server.port}/smtp-starttls", "--cert", str(client_pem)
        )
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "tls.established", "tls.pinned"}, endpoint["findings"]
    assert result.exit_code == 0
    protocol = endpoint["observations"]["protocol"]
    tls = protocol["tls"]
    assert tls["version"] == ("TLSv1.3" if policy is TLS13 else "TLSv1.2")
    # JA3S: the ServerHello's version, cipher and extensions (43/51 are TLS 1.3's own)
    version, cipher, extensions = tls["ja3s"].split(",")
    assert version == "771" and cipher.isdigit()
    assert ({"43", "51"} <= set(extensions.split("-"))) is (policy is TLS13)
    assert tls["was_client_cert_requested"] is True and tls["was_client_cert_sent"] is True
    assert tls["server_name"] == MAIL
    assert len(tls["chain"]) >= 1 and "Vendor Issuing CA" in tls["chain"][0]["issuer"]
    assert any("Vendor Root CA" in name for name in tls["client_ca_names"])
    # The bundle's CA certificates are context for the server's chain: a line of the
    # verdict's evidence, never its proof (the pins are).
    pinned = next(f for f in endpoint["findings"] if f["code"] == "tls.pinned")
    assert any(
        line.startswith("the chain is issued by a CA of the client bundle")
        for line in pinned["evidence"]
    ), pinned["evidence"]
    sent = [line["text"] for line in protocol["transcript"] if line["direction"] == "C"]
    assert (
        sent[0].startswith("EHLO [127.0.0.1]") and "STARTTLS" in sent and sent.count(sent[0]) == 2
    )
    assert protocol["after_tls"]["code"] == 250


@pytest.mark.parametrize(
    "policy", [TLS13, TLS12], ids=["tls1.3-alert-after-handshake", "tls1.2-alert-in-handshake"]
)
def test_smtp_without_client_certificate_is_required(
    pki: Pki, dns_server: DnsServer, policy: TlsPolicy
) -> None:
    """Run without --cert: the server asks for one and refuses the session; nothing of the
    gateway's was rejected, the authentication was simply not checked."""
    with serving(smtp(pki, policy)) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/smtp-starttls")
    endpoint = only_endpoint(result)
    assert "tls.client_cert_required" in codes(endpoint), endpoint["findings"]
    assert "tls.client_cert_rejected" not in codes(endpoint)
    required = next(f for f in endpoint["findings"] if f["code"] == "tls.client_cert_required")
    assert "none was given" in required["summary"] and "--cert" in required["summary"]
    assert any("certificate" in line.lower() for line in required["evidence"])
    assert result.exit_code == 1


def test_smtp_server_trusting_another_ca_rejects_and_does_not_accept_our_issuer(
    pki: Pki, foreign: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with serving(smtp(pki, TLS13, client_ca=foreign)) as server:
        result = vcheck(
            dns_server, f"{MAIL}:{server.port}/smtp-starttls", "--cert", str(client_pem)
        )
    found = codes(only_endpoint(result))
    assert {"tls.client_cert_rejected", "cert.issuer_not_accepted"} <= found
    assert result.exit_code == 2


def test_smtp_server_that_does_not_ask_for_a_certificate(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with serving(smtp(pki, NO_REQUEST)) as server:
        result = vcheck(
            dns_server, f"{MAIL}:{server.port}/smtp-starttls", "--cert", str(client_pem)
        )
    endpoint = only_endpoint(result)
    assert "tls.client_cert_not_requested" in codes(endpoint)
    assert endpoint["observations"]["protocol"]["tls"]["was_client_cert_requested"] is False


def test_smtp_rejection_one_step_after_the_handshake(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with serving(smtp(pki, LATER)) as server:
        rejected = vcheck(dns_server, f"{MAIL}:{server.port}/smtp-starttls")
        accepted = vcheck(
            dns_server, f"{MAIL}:{server.port}/smtp-starttls", "--cert", str(client_pem)
        )
    finding = next(
        f for f in only_endpoint(rejected)["findings"] if f["code"] == "tls.client_cert_required"
    )
    assert (
        "server: 421 4.7.1 mail1.dicommail.com Error: No client certificate presented"
        in finding["evidence"]
    )
    assert "tls.established" not in codes(only_endpoint(rejected))
    assert codes(only_endpoint(accepted)) == {"tcp.open", "tls.established", "tls.pinned"}


def test_starttls_stripped(pki: Pki, dns_server: DnsServer, client_pem: Path) -> None:
    with (
        serving(smtp(pki, TLS13)) as upstream,
        serving(SmtpInspector(upstream.port, strip=True)) as proxy,
    ):
        result = vcheck(dns_server, f"{MAIL}:{proxy.port}/smtp-starttls", "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "smtp.starttls_missing"}
    finding = endpoint["findings"][-1]
    assert "answer to STARTTLS: 502 5.5.2 Error: command not recognized" in finding["evidence"]
    # Refused as well: nothing here proves where it was removed (the address is this
    # machine's own, no place is measured), and the remedy names both causes.
    assert "removed from the EHLO reply on the way" not in finding["summary"]
    assert "or the server does not offer it" in finding["remedy"]
    assert result.exit_code == 2


def test_starttls_removed_from_the_offer_but_accepted_is_proven_removed(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    """The server takes STARTTLS though the reply it reached the gateway in did not offer
    it: the offer was removed on the way — no doubt left that the server offers it."""
    with (
        serving(smtp(pki, TLS13)) as upstream,
        serving(SmtpInspector(upstream.port, strip_offer=True)) as proxy,
    ):
        result = vcheck(dns_server, f"{MAIL}:{proxy.port}/smtp-starttls", "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    assert "smtp.starttls_missing" in codes(endpoint)
    assert "tls.established" in codes(endpoint)
    found = next(f for f in endpoint["findings"] if f["code"] == "smtp.starttls_missing")
    assert "STARTTLS is removed from the EHLO reply on the way" in found["summary"]
    assert "was accepted (220" in found["summary"]
    assert found["remedy"].startswith("The server accepts STARTTLS, but its offer is removed")
    assert result.exit_code == 2


def test_starttls_and_banner_masked(pki: Pki, dns_server: DnsServer, client_pem: Path) -> None:
    with (
        serving(smtp(pki, TLS13)) as upstream,
        serving(SmtpInspector(upstream.port, mask=True)) as proxy,
    ):
        result = vcheck(dns_server, f"{MAIL}:{proxy.port}/smtp-starttls", "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "smtp.banner_masked", "smtp.starttls_masked"}
    masked = next(f for f in endpoint["findings"] if f["code"] == "smtp.starttls_masked")
    assert "'XXXXXXXA'" in masked["summary"]
    assert "answer to STARTTLS: 500 #5.5.1 command not recognized" in masked["evidence"]


def test_starttls_refused_by_the_server(dns_server: DnsServer) -> None:
    def handler(conn: Any) -> None:
        conn.sendall(b"220 mail1.dicommail.com ESMTP\r\n")
        mail.read_line(conn)
        conn.sendall(b"250-mail1.dicommail.com\r\n250 STARTTLS\r\n")
        mail.read_line(conn)
        conn.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
        mail.read_line(conn)

    with serving(handler) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/smtp-starttls")
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "smtp.starttls_refused"}
    assert "454 4.7.0 TLS not available" in endpoint["findings"][-1]["summary"]


def test_slow_banner_is_a_warning_when_it_comes(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with (
        serving(smtp(pki, TLS13)) as upstream,
        serving(SmtpInspector(upstream.port, banner_delay=0.8)) as proxy,
    ):
        result = vcheck(
            dns_server,
            f"{MAIL}:{proxy.port}/smtp-starttls",
            "--cert",
            str(client_pem),
            "--slow-banner",
            "0.5",
        )
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "smtp.slow_banner", "tls.established", "tls.pinned"}
    assert result.exit_code == 1
    # Held 0.8 s from the proxy's accept; our clock starts once connect() has returned and
    # the probe thread runs again, which a loaded machine delays by some milliseconds.
    assert endpoint["observations"]["protocol"]["banner_ms"] >= 700


def test_a_greeting_pause_is_waited_for_and_said_as_the_servers(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    """Postfix's postscreen sends '220-' at once and the rest of its greeting seconds later
    (a client that talks first fails its pregreet test): netdiag waits past its step timeout
    without a word, and the pause is the server's (info), not a slow banner. The twin above:
    a banner late as a whole stays smtp.slow_banner."""
    handler = SmtpHandler(server_context(pki, TLS13), TLS13, greeting_pause_s=1.2)
    with serving(handler) as server:
        result = vcheck(
            dns_server,
            f"{MAIL}:{server.port}/smtp-starttls",
            "--cert",
            str(client_pem),
            "--slow-banner",
            "0.5",
            timeout="0.8",
        )
    endpoint = only_endpoint(result)
    assert handler.pregreets == 0
    assert codes(endpoint) == {"tcp.open", "smtp.greeting_pause", "tls.established", "tls.pinned"}
    assert result.exit_code == 0
    protocol = endpoint["observations"]["protocol"]
    assert protocol["banner_first_ms"] < 500 and protocol["banner_ms"] >= 1200, protocol


@pytest.mark.parametrize(
    ("action", "code"), [("reset", "tls.handshake_failed"), ("swallow", "tls.handshake_stalled")]
)
def test_dpi_after_the_client_hello(
    pki: Pki, dns_server: DnsServer, client_pem: Path, action: str, code: str
) -> None:
    with (
        serving(smtp(pki, TLS13)) as upstream,
        serving(SmtpInspector(upstream.port, dpi=action)) as proxy,
    ):
        result = vcheck(
            dns_server, f"{MAIL}:{proxy.port}/smtp-starttls", "--cert", str(client_pem), timeout="1"
        )
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", code}
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("handler", "code", "text"),
    [
        (mail.huge_banner, "smtp.protocol_error", "longer than 4096 bytes"),
        (mail.one_byte_per_second, "smtp.slow_banner", "no banner within the timeout"),
        (mail.garbage, "smtp.protocol_error", "not SMTP"),
        (mail.cut_multiline, "smtp.protocol_error", "in the middle of a reply"),
        (mail.http_on_smtp, "smtp.protocol_error", "HTTP/1.1 400"),
        (mail.close_at_once, "smtp.early_close", "before the banner"),
        (mail.busy, "smtp.throttled", "421 4.7.0"),
        (mail.throttled_at_ehlo, "smtp.throttled", "EHLO refused"),
    ],
)
def test_hostile_smtp_peers_end_in_a_finding_within_the_timeout(
    dns_server: DnsServer, handler: Any, code: str, text: str
) -> None:
    import time

    with serving(handler) as server:
        started = time.monotonic()
        result = vcheck(dns_server, f"{MAIL}:{server.port}/smtp-starttls", timeout="1.5")
        elapsed = time.monotonic() - started
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", code}, endpoint["findings"]
    finding = endpoint["findings"][-1]
    assert text in finding["summary"] + " ".join(finding["evidence"])
    # Within the timeout (and the one retry of a silent close), never a hang: margins in
    # units of the configured 1.5 s.
    assert elapsed < 3 * 1.5
    assert "Traceback" not in result.stderr


# POP3S -----------------------------------------------------------------------------------


def pop3(pki: Pki, policy: TlsPolicy) -> Pop3Handler:
    return Pop3Handler(server_context(pki, policy), policy)


def test_pop3s_with_client_certificate_is_ok(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with serving(pop3(pki, TLS13)) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/pop3s", "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "tls.established", "tls.pinned"}, endpoint["findings"]
    protocol = endpoint["observations"]["protocol"]
    assert protocol["greeting"] == {"status": "+OK", "lines": ["Dovecot ready."]}
    assert "USER" in protocol["capa"]["lines"]


def test_pop3s_without_client_certificate_is_rejected(pki: Pki, dns_server: DnsServer) -> None:
    with serving(pop3(pki, TLS13)) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/pop3s")
    assert "tls.client_cert_required" in codes(only_endpoint(result))


def test_pop3s_rejection_at_login(pki: Pki, dns_server: DnsServer, client_pem: Path) -> None:
    with serving(pop3(pki, LATER)) as server:
        rejected = vcheck(dns_server, f"{MAIL}:{server.port}/pop3s", "--probe-login")
        accepted = vcheck(
            dns_server, f"{MAIL}:{server.port}/pop3s", "--probe-login", "--cert", str(client_pem)
        )
    finding = next(
        f for f in only_endpoint(rejected)["findings"] if f["code"] == "tls.client_cert_required"
    )
    assert "server: -ERR [AUTH] Client didn't present valid SSL certificate" in finding["evidence"]
    # The made-up user's failed login is expected, not a finding.
    assert codes(only_endpoint(accepted)) == {"tcp.open", "tls.established", "tls.pinned"}
    sent = [
        t["text"]
        for t in only_endpoint(accepted)["observations"]["protocol"]["transcript"]
        if t["direction"] == "C"
    ]
    assert sent[1].startswith("USER netdiag-probe-") and sent[2] == "PASS ***"


def test_pop3s_mailbox_login_failure_and_the_password_stays_secret(
    pki: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    password = "Sup3r-Secret-Mailbox-Pw"
    password_file = tmp_path / "pop3.pw"
    password_file.write_text(password + "\n", "utf-8")
    with serving(pop3(pki, TLS13)) as server:
        args = (
            f"{MAIL}:{server.port}/pop3s",
            "--cert",
            str(client_pem),
            "--pop3-user",
            "gateway",
            "--pop3-password-file",
            str(password_file),
        )
        result = vcheck(dns_server, *args)
    endpoint = only_endpoint(result)
    assert "pop3.login_failed" in codes(endpoint)
    assert password not in result.stdout + result.stderr


def test_pop3s_port_answering_garbage_instead_of_tls(dns_server: DnsServer) -> None:
    with serving(mail.garbage) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/pop3s")
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "tls.handshake_failed"}
    assert "does not speak TLS" in endpoint["findings"][-1]["summary"]


def test_pop3s_with_something_else_inside_tls(pki: Pki, dns_server: DnsServer) -> None:
    with serving(mail.NotPop3Handler(server_context(pki, NO_REQUEST))) as server:
        result = vcheck(dns_server, f"{MAIL}:{server.port}/pop3s")
    endpoint = only_endpoint(result)
    assert "pop3.protocol_error" in codes(endpoint)
    error = next(f for f in endpoint["findings"] if f["code"] == "pop3.protocol_error")
    assert "HELLO this is not pop3" in error["summary"]


# TLS on 8140 -----------------------------------------------------------------------------


def https(pki: Pki, policy: TlsPolicy) -> HttpsHandler:
    return HttpsHandler(server_context(pki, policy), policy)


@pytest.mark.parametrize("policy", [TLS13, TLS12], ids=["tls1.3", "tls1.2"])
def test_tls_port_with_client_certificate_is_ok(
    pki: Pki, dns_server: DnsServer, client_pem: Path, policy: TlsPolicy
) -> None:
    with serving(https(pki, policy)) as server:
        result = vcheck(dns_server, f"{ATLAS}:{server.port}/tls", "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    assert codes(endpoint) == {"tcp.open", "tls.established", "tls.pinned"}, endpoint["findings"]
    assert endpoint["observations"]["protocol"]["response"]["code"] == 200


def test_tls_port_rejection_in_http(pki: Pki, dns_server: DnsServer) -> None:
    with serving(https(pki, LATER)) as server:
        result = vcheck(dns_server, f"{ATLAS}:{server.port}/tls")
    endpoint = only_endpoint(result)
    assert "tls.client_cert_required" in codes(endpoint)
    required = next(f for f in endpoint["findings"] if f["code"] == "tls.client_cert_required")
    assert "No required SSL certificate was sent" in " ".join(required["evidence"])


def test_tls_port_without_certificate_tls13_alert(pki: Pki, dns_server: DnsServer) -> None:
    with serving(https(pki, TLS13)) as server:
        result = vcheck(dns_server, f"{ATLAS}:{server.port}/tls")
    assert "tls.client_cert_required" in codes(only_endpoint(result))


def test_tls_port_reset_after_client_hello(
    pki: Pki, dns_server: DnsServer, client_pem: Path
) -> None:
    with serving(https(pki, TLS13)) as upstream, serving(TlsDpi(upstream.port, "reset")) as proxy:
        result = vcheck(dns_server, f"{ATLAS}:{proxy.port}/tls", "--cert", str(client_pem))
    assert codes(only_endpoint(result)) == {"tcp.open", "tls.handshake_failed"}


def test_a_chain_that_does_not_verify_against_ca_is_untrusted(
    pki: Pki, foreign: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    """The wrong root given with --ca, on a healthy path: the chain does not verify, which
    is said — but the server asked for our certificate and completed the protocol, so no
    firewall is accused."""
    with serving(https(pki, TLS13)) as server:
        result = check(
            dns_server,
            f"{ATLAS}:{server.port}/tls",
            "--cert",
            str(client_pem),
            "--ca",
            str(foreign.ca_pem(tmp_path)),
        )
    endpoint = only_endpoint(result)
    assert "tls.untrusted" in codes(endpoint) and result.exit_code == 2
    assert "tls.intercepted" not in codes(endpoint)
    untrusted = next(f for f in endpoint["findings"] if f["code"] == "tls.untrusted")
    assert f"name checked: {ATLAS}" in untrusted["evidence"]
    assert any(line.startswith("reason: ") and len(line) > 10 for line in untrusted["evidence"])


def test_a_chain_that_misses_ca_from_a_server_that_asks_for_nothing_is_intercepted(
    pki: Pki, foreign: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """The twin: the same wrong issuer from a server that did not ask for a client
    certificate (what the vendor's never do) — the failed --ca proof counts beside it."""
    with serving(https(pki, NO_REQUEST)) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--ca", str(foreign.ca_pem(tmp_path))
        )
    endpoint = only_endpoint(result)
    assert "tls.intercepted" in codes(endpoint) and result.exit_code == 2
    intercepted = next(f for f in endpoint["findings"] if f["code"] == "tls.intercepted")
    assert any(line.startswith("checked against ") for line in intercepted["evidence"])


def test_the_right_ca_verifies_negative_twin(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    with serving(https(pki, NO_REQUEST)) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--ca", str(pki.ca_pem(tmp_path)))
    assert "tls.untrusted" not in codes(only_endpoint(result))


def test_a_certificate_of_the_vendors_ca_for_another_name_is_not_the_server(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    """The path to --ca holds, the name does not: not the vendor's server as presented —
    which part failed is said, and neither the CA nor an interception is blamed."""
    other = dataclasses.replace(pki, server=pki.issuing.issue_cert("relay.hospital.example"))
    with serving(https(other, NO_REQUEST)) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--ca", str(pki.ca_pem(tmp_path)))
    endpoint = only_endpoint(result)
    codes = {f["code"] for f in endpoint["findings"]}
    assert "tls.not_the_server" in codes and "tls.untrusted" not in codes, codes
    assert "tls.intercepted" not in codes and endpoint["status"] == "crit"
    found = next(f for f in endpoint["findings"] if f["code"] == "tls.not_the_server")
    assert f"not for {ATLAS}" in found["summary"] and "relay.hospital.example" in found["summary"]


def test_an_expired_server_certificate_is_the_vendors_to_renew(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    expired = pki.issuing.issue_cert(ATLAS, not_before=past, not_after=past + dt.timedelta(days=30))
    with serving(https(dataclasses.replace(pki, server=expired), NO_REQUEST)) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--ca", str(pki.ca_pem(tmp_path)))
    findings = only_endpoint(result)["findings"]
    found = next(f for f in findings if f["code"] == "tls.server_cert_expired")
    assert "expired on" in found["summary"] and "tls.untrusted" not in {f["code"] for f in findings}


def test_no_private_key_or_password_in_any_output(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    from tests.integration.test_client_certificate import key_fragments

    cert_password, mailbox_password = "P12-Secret-Pass-9f3", "Mailbox-Secret-Pass-7c1"
    bundle = pki.client_p12(tmp_path, cert_password.encode())
    (tmp_path / "p12.pw").write_text(cert_password, "utf-8")
    (tmp_path / "pop3.pw").write_text(mailbox_password, "utf-8")
    secrets = [cert_password, mailbox_password, *key_fragments(pki.client.private_key_pem.bytes())]
    with (
        serving(smtp(pki, TLS13)) as smtp_server,
        serving(pop3(pki, TLS13)) as pop3_server,
        serving(https(pki, TLS13)) as https_server,
    ):
        common = [
            "--target",
            f"{MAIL}:{smtp_server.port}/smtp-starttls",
            "--target",
            f"{MAIL}:{pop3_server.port}/pop3s",
            "--target",
            f"{ATLAS}:{https_server.port}/tls",
            "--cert",
            str(bundle),
            "--cert-password-file",
            str(tmp_path / "p12.pw"),
            "--pop3-user",
            "gateway",
            "--pop3-password-file",
            str(tmp_path / "pop3.pw"),
        ]
        outputs = [vcheck(dns_server, common[1], *common[2:])]
        outputs += [
            vcheck(dns_server, common[1], *common[2:], "--format", fmt)
            for fmt in ("table", "checkmk")
        ]
    # The test mailbox refuses every login ("-ERR [AUTH] Authentication failed."): the
    # password went out (the chains are pinned) and was refused, pop3.login_failed.
    report = outputs[0].json()
    assert report["status"] == "crit"
    mailbox = next(e for e in report["endpoints"] if e["service"] == "pop3s")
    assert "pop3.login_failed" in {f["code"] for f in mailbox["findings"]}
    for result in outputs:
        text = result.stdout + result.stderr
        leaked = [s[:12] for s in secrets if s in text]
        assert leaked == [], f"secret material in the output: {leaked}"
    transcript = [
        t["text"]
        for e in outputs[0].json()["endpoints"]
        for t in e["observations"]["protocol"]["transcript"]
    ]
    assert "PASS ***" in transcript
