"""Shared test machinery: loopback-only network guard, CI skip policy, CLI runner."""

from __future__ import annotations

import io
import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from netdiag.cli import main
from netdiag.console import Console

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Under CI=true a skip or an xfail fails the run.
pytest_plugins = ["tests.ci_guard", "pytester"]


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return host == "localhost"
    return True  # AF_UNIX paths and the like stay on this machine


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Refuse, inside the test process, any connection or datagram leaving loopback.

    Namespace tests run netdiag in `ip netns exec` subprocesses, where their own namespaces
    are the only network there is.
    """
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise PermissionError(f"test tried to leave loopback: {address!r}")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise PermissionError(f"test tried to leave loopback: {address!r}")
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        if not _is_loopback(args[-1]):
            raise PermissionError(f"test tried to leave loopback: {args[-1]!r}")
        return original_sendto(self, data, *args)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = original_sendto  # type: ignore[method-assign]


@pytest.fixture(autouse=True, scope="session")
def _isolated_configuration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Neither the user's pin files nor this machine's trust store take part in a test:
    each test that needs them brings its own."""
    home = tmp_path_factory.mktemp("netdiag-config")
    empty_store = home / "empty-trust-store.pem"
    empty_store.write_text("", "utf-8")
    # The machine's web proxies neither: a test that wants one configures it (this is also
    # what the namespace subprocesses inherit).
    proxies = [
        name
        for base in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
        for name in (base, base.lower())
    ]
    saved = {
        k: os.environ.get(k) for k in ("NETDIAG_CONFIG_DIR", "NETDIAG_LOCAL_TRUST_STORE", *proxies)
    }
    for name in proxies:
        os.environ.pop(name, None)
    os.environ["NETDIAG_CONFIG_DIR"] = str(home)
    os.environ["NETDIAG_LOCAL_TRUST_STORE"] = str(empty_store)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.stdout)
        assert_never_ok_unless_checked(report)
        return report

    def endpoint(self, host: str, port: int) -> dict[str, Any]:
        for endpoint in self.json()["endpoints"]:
            if endpoint["host"] == host and endpoint["port"] == port:
                return endpoint  # type: ignore[no-any-return]
        raise AssertionError(f"no endpoint {host}:{port} in the report")


def run_cli(*args: str) -> CliResult:
    """Run the real entry point in-process with captured stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), Console(out, err))
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_never_ok_unless_checked(report: dict[str, Any]) -> None:
    """The invariant, asserted on every report a test reads: an endpoint is `ok` only if
    its probe completed (a connect for `tcp`, a dialogue that reached `done` otherwise)."""
    for endpoint in report.get("endpoints", ()):
        if endpoint["status"] != "ok":
            continue
        observations = endpoint["observations"]
        assert endpoint["completed"], endpoint
        assert any(t["outcome"] == "open" for t in observations["tcp"]), endpoint
        if endpoint["service"] != "tcp":
            protocol = observations["protocol"]
            assert protocol is not None and protocol["stopped_at"] == "done", endpoint


def codes(endpoint: dict[str, Any]) -> set[str]:
    return {f["code"] for f in endpoint["findings"]}


# The namespace tests that run the vendor's site in real software (Postfix, Dovecot, nginx,
# Squid): a group of their own, beside the other namespace tests.
REAL_SOFTWARE = (
    "test_real_servers.py",
    "test_squid_bump.py",
    "test_cut_place.py",
    "test_syn_place.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Which tests share an xdist worker: the network-namespace tests in two groups (they
    build and tear down namespaces and routes of their own, and mostly wait: the real
    daemons' worlds on one, the rest on another), every other module on one worker of its
    own (its module fixtures are made once)."""
    for item in items:
        path = item.path.as_posix()
        group = path
        if "/tests/netns/" in path:
            group = "netns-real" if item.path.name in REAL_SOFTWARE else "netns"
        item.add_marker(pytest.mark.xdist_group(group))
