"""Interception detection against an intercepting proxy of the tests' own: with imported
and learned pins, with no pins at all, and the trust-store heuristic."""

from __future__ import annotations

import io
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from netdiag.cli import main
from netdiag.console import Console
from tests.conftest import CliResult, codes, run_cli
from tests.integration.tls_fixtures import check, serving, vendor_pins
from tests.servers.dns import DnsServer
from tests.servers.interceptor import InterceptingProxy
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"
# The genuine servers ask for a client certificate but let the proxy in without one, so
# that the dialogue through the proxy goes on and only the interception differs.
ASKS = TlsPolicy(verify=ssl.CERT_OPTIONAL)


@pytest.fixture(scope="module")
def fortigate() -> trustme.CA:
    return trustme.CA(organization_name="FortiGate CA")


@pytest.fixture(scope="module")
def enterprise() -> trustme.CA:
    return trustme.CA(organization_name="Klinikum Musterstadt IT")


@pytest.fixture(scope="module")
def client_pem(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.client_pem(tmp_path_factory.mktemp("client"))


@pytest.fixture(scope="module")
def pins(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vendor_pins(pki, tmp_path_factory.mktemp("pins"))


@pytest.fixture(scope="module")
def servers(pki: Pki) -> Iterator[dict[str, int]]:
    context = server_context(pki, ASKS)
    with (
        serving(SmtpHandler(context, ASKS)) as smtp,
        serving(Pop3Handler(context, ASKS)) as pop3,
        serving(HttpsHandler(context, ASKS)) as https,
    ):
        yield {"smtp": smtp.port, "pop3": pop3.port, "tls": https.port}


@pytest.fixture(scope="module")
def fortigate_proxies(servers: dict[str, int], fortigate: trustme.CA) -> Iterator[dict[str, int]]:
    with (
        serving(InterceptingProxy(servers["smtp"], fortigate, starttls=True)) as smtp,
        serving(InterceptingProxy(servers["pop3"], fortigate, starttls=False)) as pop3,
        serving(InterceptingProxy(servers["tls"], fortigate, starttls=False)) as https,
    ):
        yield {"smtp": smtp.port, "pop3": pop3.port, "tls": https.port}


@pytest.fixture(scope="module")
def enterprise_proxy(servers: dict[str, int], enterprise: trustme.CA) -> Iterator[int]:
    with serving(InterceptingProxy(servers["smtp"], enterprise, starttls=True)) as smtp:
        yield smtp.port


def targets(smtp: int, pop3: int, tls: int) -> list[str]:
    return [
        "--target",
        f"{MAIL}:{smtp}/smtp-starttls",
        "--target",
        f"{MAIL}:{pop3}/pop3s",
        "--target",
        f"{ATLAS}:{tls}/tls",
    ]


def endpoint(result: CliResult, port: int) -> dict[str, Any]:
    return next(e for e in result.json()["endpoints"] if e["port"] == port)


def finding(found: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in found["findings"] if f["code"] == code)


def test_clean_path_with_imported_pins_is_pinned(
    dns_server: DnsServer, servers: dict[str, int], pins: Path, client_pem: Path
) -> None:
    result = check(
        dns_server,
        targets(**servers)[1],
        *targets(**servers)[2:],
        "--pins",
        str(pins),
        "--cert",
        str(client_pem),
    )
    for port in servers.values():
        found = codes(endpoint(result, port))
        assert "tls.pinned" in found and "tls.intercepted" not in found, found
    assert result.exit_code == 0


def test_everything_intercepted_by_a_fortigate(
    dns_server: DnsServer, fortigate_proxies: dict[str, int], pins: Path, client_pem: Path
) -> None:
    args = targets(**fortigate_proxies)
    result = check(dns_server, args[1], *args[2:], "--pins", str(pins), "--cert", str(client_pem))
    assert result.exit_code == 2
    for port in fortigate_proxies.values():
        found = endpoint(result, port)
        assert {"tls.intercepted", "tls.client_cert_not_requested"} <= codes(found), codes(found)
        intercepted = finding(found, "tls.intercepted")
        assert "is intercepted by FortiGate (issuer 'OU=Testing CA" in intercepted["summary"]
        evidence = "\n".join(intercepted["evidence"])
        assert "pinned: " in evidence and "Vendor Root CA" in evidence
        assert "matches the catalogue's FortiGate" in evidence
        assert "the server did not ask for a client certificate" in evidence
        assert "freshly minted" in evidence  # the proxy's certificate was made minutes ago
        service = found["service"]
        assert (
            f"({service})" in intercepted["remedy"]
            and "TLS/SSL inspection" in intercepted["remedy"]
        )
    # The cause's remedy names exactly the endpoints it affects: here all three.
    [cause] = [c for c in result.json()["causes"] if c["code"] == "tls.intercepted"]
    for service in ("smtp-starttls", "pop3s", "tls"):
        assert f"({service})" in cause["remedy"], cause["remedy"]
    # One key for every host is normal for the vendor too: no evidence either way.
    atlas = finding(endpoint(result, fortigate_proxies["tls"]), "tls.intercepted")
    assert not any("same server key" in line for line in atlas["evidence"])


def test_only_port_25_intercepted_shows_the_other_chain(
    dns_server: DnsServer, servers: dict[str, int], fortigate_proxies: dict[str, int], pins: Path
) -> None:
    args = targets(fortigate_proxies["smtp"], servers["pop3"], servers["tls"])
    result = check(dns_server, args[1], *args[2:], "--pins", str(pins))
    smtp = endpoint(result, fortigate_proxies["smtp"])
    assert "tls.intercepted" in codes(smtp)
    evidence = "\n".join(finding(smtp, "tls.intercepted")["evidence"])
    assert f"{MAIL}:{servers['pop3']} presents another chain" in evidence
    assert "tls.pinned" in codes(endpoint(result, servers["pop3"]))
    # The remedy lists exactly the intercepted endpoint, not the others of the run.
    [cause] = [c for c in result.json()["causes"] if c["code"] == "tls.intercepted"]
    assert f":{fortigate_proxies['smtp']} (smtp-starttls)" in cause["remedy"]
    assert "(pop3s)" not in cause["remedy"] and "(tls)" not in cause["remedy"], cause["remedy"]


def test_without_pins_the_product_still_gives_it_away(
    dns_server: DnsServer, fortigate_proxies: dict[str, int]
) -> None:
    args = targets(**fortigate_proxies)
    result = check(dns_server, args[1], *args[2:])
    smtp = endpoint(result, fortigate_proxies["smtp"])
    intercepted = finding(smtp, "tls.intercepted")
    # The name alone would only name it; the handshake's own trait convicts.
    assert "by FortiGate" in intercepted["summary"]
    assert "did not ask for a client certificate" in intercepted["summary"]


def test_without_pins_a_generic_enterprise_ca_is_convicted_by_two_signals(
    dns_server: DnsServer, enterprise_proxy: int
) -> None:
    """No product name, no local anchor: a certificate minted minutes ago and no request
    for the client certificate together still give the proxy away."""
    result = check(dns_server, f"{MAIL}:{enterprise_proxy}/smtp-starttls")
    found = endpoint(result, enterprise_proxy)
    assert "tls.intercepted" in codes(found) and "tls.unpinned" not in codes(found)
    intercepted = finding(found, "tls.intercepted")
    assert "did not ask for a client certificate" in intercepted["summary"]
    evidence = "\n".join(intercepted["evidence"])
    assert "did not ask for a client certificate" in evidence and "freshly minted" in evidence


def test_without_pins_an_anchor_only_this_machine_trusts(
    dns_server: DnsServer, enterprise_proxy: int, enterprise: trustme.CA, tmp_path: Path
) -> None:
    store = tmp_path / "local-store.pem"
    store.write_bytes(enterprise.cert_pem.bytes())
    result = check(
        dns_server, f"{MAIL}:{enterprise_proxy}/smtp-starttls", "--trust-store", str(store)
    )
    intercepted = finding(endpoint(result, enterprise_proxy), "tls.intercepted")
    evidence = "\n".join(intercepted["evidence"])
    assert "Klinikum Musterstadt IT" in evidence and "but not in the public root set" in evidence
    # The same CA in the machine's trust store, named like no product: no local finding.
    assert result.json()["local"]["findings"] == []


def test_learn_on_the_clean_path_then_detect(
    dns_server: DnsServer,
    servers: dict[str, int],
    enterprise_proxy: int,
    client_pem: Path,
    tmp_path: Path,
) -> None:
    learned = tmp_path / "learned.toml"
    common = [
        "--no-system-resolver",
        "--resolver",
        dns_server.spec,
        "--expect-network",
        "127.0.0.0/8",
        "--timeout",
        "2",
        "--cert",
        str(client_pem),
    ]
    result = run_cli("pins", "learn", *targets(**servers), *common, "--out", str(learned), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "wrote" in result.stdout and learned.is_file()
    text = learned.read_text("utf-8")
    assert (
        'format = "netdiag.pins/1"' in text
        and "Vendor Issuing CA" in text
        and "was_client_cert_requested = true" in text
    )

    clean = run_cli("pins", "verify", "--pins", str(learned), *targets(**servers), *common)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("pinned") == 3

    intercepted = run_cli(
        "pins",
        "verify",
        "--pins",
        str(learned),
        "--target",
        f"{MAIL}:{enterprise_proxy}/smtp-starttls",
        *common,
    )
    assert intercepted.exit_code == 2 and "NOT pinned" in intercepted.stdout

    # The learned record has the pins of MAIL:smtp; the proxy runs on another port, so give
    # the record of the genuine port to the check through a pin file of the proxy's port.
    detected = check(dns_server, f"{MAIL}:{enterprise_proxy}/smtp-starttls", "--pins", str(learned))
    found = endpoint(detected, enterprise_proxy)
    assert "tls.intercepted" in codes(found), codes(found)
    assert "(no pins" not in finding(found, "tls.intercepted")["summary"]


def test_learn_refuses_a_chain_that_looks_intercepted(
    dns_server: DnsServer, fortigate_proxies: dict[str, int], tmp_path: Path
) -> None:
    result = run_cli(
        "pins",
        "learn",
        "--target",
        f"{MAIL}:{fortigate_proxies['smtp']}/smtp-starttls",
        "--no-system-resolver",
        "--resolver",
        dns_server.spec,
        "--expect-network",
        "127.0.0.0/8",
        "--timeout",
        "2",
        "--out",
        str(tmp_path / "x.toml"),
        "--yes",
    )
    assert result.exit_code == 3
    assert "is not the vendor's server's as presented" in result.stderr
    assert not (tmp_path / "x.toml").exists()


def test_learn_without_confirmation_writes_nothing(
    dns_server: DnsServer, servers: dict[str, int], tmp_path: Path
) -> None:
    result = run_cli(
        "pins",
        "learn",
        "--target",
        f"{MAIL}:{servers['pop3']}/pop3s",
        "--no-system-resolver",
        "--resolver",
        dns_server.spec,
        "--expect-network",
        "127.0.0.0/8",
        "--out",
        str(tmp_path / "x.toml"),
    )
    assert result.exit_code == 3 and "--yes" in result.stderr and not (tmp_path / "x.toml").exists()


def test_import_from_pkcs12_with_password_and_show(pki: Pki, tmp_path: Path) -> None:
    bundle = pki.client_p12(tmp_path, b"bundle-pw")
    (tmp_path / "pw").write_text("bundle-pw", "utf-8")
    out = tmp_path / "imported.toml"
    result = run_cli(
        "pins",
        "import",
        str(bundle),
        "--cert-password-file",
        str(tmp_path / "pw"),
        "--applies-to",
        "dicommail",
        "--issues-servers",
        "--out",
        str(out),
        "--yes",
    )
    assert result.exit_code == 0, result.stderr
    shown = run_cli("pins", "show", "--pins", str(out))
    assert shown.exit_code == 0
    assert "Vendor Root CA" in shown.stdout and "Vendor Issuing CA" in shown.stdout
    assert (
        "dicommail" in shown.stdout and "12 endpoints" in shown.stdout
    )  # the group dicommail of the built-in profile: mail1-6 on 25 and on 995
    assert "confirmed as an issuer of the servers" in out.read_text("utf-8")
    wrong = run_cli("pins", "import", str(bundle), "--out", str(out), "--yes")
    assert wrong.exit_code == 3 and "protected by a password" in wrong.stderr


def test_a_client_bundle_is_not_pinned_for_the_servers_unconfirmed(
    pki: Pki, tmp_path: Path
) -> None:
    """The bundle's CAs issued the gateway's certificate; the servers' may come from
    another CA. Without the user's word nothing of it is pinned."""
    bundle = pki.client_p12(tmp_path, None)
    out = tmp_path / "pins.toml"
    result = run_cli("pins", "import", str(bundle), "--out", str(out), "--yes")
    assert result.exit_code == 3 and not out.exists()
    assert "is a client bundle" in result.stderr and "--issues-servers" in result.stderr


class _Answers(io.StringIO):
    """A terminal's standard input with the user's answers typed in."""

    def isatty(self) -> bool:
        return True


def test_a_client_bundle_pins_only_the_cas_the_user_confirms(pki: Pki, tmp_path: Path) -> None:
    bundle = pki.client_p12(tmp_path, None)  # issuing CA first, then the root
    out = tmp_path / "pins.toml"
    stdout, stderr = io.StringIO(), io.StringIO()
    console = Console(stdout, stderr, stdin=_Answers("n\ny\n"))
    code = main(["pins", "import", str(bundle), "--out", str(out), "--yes"], console)
    assert code == 0, stderr.getvalue()
    assert "SERVER certificates?" in stderr.getvalue()
    text = out.read_text("utf-8")
    assert "Vendor Root CA" in text and "Vendor Issuing CA" not in text


def test_the_servers_ca_file_is_pinned_without_a_question(pki: Pki, tmp_path: Path) -> None:
    out = tmp_path / "pins.toml"
    result = run_cli("pins", "import", str(pki.ca_pem(tmp_path)), "--out", str(out), "--yes")
    assert result.exit_code == 0, result.stderr
    text = out.read_text("utf-8")
    assert "Vendor Root CA" in text and "Vendor Issuing CA" in text
    assert "client bundle" not in text
    # The table counts what each pin covers as `pins show` does: the profile's 13.
    rows = [line for line in result.stdout.splitlines() if "Vendor" in line]
    assert len(rows) == 2 and all(" 13 " in row for row in rows), result.stdout
    shown = run_cli("pins", "show", "--pins", str(out))
    assert [line for line in shown.stdout.splitlines() if "Vendor" in line and " 13 " in line]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is = = not toml", "is not valid TOML"),
        ('name = "connectMT"\n[[endpoints]]\nhost = "a"\nport = 25\n', "is not a netdiag pin file"),
        (
            'format = "netdiag.pins/1"\n[[pins]]\nsubject = "x"\nspki_sha256 = "abc"\n',
            "64 hexadecimal digits",
        ),
        (
            'format = "netdiag.pins/1"\n[[pins]]\nspki_sha256 = "' + "a" * 64 + '"\n',
            "'subject' is missing",
        ),
    ],
    ids=["not-toml", "foreign-toml", "bad-hash", "no-subject"],
)
def test_a_bad_pin_file_is_one_line_and_exit_code_3(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "pins.toml"
    path.write_text(content, "utf-8")
    for args in (
        ["pins", "show", "--pins", str(path)],
        ["check", "--target", "127.0.0.1:1/tls", "--pins", str(path)],
    ):
        result = run_cli(*args)
        assert result.exit_code == 3 and message in result.stderr and str(path) in result.stderr


def test_local_inspection_root_in_the_trust_store(tmp_path: Path) -> None:
    kaspersky = trustme.CA(organization_name="Kaspersky Anti-Virus Personal Root Certificate")
    store = tmp_path / "store.pem"
    store.write_bytes(kaspersky.cert_pem.bytes())
    result = run_cli(
        "check",
        "--json",
        "--target",
        "127.0.0.1:1/tls",
        "--timeout",
        "0.5",
        "--trust-store",
        str(store),
    )
    local = result.json()["local"]["findings"]
    assert [f["code"] for f in local] == ["local.inspection_root"]
    assert "Kaspersky" in local[0]["summary"]


def test_an_interception_named_as_fortigate_prints_the_exemption_snippet(
    dns_server: DnsServer, fortigate_proxies: dict[str, int], pins: Path, client_pem: Path
) -> None:
    """Without --firewall: the evidence named the product, so its configuration is shown —
    an ssl-exempt for exactly the intercepted hosts."""
    args = targets(**fortigate_proxies)
    result = run_cli(
        "check", "--no-system-resolver", "--resolver", dns_server.spec,
        "--expect-network", "127.0.0.0/8", "--timeout", "2", *args,
        "--pins", str(pins), "--cert", str(client_pem),
    )  # fmt: skip
    out = result.stdout
    assert "The fix as FortiGate (FortiOS CLI) configuration:" in out, out
    assert (
        "config ssl-exempt" in out and f'set fqdn "{MAIL}"' in out and f'set fqdn "{ATLAS}"' in out
    )
    assert "--firewall fortigate|panos" not in out  # no offer: the product is known


# Where it sits: security software on this machine, or a device on the path ----------------


@pytest.fixture(scope="module")
def eset() -> trustme.CA:
    """ESET's filter CA as its root is named on a gateway (in the machine's store)."""
    return trustme.CA(organization_name="ESET, spol. s r. o.")


@pytest.mark.parametrize("product", ["eset", "fortigate"])
def test_the_place_decides_the_remedy(
    product: str,
    request: pytest.FixtureRequest,
    dns_server: DnsServer,
    servers: dict[str, int],
    pins: Path,
    client_pem: Path,
    tmp_path: Path,
) -> None:
    """The same forged chains, their root in this machine's store: ESET's (security software
    on the gateway) is its own exclusion and no firewall configuration; FortiGate's
    (deployed to the store by group policy, a device on the path) is the firewall's."""
    ca: trustme.CA = request.getfixturevalue(product)
    store = tmp_path / "machine-store.pem"
    store.write_bytes(ca.cert_pem.bytes())
    with (
        serving(InterceptingProxy(servers["smtp"], ca, starttls=True)) as smtp,
        serving(InterceptingProxy(servers["pop3"], ca, starttls=False)) as pop3,
    ):
        result = check(
            dns_server,
            f"{MAIL}:{smtp.port}/smtp-starttls",
            "--target",
            f"{MAIL}:{pop3.port}/pop3s",
            "--pins",
            str(pins),
            "--cert",
            str(client_pem),
            "--trust-store",
            str(store),
            "--firewall",
            "fortigate",
        )
    assert result.exit_code == 2
    report = result.json()
    [cause] = [c for c in report["causes"] if c["code"].startswith("tls.intercepted")]
    if product == "eset":
        assert cause["code"] == "tls.intercepted_locally" and cause["subject"] == "ESET"
        assert "Security software on this machine (ESET)" in cause["sentence"]["en"]
        assert "Excluded IPs" in cause["remedy"] and "Exempt these" not in cause["remedy"]
        assert report["remedy_plan"]["exempt"] == []
    else:
        assert cause["code"] == "tls.intercepted"
        assert {tuple(e) for e in report["remedy_plan"]["exempt"]} == {
            (MAIL, smtp.port),
            (MAIL, pop3.port),
        }
