"""Proof that holds, against real servers on loopback: a chain is the vendor's server only
with possession, path, name, purpose and validity — and each missing part is named, with
its healthy twin staying pinned and OK. Routine changes of the vendor (a new intermediate
under the same root) are never called interception; a secret goes only to the proven."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.conftest import CliResult, codes, run_cli
from tests.integration.tls_fixtures import check, only_endpoint, serving, vendor_pins
from tests.servers.base import read_line
from tests.servers.dns import DnsServer
from tests.servers.mail import (
    HttpsHandler,
    Pop3Handler,
    TlsChannel,
    TlsPolicy,
    server_context,
)
from tests.servers.pki import Pki, leaf_cert, make_pki
from tests.servers.replay import replay_chain

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"
REQUIRED = TlsPolicy()
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pins(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vendor_pins(pki, tmp_path_factory.mktemp("pins"))


@pytest.fixture(scope="module")
def client_pem(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.client_pem(tmp_path_factory.mktemp("client"))


def with_server(pki: Pki, server: trustme.LeafCert) -> Pki:
    return dataclasses.replace(pki, server=server)


def https(pki: Pki, policy: TlsPolicy = REQUIRED, **options: Any) -> HttpsHandler:
    return HttpsHandler(server_context(pki, policy), policy, **options)


def chain_der(pki: Pki) -> list[bytes]:
    return [
        x509.load_pem_x509_certificate(pem.bytes()).public_bytes(Encoding.DER)
        for pem in (pki.server.cert_chain_pems[0], pki.issuing.cert_pem)
    ]


# --- possession -----------------------------------------------------------------------


def test_a_replayed_genuine_chain_without_its_key_is_never_pinned(
    pki: Pki, dns_server: DnsServer, pins: Path
) -> None:
    """The vendor's genuine chain, copied off the wire and replayed by a server without the
    key: the handshake fails, and the chain it showed proves nothing."""
    with serving(replay_chain(chain_der(pki))) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(pins))
    found = codes(only_endpoint(result))
    assert "tls.pinned" not in found and "tls.verified" not in found, found
    assert "tls.chain_unproven" in found and "tls.handshake_failed" in found, found
    assert result.exit_code == 2


def test_the_genuine_server_with_its_key_is_pinned(
    pki: Pki, dns_server: DnsServer, pins: Path, client_pem: Path
) -> None:
    with serving(https(pki)) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(pins), "--cert", str(client_pem)
        )
    endpoint = only_endpoint(result)
    assert "tls.pinned" in codes(endpoint) and endpoint["status"] == "ok"
    pinned = next(f for f in endpoint["findings"] if f["code"] == "tls.pinned")
    evidence = "\n".join(pinned["evidence"])
    for part in ("possession: the handshake completed", "name: atlas79.mydhp.de is in", "purpose:"):
        assert part in evidence, evidence
    assert "validity by this machine's clock" in evidence
    assert result.exit_code == 0


# --- name and purpose ------------------------------------------------------------------


OTHER_GATEWAY = "dicom-gw-77.other-hospital.example"


@pytest.mark.parametrize("proof", ["pins", "ca", "pins and ca"])
def test_another_gateways_certificate_from_the_vendors_ca_is_not_the_server(
    pki: Pki, dns_server: DnsServer, pins: Path, client_pem: Path, tmp_path: Path, proof: str
) -> None:
    """Vendors issue servers and gateways from one CA: a server presenting another
    hospital's gateway certificate (clientAuth only, its own name) has the path — and is
    not the vendor's server. Anyone holding any gateway's PKCS#12 could be that server."""
    gateway = leaf_cert(
        pki.issuing,
        OTHER_GATEWAY,
        common_name=OTHER_GATEWAY,
        usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    extra = {
        "pins": ["--pins", str(pins)],
        "ca": ["--pins", str(tmp_path / "none.toml"), "--ca", str(pki.ca_pem(tmp_path))],
        "pins and ca": ["--pins", str(pins), "--ca", str(pki.ca_pem(tmp_path))],
    }[proof]
    (tmp_path / "none.toml").write_text('format = "netdiag.pins/1"\n', "utf-8")
    with serving(https(with_server(pki, gateway))) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", *extra, "--cert", str(client_pem))
    endpoint = only_endpoint(result)
    found = codes(endpoint)
    assert "tls.not_the_server" in found, found
    assert not found & {"tls.pinned", "tls.verified", "tls.intercepted"}, found
    summary = next(f for f in endpoint["findings"] if f["code"] == "tls.not_the_server")["summary"]
    assert f"not for {ATLAS}" in summary and "clientAuth only" in summary
    assert result.exit_code == 2


def test_a_server_certificate_for_the_right_name_from_the_same_ca_is_pinned(
    pki: Pki, dns_server: DnsServer, pins: Path, client_pem: Path
) -> None:
    """The twin: the same CA, a serverAuth certificate for the name: pinned, OK."""
    own = leaf_cert(pki.issuing, ATLAS, common_name=ATLAS, usages=[ExtendedKeyUsageOID.SERVER_AUTH])
    with serving(https(with_server(pki, own))) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(pins), "--cert", str(client_pem)
        )
    assert "tls.pinned" in codes(only_endpoint(result)) and result.exit_code == 0


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=30), "tls.server_cert_expired"),
        (NOW + dt.timedelta(days=2), NOW + dt.timedelta(days=400), "tls.server_cert_not_yet_valid"),
    ],
    ids=["expired 30 days ago", "valid from the day after tomorrow"],
)
def test_a_vendor_leaf_outside_its_dates_is_not_pinned(
    pki: Pki,
    dns_server: DnsServer,
    pins: Path,
    client_pem: Path,
    start: dt.datetime,
    end: dt.datetime,
    code: str,
) -> None:
    """Both clocks agree (the server's HTTP Date is right): the vendor's certificate."""
    leaf = leaf_cert(pki.issuing, ATLAS, common_name=ATLAS, not_before=start, not_after=end)
    with serving(https(with_server(pki, leaf))) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(pins), "--cert", str(client_pem)
        )
    endpoint = only_endpoint(result)
    found = codes(endpoint)
    assert code in found and "tls.pinned" not in found and "clock.offset" not in found, found
    summary = next(f for f in endpoint["findings"] if f["code"] == code)["summary"]
    assert "by this machine's clock and by the servers' clock" in summary
    assert result.exit_code == 2


# --- a rotation of the vendor's CA -----------------------------------------------------


def _learned_pins(pki: Pki, dns_server: DnsServer, client_pem: Path, out: Path) -> Path:
    """`netdiag pins learn` against the vendor's genuine servers, as on a clean path."""
    with (
        serving(https(pki)) as atlas,
        serving(Pop3Handler(server_context(pki, REQUIRED), REQUIRED)) as pop3,
    ):
        learned = run_cli(
            "pins", "learn", "--yes", "--out", str(out), "--cert", str(client_pem),
            "--no-system-resolver", "--resolver", dns_server.spec,
            "--expect-network", "127.0.0.0/8", "--timeout", "2",
            "--target", f"{ATLAS}:{atlas.port}/tls", "--target", f"{MAIL}:{pop3.port}/pop3s",
        )  # fmt: skip
    assert learned.exit_code == 0, learned.stderr
    text = out.read_text("utf-8")
    assert "Vendor Issuing CA" in text and "issuer = " in text and "issuer_key_id = " in text
    return out


@pytest.fixture(scope="module")
def rotated(pki: Pki) -> Pki:
    """The vendor's servers moved to a new intermediate under the same root, with leaves
    minted today (as a rotation does)."""
    sibling = trustme.CA(parent_cert=pki.root, organization_name="Vendor Issuing CA 2")
    leaf = sibling.issue_cert(
        ATLAS, MAIL, common_name=ATLAS, not_before=NOW - dt.timedelta(hours=2)
    )
    return dataclasses.replace(pki, issuing=sibling, server=leaf)


def test_a_rotation_with_ca_given_is_pins_out_of_date_never_interception(
    pki: Pki, rotated: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    learned = _learned_pins(pki, dns_server, client_pem, tmp_path / "pins.toml")
    policy = REQUIRED
    with serving(HttpsHandler(server_context(rotated, policy, pki), policy)) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(learned),
            "--ca", str(pki.ca_pem(tmp_path)), "--cert", str(client_pem),
        )  # fmt: skip
    found = codes(only_endpoint(result))
    assert "tls.pins_outdated" in found and "tls.intercepted" not in found, found
    assert result.exit_code == 1
    [cause] = result.json()["causes"]
    assert cause["code"] == "tls.pins_outdated" and "pins learn" in cause["remedy"]


def test_a_rotation_without_ca_reads_as_a_likely_rotation(
    pki: Pki, rotated: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    """No proof but the old pins: the new intermediate names the pinned CA's own issuer,
    and the server asked for the gateway's certificate and completed the protocol — a
    rotation is the likely reading, and how to prove it is said."""
    learned = _learned_pins(pki, dns_server, client_pem, tmp_path / "pins.toml")
    policy = REQUIRED
    with serving(HttpsHandler(server_context(rotated, policy, pki), policy)) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(learned),
            "--cert", str(client_pem),
        )  # fmt: skip
    endpoint = only_endpoint(result)
    found = codes(endpoint)
    assert "tls.rotation_suspected" in found and "tls.intercepted" not in found, found
    remedy = next(f for f in endpoint["findings"] if f["code"] == "tls.rotation_suspected")[
        "remedy"
    ]
    assert "--ca" in remedy and result.exit_code == 1


def test_a_rotation_seen_without_the_gateways_certificate_is_no_interception(
    pki: Pki, rotated: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    """Without --cert the server's demand for a certificate ends the dialogue — it asked
    for one, as the recorded server did: still a likely rotation, never interception."""
    learned = _learned_pins(pki, dns_server, client_pem, tmp_path / "pins.toml")
    policy = REQUIRED
    with serving(HttpsHandler(server_context(rotated, policy, pki), policy)) as server:
        result = check(dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(learned))
    found = codes(only_endpoint(result))
    assert "tls.rotation_suspected" in found and "tls.intercepted" not in found, found


def test_a_forged_chain_against_the_same_learned_pins_is_intercepted(
    pki: Pki, dns_server: DnsServer, client_pem: Path, tmp_path: Path
) -> None:
    """The twin: an interceptor's chain (another root, no client certificate asked for)
    against the same learned pins stays `tls.intercepted`."""
    learned = _learned_pins(pki, dns_server, client_pem, tmp_path / "pins.toml")
    forged = make_pki("Klinikum Inspection")
    none = TlsPolicy(verify=ssl.CERT_NONE)
    with serving(https(forged, none)) as server:
        result = check(
            dns_server, f"{ATLAS}:{server.port}/tls", "--pins", str(learned),
            "--cert", str(client_pem),
        )  # fmt: skip
    assert "tls.intercepted" in codes(only_endpoint(result)) and result.exit_code == 2


# --- secrets only to the proven --------------------------------------------------------


class Recording(Pop3Handler):
    """A POP3 server that records every line it receives (as a hostile one would)."""

    def __init__(self, *args: Any, seen: list[bytes], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen = seen

    def _serve(self, tls: TlsChannel) -> None:
        tls.sendall(b"+OK ready\r\n")
        while line := read_line(tls):
            self.seen.append(line)
            word = line.strip().split(b" ")[0].upper()
            if word == b"CAPA":
                tls.sendall(b"+OK\r\nUSER\r\n.\r\n")
            elif word == b"QUIT":
                tls.sendall(b"+OK bye\r\n")
                return
            else:
                tls.sendall(b"+OK\r\n")


MAILBOX_PASSWORD = "Mailbox-Only-For-The-Proven-4d2"


@pytest.mark.parametrize(
    ("server_pki", "proof", "is_sent"),
    [("vendor", "pins", True), ("vendor", "none", False), ("forged", "pins", False)],
    ids=["proven by pins", "no proof at all", "rejected by the pins"],
)
def test_the_mailbox_password_goes_only_to_a_proven_server(
    pki: Pki,
    dns_server: DnsServer,
    pins: Path,
    client_pem: Path,
    tmp_path: Path,
    server_pki: str,
    proof: str,
    is_sent: bool,
) -> None:
    seen: list[bytes] = []
    served = pki if server_pki == "vendor" else make_pki("Klinikum Inspection")
    policy = TlsPolicy(verify=ssl.CERT_OPTIONAL)
    (tmp_path / "pw").write_text(MAILBOX_PASSWORD, "utf-8")
    (tmp_path / "none.toml").write_text('format = "netdiag.pins/1"\n', "utf-8")
    pin_file = pins if proof == "pins" else tmp_path / "none.toml"
    with serving(Recording(server_context(served, policy, pki), policy, seen=seen)) as server:
        result: CliResult = check(
            dns_server, f"{MAIL}:{server.port}/pop3s", "--pins", str(pin_file),
            "--cert", str(client_pem),
            "--pop3-user", "gateway", "--pop3-password-file", str(tmp_path / "pw"),
        )  # fmt: skip
    received = b"\n".join(seen)
    assert (MAILBOX_PASSWORD.encode() in received) is is_sent, received
    assert (b"USER gateway" in received) is is_sent
    found = codes(only_endpoint(result))
    assert ("pop3.login_withheld" in found) is not is_sent, found
