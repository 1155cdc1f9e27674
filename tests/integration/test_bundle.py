"""The support bundle, the HTML report in a real headless browser, and `netdiag diff`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import struct
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from tests.conftest import IN_CI, CliResult, codes, run_cli
from tests.integration.tls_fixtures import NAMES, serving, vendor_pins
from tests.servers.base import read_line
from tests.servers.dns import DnsServer
from tests.servers.interceptor import InterceptingProxy
from tests.servers.mail import Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki, make_pki
from tests.servers.tcp import closed_port

PASSWORD = "Bundle-Secret-Pw-31"
PROXY_PASSWORD = "Pr0xy/pw@31"
# Proxy settings as a gateway has them: without a scheme, with "/" and "@" in the password.
PROXIES = {
    "HTTP_PROXY": f"svc-gateway:{PROXY_PASSWORD}@proxy.klinik.local:3128",
    "https_proxy": f"http://svc-gateway:{PROXY_PASSWORD}@[2001:db8::3128]:3128",
}
MAIL = "mail1.dicommail.com"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A check with a clean, an intercepted and a blocked endpoint, saved as a bundle."""
    pki = make_pki()
    directory = tmp_path_factory.mktemp("bundle")
    bundle_p12 = pki.client_p12(directory, PASSWORD.encode())
    (directory / "pw").write_text(PASSWORD, "utf-8")
    pins = vendor_pins(pki, directory)
    policy = TlsPolicy()
    saved = {k: os.environ.get(k) for k in PROXIES}
    os.environ.update(PROXIES)
    with (
        DnsServer(NAMES) as dns_server,
        serving(SmtpHandler(server_context(pki, policy), policy)) as smtp,
        serving(
            InterceptingProxy(
                smtp.port, trustme.CA(organization_name="FortiGate CA"), starttls=True
            )
        ) as proxy,
    ):
        blocked = closed_port()
        common = [
            "--no-system-resolver",
            "--resolver",
            dns_server.spec,
            "--expect-network",
            "127.0.0.0/8",
            "--timeout",
            "2",
            "--cert",
            str(bundle_p12),
            "--cert-password-file",
            str(directory / "pw"),
            "--pins",
            str(pins),
            "--target",
            f"{MAIL}:{smtp.port}/smtp-starttls",
            "--target",
            f"mail2.dicommail.com:{proxy.port}/smtp-starttls",
            "--target",
            f"mail3.dicommail.com:{blocked}/pop3s",
        ]
        plain = directory / "plain.zip"
        redacted = directory / "redacted.zip"
        results = {
            "plain": run_cli("check", "--json", *common, "--bundle", str(plain), "--lang", "de"),
            "redacted": run_cli(
                "bundle", *common, "--out", str(redacted), "--redact", "--lang", "en"
            ),
        }
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield {
            "pki": pki,
            "plain": plain,
            "redacted": redacted,
            "results": results,
            "ports": (smtp.port, proxy.port, blocked),
        }


FIREWALLS = ("fortigate", "panos", "checkpoint", "sophos", "opnsense", "pfsense", "asa")


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_bundle_holds_every_file_and_the_manifest_matches(scenario: dict[str, Any]) -> None:
    result: CliResult = scenario["results"]["plain"]
    # The run asked for German (--lang de): the line about the bundle is German too.
    assert result.exit_code == 2 and "Support-Paket geschrieben: " in result.stderr
    files = read_zip(scenario["plain"])
    smtp, proxy, _ = scenario["ports"]
    expected = {
        "report.txt",
        "report_en.txt",  # the German bundle keeps the evidence in the words measured
        "report.json",
        "report.html",
        "environment.json",
        "manifest.json",
        "manifest.json.p7s",  # run with --cert: signed by the gateway's key
        f"chains/{MAIL}_{smtp}.pem",
        f"chains/{MAIL}_{smtp}.txt",
        f"chains/mail2.dicommail.com_{proxy}.pem",
        f"chains/mail2.dicommail.com_{proxy}.txt",
        # The fix as every firewall product's configuration (the run found an interception
        # and a blocked port).
        *(f"firewall/{product}.txt" for product in FIREWALLS),
    }
    assert set(files) == expected
    manifest = json.loads(files["manifest.json"])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"]
    assert set(manifest["files"]) == expected - {"manifest.json", "manifest.json.p7s"}
    audit = manifest["audit"]
    assert audit["ran"] is True and audit["result"] == "clean"
    assert audit["files"] == len(manifest["files"])
    assert "the certificate's password" in audit["looked_for"]
    assert "the private key" in audit["looked_for"]
    report = json.loads(files["report.json"])
    assert report["schema"] == "netdiag.report/1" and report == result.json() | {
        "captures": report["captures"]
    }
    dump = files[f"chains/mail2.dicommail.com_{proxy}.txt"].decode()
    assert "FortiGate CA" in dump and "SPKI SHA-256:" in dump
    environment = json.loads(files["environment.json"])
    assert {
        "host",
        "os",
        "versions",
        "clock",
        "resolvers",
        "proxy_environment",
        "interfaces",
        "default_route",
    } <= set(environment)


def test_report_txt_in_german_with_the_firewall_section(scenario: dict[str, Any]) -> None:
    text = read_zip(scenario["plain"])["report.txt"].decode()
    assert text.startswith("netdiag-Bericht") and "Was das Firewall-Team wissen muss" in text
    assert "TLS wird aufgebrochen (SSL-Inspektion)" in text and "tls.intercepted" in text
    smtp, proxy, blocked = scenario["ports"]
    causes = text.split("Ursachen\n--------\n", 1)[1].splitlines()
    # The answer first: one German sentence per cause, the device named; then what works.
    assert causes[0].startswith("[1] KRIT: Ein TLS-inspizierendes Gerät (FortiGate) bricht ")
    assert (
        causes[1]
        == f"[2] KRIT: TCP {blocked} zu mail3.dicommail.com wird mit einem Reset abgewiesen."
    )
    # Then this gateway's system requirements, where this machine misses one (in one line).
    rest = causes[2:4] if causes[2].startswith("[3] ") else causes[2:3]
    assert len(rest) == 1 or rest[0].startswith("[3] WARN: Gateway (Systemvoraussetzungen): ")
    assert rest[-1] == f"Funktioniert: TCP {smtp} ({MAIL})."
    firewall = text.split("Was das Firewall-Team wissen muss\n", 1)[1]
    assert "[1] Von der TLS/SSL- und SMTP/ESMTP-Inspektion ausnehmen (FortiGate): " in firewall
    assert f"[2] Bei der Firewall: TCP {blocked} vom Gateway zu mail3.dicommail.com " in firewall
    assert f"Funktioniert bereits, so lassen: TCP {smtp} ({MAIL})." in firewall


def test_no_key_or_password_in_any_file(scenario: dict[str, Any]) -> None:
    pki: Pki = scenario["pki"]
    pem = pki.client.private_key_pem.bytes()
    key = serialization.load_pem_private_key(pem, None)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    needles = [
        PASSWORD.encode(),
        der,
        base64.b64encode(der)[:40],
        der.hex()[:40].encode(),
        *(line.encode() for line in body),
    ]
    for bundle in (scenario["plain"], scenario["redacted"]):
        for name, data in read_zip(bundle).items():
            leaked = [n[:10] for n in needles if n in data]
            assert leaked == [], f"{bundle.name}:{name} holds secret material"


def test_redact_removes_every_internal_address(scenario: dict[str, Any]) -> None:
    files = read_zip(scenario["redacted"])
    internal = {"127.0.0.1"}
    environment = json.loads(read_zip(scenario["plain"])["environment.json"])
    host_name = environment["host"]["name"]
    for name, data in files.items():
        if name.endswith((".pem", ".p7s")):
            # base64 DER, and the signature (DER, with the gateway's certificate the vendor
            # issued: the name in it is what the signature proves): no text address in it
            continue
        from netdiag.privacy.redaction import BASE64_BLOB

        text = BASE64_BLOB.sub("", data.decode("utf-8"))
        for value in internal:
            assert value not in text, f"{name} still holds {value}"
        # the host name as a word (a short name also occurs inside base64 by chance)
        assert not re.search(rf"(?<![\w.-]){re.escape(host_name)}(?![\w-])", text), name
    assert "internal-address-1" in files["report.json"].decode()
    assert "redacted" in json.loads(files["manifest.json"])["notes"][0]


def require_chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if IN_CI:
            pytest.fail("chromium is missing, and CI=true must run every test")
        pytest.skip("needs Debian's chromium for the HTML check")
    return browser


def test_html_report_in_a_headless_browser(scenario: dict[str, Any], tmp_path: Path) -> None:
    browser = require_chromium()
    html = tmp_path / "report.html"
    html.write_bytes(read_zip(scenario["plain"])["report.html"])
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    smtp, proxy, blocked = scenario["ports"]
    # The matrix as the browser built it: one cell per endpoint, with its state.
    cells = {
        (m["host"], int(m["port"])): m["state"]
        for m in re.finditer(
            r'data-state="(?P<state>\w+)" data-host="(?P<host>[^"]+)" data-port="(?P<port>\d+)"',
            dom.stdout,
        )
    }
    assert cells == {
        (MAIL, smtp): "ok",
        ("mail2.dicommail.com", proxy): "crit",
        ("mail3.dicommail.com", blocked): "crit",
    }
    # German all the way, the answer first: the causes come before the details.
    assert dom.stdout.index("Ein TLS-inspizierendes Gerät (FortiGate)") < dom.stdout.index(
        "Einzelheiten je Endpunkt"
    )
    assert "tls.intercepted" in dom.stdout and "tcp.refused" in dom.stdout
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [*flags, "--window-size=1280,1600", f"--screenshot={screenshot}", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    png = screenshot.read_bytes()
    assert shot.returncode == 0 and png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert (width, height) == (1280, 1600)
    # A page with the matrix and the coloured causes, not a blank one (~5 kB at this size).
    assert len(png) > 30_000, len(png)


def test_diff_of_two_saved_reports(scenario: dict[str, Any], tmp_path: Path) -> None:
    new = json.loads(read_zip(scenario["plain"])["report.json"])
    old = json.loads(json.dumps(new))
    smtp, proxy, blocked = scenario["ports"]
    intercepted = next(e for e in old["endpoints"] if e["port"] == proxy)
    intercepted["status"] = "ok"
    intercepted["findings"] = [
        f
        for f in intercepted["findings"]
        if f["code"] not in ("tls.intercepted", "tls.client_cert_not_requested")
    ]
    intercepted["observations"]["protocol"]["tls"]["chain"] = next(
        e for e in old["endpoints"] if e["port"] == smtp
    )["observations"]["protocol"]["tls"]["chain"]
    old["endpoints"] = [e for e in old["endpoints"] if e["port"] != blocked]
    old["status"] = "ok"
    (tmp_path / "old.json").write_text(json.dumps(old), "utf-8")
    (tmp_path / "new.json").write_text(json.dumps(new), "utf-8")
    result = run_cli("diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    lines = result.stdout.splitlines()
    key = f"mail2.dicommail.com:{proxy}/smtp-starttls"
    assert "overall: ok -> crit" in lines
    assert f"{key}: ok -> crit" in lines
    assert any(line.startswith(f"{key}: + tls.intercepted: ") for line in lines)
    assert any(line.startswith(f"{key}: chain ") and "FortiGate CA" in line for line in lines)
    assert f"mail3.dicommail.com:{blocked}/pop3s: new endpoint, crit" in lines
    assert result.exit_code == 1
    same = run_cli("diff", str(tmp_path / "new.json"), str(tmp_path / "new.json"))
    assert same.stdout.strip() == "no change" and same.exit_code == 0
    # The same in German: the words around what the reports say, and the states as the
    # German output names them.
    german = run_cli("diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--lang", "de")
    said = german.stdout.splitlines()
    assert "gesamt: OK -> KRIT" in said and f"{key}: OK -> KRIT" in said
    assert f"mail3.dicommail.com:{blocked}/pop3s: neuer Endpunkt, KRIT" in said
    assert any(line.startswith(f"{key}: Kette ") for line in said)
    assert german.exit_code == 1
    unchanged = run_cli("diff", str(tmp_path / "new.json"), str(tmp_path / "new.json"), "--lang=de")
    assert unchanged.stdout.strip() == "keine Änderung" and unchanged.exit_code == 0
    bad = run_cli("diff", str(tmp_path / "old.json"), str(tmp_path))
    assert bad.exit_code == 3 and "is a folder, not a file" in bad.stderr


def test_checks_of_the_bundle_codes(scenario: dict[str, Any]) -> None:
    report = scenario["results"]["plain"].json()
    by_port = {e["port"]: e for e in report["endpoints"]}
    smtp, proxy, blocked = scenario["ports"]
    assert "tls.pinned" in codes(by_port[smtp])
    assert "tls.intercepted" in codes(by_port[proxy])
    assert "tcp.refused" in codes(by_port[blocked])


def test_a_secret_in_a_file_of_the_bundle_stops_it_naming_the_file(tmp_path: Path) -> None:
    """A POP3 server that quotes the password back lands it in the transcript: the audit
    finds it there and no bundle is written."""
    pki = make_pki()
    password = "Quoted-Back-Secret-77"
    (tmp_path / "pw").write_text(password, "utf-8")

    class Echoing(Pop3Handler):
        def _serve(self, tls: Any) -> None:
            tls.sendall(b"+OK ready\r\n")
            while line := read_line(tls):
                if line.upper().startswith(b"PASS "):
                    tls.sendall(b"-ERR wrong password: " + line[5:].strip() + b"\r\n")
                elif line.upper().startswith(b"QUIT"):
                    tls.sendall(b"+OK bye\r\n")
                    return
                else:
                    tls.sendall(b"+OK\r\n.\r\n" if line.upper().startswith(b"CAPA") else b"+OK\r\n")

    policy = TlsPolicy(verify=ssl.CERT_OPTIONAL)
    out = tmp_path / "bundle.zip"
    with (
        DnsServer(NAMES) as dns_server,
        serving(Echoing(server_context(pki, policy), policy)) as pop3,
    ):
        result = run_cli(
            "check", "--json", "--no-system-resolver", "--resolver", dns_server.spec,
            "--expect-network", "127.0.0.0/8", "--timeout", "2",
            "--target", f"{MAIL}:{pop3.port}/pop3s", "--cert", str(pki.client_pem(tmp_path)),
            # The chain proven the vendor's: only then does the password go out at all.
            "--ca", str(pki.ca_pem(tmp_path)),
            "--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "pw"),
            "--bundle", str(out),
        )  # fmt: skip
    assert result.exit_code == 3
    assert "the bundle was not written: " in result.stderr
    assert "holds the POP3 password" in result.stderr
    assert re.search(r"report\.(html|json|txt) holds", result.stderr), result.stderr
    assert password not in result.stderr + result.stdout  # the printed report is scrubbed
    assert "-ERR wrong password: ***" in result.stdout
    assert not out.exists()


@pytest.mark.parametrize("bundle", ["plain", "redacted"])
def test_no_proxy_password_in_any_file_of_either_bundle(
    scenario: dict[str, Any], bundle: str
) -> None:
    files = read_zip(scenario[bundle])
    for name, data in files.items():
        for part in (PROXY_PASSWORD, "Pr0xy", "pw@31"):
            assert part.encode() not in data, f"{bundle}:{name}"
    proxies = json.loads(files["environment.json"])["proxy_environment"]
    assert proxies["HTTP_PROXY"].startswith("***@")
