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
    """A pin file of the vendor's root and issuing CA."""
    from netdiag.pin_sources import import_pins
    from netdiag.pins import save_pins

    bundle = pki.client_p12(directory, None, name="vendor-bundle-for-pins.p12")
    path = directory / "pins.toml"
    save_pins(path, import_pins(bundle, None, [], datetime.now(UTC)))
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
