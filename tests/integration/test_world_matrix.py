"""The trust model against a matrix of worlds a real deployment can have, each checked
clean and intercepted, with real servers and real handshakes on loopback.

Axes (README, "Trust: what proves, what only explains"):

- vendor PKI: one private CA for servers and clients; separate private server and client
  CAs; a server chain from a public-style root (in this test's public root set) with a
  private client CA;
- where the vendor's server CAs are known: nowhere; only inside the PKCS#12 (the client
  CA, when it is the same); `--ca`; pins of the vendor's CA file; pins learned on a clean
  path (the intermediate the servers presented, its issuer recorded); the machine's Root
  store; the machine's Intermediate store (as Windows enumerates them, with their
  purposes);
- server: accepts the client certificate; rejects it with an alert after the handshake
  (TLS 1.3); renewed its leaf an hour ago; rotated to a new intermediate under the same
  root, with leaves minted an hour ago (the vendor's routine change);
- client bundle: PKCS#12 with the client CA; PKCS#12 without it; PEM certificate + key;
- machine store: normal; with one entry `cryptography` cannot load.

PKI × knowledge × server are crossed (84 worlds); the bundle shape and the store rotate
through them so that each meets every PKI and every knowledge. Required: a clean world has
no `tls.untrusted` and no `tls.intercepted`, proven chains carry no `tls.unpinned`, and
the answer never says that nothing answers; a rotation against learned pins is at most a
warning that says so (pins out of date, a likely rotation); an intercepted world with a
proof (pins, `--ca`) has `tls.intercepted` on every endpoint, without one at least a
warning with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from netdiag.renderers.summary import answer_lines
from netdiag.report.model import EndpointResult, Report, Severity, Status
from netdiag.session.runs import SessionOptions, run_session
from netdiag.session.setup import Credentials, build_check_config
from netdiag.trust.stores import SERVER_AUTH_OID, MachineTrust, machine_trust_of_windows
from tests.integration.tls_fixtures import serving
from tests.servers.dns import DnsServer
from tests.servers.interceptor import InterceptingProxy
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import SERVER_NAMES, Pki, to_pkcs12

MAIL = "mail1.dicommail.com"
ATLAS = "atlas79.mydhp.de"
CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2"
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
UNKNOWN_KEY_TYPE = bytes.fromhex("06072a8648ce3d0263")
ACCUSING = frozenset({"tls.untrusted", "tls.intercepted"})


class Shape(Enum):
    ONE_CA = "one private CA for servers and clients"
    SPLIT = "separate private server and client CAs"
    PUBLIC = "public server chain, private client CA"


class Known(Enum):
    NOWHERE = "nowhere"
    BUNDLE = "only inside the PKCS#12"
    GIVEN_CA = "--ca"
    PINS = "pins"
    LEARNED = "pins learned before a rotation"
    ROOT_STORE = "the machine's Root store"
    INTERMEDIATE_STORE = "the machine's Intermediate store"


class Behaviour(Enum):
    ACCEPTS = "accepts the client certificate"
    REJECTS = "rejects it with an alert after the handshake"
    RENEWED = "renewed its leaf an hour ago"
    ROTATED = "rotated to a new intermediate under the same root"


class Bundle(Enum):
    P12_WITH_CA = "PKCS#12 with the client CA"
    P12_WITHOUT_CA = "PKCS#12 without it"
    PEM_AND_KEY = "PEM certificate and key"


@dataclass(frozen=True)
class World:
    shape: Shape
    known: Known
    behaviour: Behaviour
    bundle: Bundle
    has_odd_store_entry: bool

    @property
    def name(self) -> str:
        odd = ", odd store entry" if self.has_odd_store_entry else ""
        return f"{self.shape.name}/{self.known.name}/{self.behaviour.name}/{self.bundle.name}{odd}"


def _worlds() -> list[World]:
    worlds = []
    for n, (shape, known, behaviour) in enumerate(itertools.product(Shape, Known, Behaviour)):
        bundle = list(Bundle)[(n + n // 3) % 3]
        worlds.append(World(shape, known, behaviour, bundle, has_odd_store_entry=n % 4 == 1))
    return worlds


WORLDS = _worlds()


@dataclass
class VendorPki:
    """The vendor's CAs of one shape, its server leaves and the gateway's certificate."""

    server_root: trustme.CA
    server_issuing: trustme.CA
    client_root: trustme.CA
    client_issuing: trustme.CA
    client: trustme.LeafCert

    def server_pki(self, leaf: trustme.LeafCert) -> Pki:
        return Pki(self.server_root, self.server_issuing, leaf, self.client)

    def client_pki(self) -> Pki:
        return Pki(self.client_root, self.client_issuing, self.client, self.client)


def make_vendor(shape: Shape) -> VendorPki:
    root_name = "GlobalTrust Public Root" if shape is Shape.PUBLIC else "Vendor Server Root CA"
    server_root = trustme.CA(organization_name=root_name)
    server_issuing = server_root.create_child_ca()
    if shape is Shape.ONE_CA:
        client_root, client_issuing = server_root, server_issuing
    else:
        client_root = trustme.CA(organization_name="Vendor Client Root CA")
        client_issuing = client_root.create_child_ca()
    client = client_issuing.issue_cert(
        "gateway.hospital.example", common_name="gateway.hospital.example"
    )
    return VendorPki(server_root, server_issuing, client_root, client_issuing, client)


def _cert(ca: trustme.CA) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.cert_pem.bytes())


def _der(ca: trustme.CA) -> bytes:
    return _cert(ca).public_bytes(Encoding.DER)


def _odd_der() -> bytes:
    der = _der(trustme.CA())
    return der.replace(EC_PUBLIC_KEY, UNKNOWN_KEY_TYPE)


@dataclass
class Site:
    """The vendor's three servers of one world and an interceptor in front of each."""

    direct: dict[str, int]
    intercepted: dict[str, int]


@pytest.fixture(scope="module")
def vendors() -> dict[Shape, VendorPki]:
    return {shape: make_vendor(shape) for shape in Shape}


@pytest.fixture(scope="module")
def sites(vendors: dict[Shape, VendorPki]) -> Iterator[dict[tuple[Shape, Behaviour], Site]]:
    inspection = trustme.CA(organization_name="Klinikum Musterstadt Inspection CA")
    foreign = trustme.CA(organization_name="Some Other Client CA")
    foreign_pki = Pki(foreign, foreign.create_child_ca(), None, None)  # type: ignore[arg-type]
    policy = TlsPolicy()
    sites = {}
    with ExitStack() as stack:
        for shape, behaviour in itertools.product(Shape, Behaviour):
            vendor = vendors[shape]
            issued = dt.datetime.now(dt.UTC) - (
                dt.timedelta(hours=1) if behaviour is Behaviour.RENEWED else dt.timedelta(days=90)
            )
            issuing = vendor.server_issuing
            if behaviour is Behaviour.ROTATED:
                issuing = vendor.server_root.create_child_ca()
                issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            leaf = issuing.issue_cert(
                *SERVER_NAMES,
                common_name=MAIL,
                not_before=issued,
                not_after=issued + dt.timedelta(days=365),
            )
            accepted = foreign_pki if behaviour is Behaviour.REJECTS else vendor.client_pki()
            served = dataclasses.replace(vendor.server_pki(leaf), issuing=issuing)
            context = server_context(served, policy, accepted)
            direct = {
                "smtp": stack.enter_context(serving(SmtpHandler(context, policy))).port,
                "pop3": stack.enter_context(serving(Pop3Handler(context, policy))).port,
                "tls": stack.enter_context(serving(HttpsHandler(context, policy))).port,
            }
            proxies = {
                service: stack.enter_context(
                    serving(InterceptingProxy(port, inspection, starttls=service == "smtp"))
                ).port
                for service, port in direct.items()
            }
            sites[(shape, behaviour)] = Site(direct, proxies)
        yield sites


def _bundle_files(vendor: VendorPki, bundle: Bundle, directory: Path) -> Credentials:
    if bundle is Bundle.PEM_AND_KEY:
        cert, key = directory / "gateway.pem", directory / "gateway.key"
        cert.write_bytes(vendor.client.cert_chain_pems[0].bytes())
        key.write_bytes(vendor.client.private_key_pem.bytes())
        return Credentials(cert=cert, key=key)
    cas = [vendor.client_issuing, vendor.client_root] if bundle is Bundle.P12_WITH_CA else []
    path = directory / "gateway.p12"
    path.write_bytes(to_pkcs12(vendor.client, cas, None))
    return Credentials(cert=path)


def _pin_file(vendor: VendorPki, directory: Path) -> Path:
    from netdiag.trust.pin_commands import import_pins
    from netdiag.trust.pins import save_pins

    ca_file = directory / "server-ca.pem"
    ca_file.write_bytes(
        vendor.server_issuing.cert_pem.bytes() + vendor.server_root.cert_pem.bytes()
    )
    cas = [_cert(vendor.server_issuing), _cert(vendor.server_root)]
    path = directory / "pins.toml"
    now = dt.datetime.now(dt.UTC)
    save_pins(path, import_pins(ca_file, cas, is_client_bundle=False, applies_to=[], now=now))
    return path


def _learned_pin_file(vendor: VendorPki, directory: Path) -> Path:
    """The pins `netdiag pins learn` leaves on a clean path before a rotation: the
    intermediate the servers presented (not the root, which they do not send), its issuer
    recorded."""
    from netdiag.trust.pin_commands import pin_for
    from netdiag.trust.pins import PinSet, save_pins

    now = dt.datetime.now(dt.UTC)
    pin = pin_for(
        _cert(vendor.server_issuing), ["*"], "learned before the rotation", now,
        records_issuer=True,
    )  # fmt: skip
    path = directory / "learned.toml"
    save_pins(path, PinSet((pin,)))
    return path


def _machine(world: World, vendor: VendorPki) -> MachineTrust:
    """This machine's stores as Windows enumerates them: (DER, encoding, purposes)."""
    root: list[tuple[bytes, str, object]] = [
        # An unrelated root trusted for client authentication only: never a server anchor.
        (_der(trustme.CA()), "x509_asn", {CLIENT_AUTH_OID}),
    ]
    intermediate: list[tuple[bytes, str, object]] = []
    if world.known is Known.ROOT_STORE:
        root.append((_der(vendor.server_root), "x509_asn", {SERVER_AUTH_OID}))
    if world.known is Known.INTERMEDIATE_STORE:
        intermediate += [
            (_der(vendor.server_issuing), "x509_asn", True),
            (_der(vendor.server_root), "x509_asn", True),
        ]
    if world.has_odd_store_entry:
        root.append((_odd_der(), "x509_asn", True))
    return machine_trust_of_windows(root, intermediate)


def _check(
    world: World,
    vendor: VendorPki,
    ports: dict[str, int],
    dns_server: DnsServer,
    directory: Path,
) -> Report:
    credentials = _bundle_files(vendor, world.bundle, directory)
    if world.known is Known.GIVEN_CA:
        ca_file = directory / "server-ca.pem"
        ca_file.write_bytes(vendor.server_root.cert_pem.bytes())
        credentials = dataclasses.replace(credentials, ca_files=(ca_file,))
    pins = [_pin_file(vendor, directory)] if world.known is Known.PINS else []
    if world.known is Known.LEARNED:
        pins = [_learned_pin_file(vendor, directory)]
    config = build_check_config(
        profile_path=None,
        targets=[
            f"{MAIL}:{ports['smtp']}/smtp-starttls",
            f"{MAIL}:{ports['pop3']}/pop3s",
            f"{ATLAS}:{ports['tls']}/tls",
        ],
        only=[],
        resolvers=[dns_server.spec],
        uses_system_resolver=False,
        expected_networks=["127.0.0.0/8"],
        timeout_s=3.0,
        deadline_s=20.0,
        repeat=1,
        credentials=credentials,
        pin_files=pins,
    )
    public = (_cert(vendor.server_root),) if world.shape is Shape.PUBLIC else (_cert(trustme.CA()),)
    trust = dataclasses.replace(config.trust, machine=_machine(world, vendor), public_roots=public)
    # The world's stores in place of this machine's (read beside the round otherwise).
    return run_session(dataclasses.replace(config, trust=trust, stores=None), SessionOptions())


def _codes(endpoint: EndpointResult) -> set[str]:
    return {f.code for f in endpoint.findings}


def _is_proven(world: World) -> bool:
    if world.known is Known.LEARNED and world.behaviour is Behaviour.ROTATED:
        return world.shape is Shape.PUBLIC  # the public roots prove it; the pins are old
    return world.known in (Known.GIVEN_CA, Known.PINS, Known.LEARNED) or world.shape is Shape.PUBLIC


# What a rotation against old, learned pins may say: a warning, never an accusation.
ROTATION_SAYS = frozenset({"tls.rotation_suspected", "tls.pins_outdated"})


def _is_rotation_against_old_pins(world: World) -> bool:
    return world.known is Known.LEARNED and world.behaviour is Behaviour.ROTATED


@dataclass
class Bench:
    """What every world's check needs: the vendors, their sites, the DNS server, a folder."""

    vendors: dict[Shape, VendorPki]
    sites: dict[tuple[Shape, Behaviour], Site]
    dns_server: DnsServer
    tmp_path: Path

    def check(self, world: World, *, intercepted: bool) -> Report:
        site = self.sites[(world.shape, world.behaviour)]
        ports = site.intercepted if intercepted else site.direct
        return _check(world, self.vendors[world.shape], ports, self.dns_server, self.tmp_path)


@pytest.fixture
def bench(
    vendors: dict[Shape, VendorPki],
    sites: dict[tuple[Shape, Behaviour], Site],
    dns_server: DnsServer,
    tmp_path: Path,
) -> Bench:
    return Bench(vendors, sites, dns_server, tmp_path)


@pytest.mark.parametrize("world", WORLDS, ids=[w.name for w in WORLDS])
def test_a_clean_world_stays_clean(world: World, bench: Bench) -> None:
    report = bench.check(world, intercepted=False)
    for endpoint in report.endpoints:
        found = _codes(endpoint)
        assert not found & ACCUSING, (endpoint.target.label, endpoint.findings)
        if _is_rotation_against_old_pins(world):
            assert found & ROTATION_SAYS, (endpoint.target.label, found)
        elif _is_proven(world):
            assert found & {"tls.pinned", "tls.verified"}, (endpoint.target.label, found)
            assert "tls.unpinned" not in found, (endpoint.target.label, found)
        if world.behaviour is not Behaviour.REJECTS:
            assert endpoint.protocol is not None and endpoint.protocol.stopped_at.value == "done"
            allowed = {"tls.unpinned", *ROTATION_SAYS}
            assert all(
                f.severity is Severity.INFO or f.code in allowed for f in endpoint.findings
            ), endpoint.findings
    answer = " ".join(answer_lines(report, "en"))
    assert "Nothing" not in answer, answer
    if _is_rotation_against_old_pins(world):
        # The pins are old: said as a warning (the vendor rotated), never as an interception.
        assert report.status is Status.WARN, report.status
    elif world.behaviour is not Behaviour.REJECTS:
        # A healthy path is OK (exit 0), proven or not: an unverified chain whose server did
        # the vendor's client-certificate dance is said, not warned about.
        assert report.status is Status.OK, [
            (f.code, f.summary)
            for f in (*report.local_findings, *(f for e in report.endpoints for f in e.findings))
            if f.severity is not Severity.INFO
        ]
    if world.behaviour is not Behaviour.REJECTS and not _is_rotation_against_old_pins(world):
        # Every endpoint is counted as working or as answering with its chain unverified.
        said = ("Working: ", "Every endpoint works", "endpoints answer", "Answering")
        assert any(part in answer for part in said), answer
        if not _is_proven(world):
            assert "not verified" in answer, answer
    if world.has_odd_store_entry:
        assert any(n.key == "store_entry_unreadable" for n in report.notes)


@pytest.mark.parametrize("world", WORLDS, ids=[w.name for w in WORLDS])
def test_an_intercepted_world_is_named(world: World, bench: Bench) -> None:
    report = bench.check(world, intercepted=True)
    for endpoint in report.endpoints:
        found = _codes(endpoint)
        if world.known in (Known.GIVEN_CA, Known.PINS, Known.LEARNED):
            assert "tls.intercepted" in found, (endpoint.target.label, endpoint.findings)
        else:
            # No proof of the vendor's chain: at least a warning that gives the reason.
            reasons = [
                f
                for f in endpoint.findings
                if f.code == "tls.intercepted"
                or (f.code == "tls.unpinned" and "signs of inspection" in f.summary)
            ]
            assert reasons, (endpoint.target.label, endpoint.findings)
        assert endpoint.status.value >= 1


def _profile(directory: Path, ports: dict[str, int]) -> Path:
    hosts = ", ".join(f'"mail{n}.dicommail.com"' for n in range(1, 7))
    path = directory / "connectmt-on-loopback.toml"
    path.write_text(
        f"""
name = "connectMT on loopback"
expected_networks = ["127.0.0.0/8"]
[[endpoints]]
hosts = [{hosts}]
port = {ports["smtp"]}
service = "smtp-starttls"
[[endpoints]]
hosts = [{hosts}]
port = {ports["pop3"]}
service = "pop3s"
[[endpoints]]
host = "{ATLAS}"
port = {ports["tls"]}
service = "tls"
""",
        "utf-8",
    )
    return path


@pytest.mark.parametrize("bundle", list(Bundle), ids=[b.name for b in Bundle])
def test_all_13_endpoints_with_the_gateways_bundle_through_the_cli(
    bundle: Bundle,
    vendors: dict[Shape, VendorPki],
    sites: dict[tuple[Shape, Behaviour], Site],
    dns_server: DnsServer,
    tmp_path: Path,
) -> None:
    """`netdiag check --cert gateway.p12` on a healthy path, the vendor's server and client
    CAs apart: OK on all 13 endpoints; `--ca` with the servers' root keeps it OK; with the
    client CA's root instead (the wrong one) it is tls.untrusted, and no firewall is
    accused."""
    from tests.conftest import run_cli

    vendor = vendors[Shape.SPLIT]
    credentials = _bundle_files(vendor, bundle, tmp_path)
    cert = ["--cert", str(credentials.cert)] + (
        ["--key", str(credentials.key)] if credentials.key is not None else []
    )
    profile = _profile(tmp_path, sites[(Shape.SPLIT, Behaviour.ACCEPTS)].direct)
    common = [
        "check", "--json", "--profile", str(profile),
        "--no-system-resolver", "--resolver", dns_server.spec, "--timeout", "3", *cert,
    ]  # fmt: skip
    right, wrong = tmp_path / "server-root.pem", tmp_path / "client-root.pem"
    right.write_bytes(vendor.server_root.cert_pem.bytes())
    wrong.write_bytes(vendor.client_root.cert_pem.bytes())

    plain = run_cli(*common)
    report = plain.json()
    assert plain.exit_code == 0, [e["findings"] for e in report["endpoints"]]
    assert len(report["endpoints"]) == 13 and {e["status"] for e in report["endpoints"]} == {"ok"}
    assert report["causes"] == [] and len(report["working"]) == 13
    table = run_cli(*[a for a in common if a != "--json"])
    assert "All 13 endpoints answer" in table.stdout and "not verified" in table.stdout
    with_ca = run_cli(*common, "--ca", str(right))
    assert with_ca.exit_code == 0
    assert all(
        "tls.verified" in {f["code"] for f in e["findings"]} for e in with_ca.json()["endpoints"]
    )
    with_wrong = run_cli(*common, "--ca", str(wrong))
    found = [{f["code"] for f in e["findings"]} for e in with_wrong.json()["endpoints"]]
    assert all("tls.untrusted" in codes and "tls.intercepted" not in codes for codes in found)
    assert with_wrong.exit_code == 2
