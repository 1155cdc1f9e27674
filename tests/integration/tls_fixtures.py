"""Fixtures shared by the TLS tests: PKIs, client files, the vendor's names on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import CliResult, run_cli
from tests.servers.base import Server
from tests.servers.dns import DnsServer, addresses
from tests.servers.pki import Pki

NAMES = {f"mail{n}.dicommail.com": addresses("127.0.0.1") for n in range(1, 7)}
NAMES["atlas79.mydhp.de"] = addresses("127.0.0.1")


@contextmanager
def serving(handler: Callable[[socket.socket], None]) -> Iterator[Server]:
    with Server(handler) as server:
        yield server


def check(dns_server: DnsServer, target: str, *extra: str, timeout: str = "2") -> CliResult:
    return run_cli(
        "check",
        "--json",
        "--no-system-resolver",
        "--resolver",
        dns_server.spec,
        "--expect-network",
        "127.0.0.0/8",
        "--timeout",
        timeout,
        "--target",
        target,
        *extra,
    )


def only_endpoint(result: CliResult) -> dict:  # type: ignore[type-arg]
    assert result.stdout, result.stderr
    (endpoint,) = result.json()["endpoints"]
    return endpoint  # type: ignore[no-any-return]


def vendor_pins(pki: Pki, directory: Path) -> Path:
    """A pin file of the vendor's root and issuing CA, imported from its CA file."""
    from netdiag.trust.pin_commands import import_candidates, import_pins
    from netdiag.trust.pins import save_pins

    ca_file = pki.ca_pem(directory)  # the servers' CA file, as the vendor delivers it
    candidates = import_candidates(ca_file, None)
    assert not candidates.is_client_bundle
    pins = import_pins(
        ca_file, candidates.cas, is_client_bundle=False, applies_to=[], now=datetime.now(UTC)
    )
    path = directory / "pins.toml"
    save_pins(path, pins)
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
