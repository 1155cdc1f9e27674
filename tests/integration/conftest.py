"""What most integration tests share: the vendor's test PKI and a DNS server that answers
every vendor host with loopback, one of each per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.tls_fixtures import NAMES
from tests.servers.dns import DnsServer
from tests.servers.pki import Pki, make_pki


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(NAMES) as server:
        yield server
