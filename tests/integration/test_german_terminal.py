"""`check --lang de` on the terminal holds no English sentence of netdiag's own: the
client-certificate line, this machine's trust-store findings, "(+N more)", "details:",
the notes (pin files, the Windows-only host requirements) — all in German."""

from __future__ import annotations

from pathlib import Path

import trustme

from tests.conftest import run_cli
from tests.integration.tls_fixtures import serving, vendor_pins
from tests.servers.dns import DnsServer
from tests.servers.mail import SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import Pki, make_pki
from tests.unit.test_messages import _english_fragments

MAIL = "mail1.dicommail.com"
NO_REQUEST = TlsPolicy(verify=0)  # type: ignore[arg-type]  # ssl.CERT_NONE


def test_the_german_terminal_output_is_german(
    pki: Pki, dns_server: DnsServer, tmp_path: Path
) -> None:
    store = tmp_path / "store.pem"
    store.write_bytes(
        trustme.CA(
            organization_name="Kaspersky Anti-Virus Personal Root Certificate"
        ).cert_pem.bytes()
    )
    pins = vendor_pins(make_pki("Another Vendor"), tmp_path)
    # A server that does not ask for the client certificate, with a chain the pins do not
    # anchor: more than one finding on the endpoint, so that the row says how many more.
    with serving(SmtpHandler(server_context(pki, NO_REQUEST), NO_REQUEST)) as server:
        result = run_cli(
            "check", "--lang", "de", "--no-system-resolver", "--resolver", dns_server.spec,
            "--expect-network", "127.0.0.0/8", "--timeout", "2",
            "--target", f"{MAIL}:{server.port}/smtp-starttls", "--target", f"{MAIL}:1/tcp",
            "--cert", str(pki.client_pem(tmp_path)), "--pins", str(pins),
            "--trust-store", str(store), "--host",
        )  # fmt: skip
    out = result.stdout
    for english in (
        "client certificate:",
        " more)",
        "details: --json",
        "do not apply",
        "note:",
        "this machine trusts",
        "Working:",
    ):
        assert english not in out, (english, out)
    assert "Client-Zertifikat:" in out and "Einzelheiten: --json" in out
    assert "Hinweis: Pins:" in out and "gelten auf Linux nicht" in out
    assert "weitere)" in out
    found = [p for p in _english_fragments() if p in out]
    assert found == [], found
