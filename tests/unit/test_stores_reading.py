"""The trust stores read beside the round (netdiag.session.stores): what a read gives, a
store that cannot be read at all, a reading that fails or takes its time, and the
configuration that waits for it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import trustme
from cryptography import x509

from netdiag.session.config import CheckConfig
from netdiag.session.setup import build_check_config
from netdiag.session.stores import Stores, StoresReading, read_stores
from netdiag.trust.stores import MachineTrust, mozilla_roots


def _store(tmp_path: Path, *cas: trustme.CA) -> Path:
    path = tmp_path / "store.pem"
    path.write_bytes(b"".join(ca.cert_pem.bytes() for ca in cas))
    return path


def test_a_store_given_is_read_with_the_public_roots_and_its_product_roots_named(
    tmp_path: Path,
) -> None:
    eset = trustme.CA(organization_name="ESET SSL Filter CA")
    plain = trustme.CA(organization_name="Hospital Root")
    stores = read_stores(_store(tmp_path, eset, plain))
    assert len(stores.machine.roots) == 2 and stores.machine.unreadable == ()
    assert stores.public_roots == mozilla_roots()[0]
    assert [f.code for f in stores.local_roots] == ["local.inspection_root"]
    assert "ESET" in stores.local_roots[0].summary


def test_a_store_without_product_roots_names_none(tmp_path: Path) -> None:
    stores = read_stores(_store(tmp_path, trustme.CA(organization_name="Hospital Root")))
    assert len(stores.machine.roots) == 1 and stores.local_roots == ()


@pytest.mark.parametrize(
    ("name", "says"),
    [("missing.pem", "missing.pem"), ("bad\0name.pem", "ValueError")],
    ids=["missing file", "a name the system refuses"],
)
def test_a_store_that_cannot_be_read_is_an_empty_store_with_the_reason(
    tmp_path: Path, name: str, says: str
) -> None:
    stores = read_stores(tmp_path / name)
    assert stores.machine.roots == ()
    (entry,) = stores.machine.unreadable
    assert says in entry.reason or says in entry.store
    assert stores.public_roots  # the public roots are read all the same


def test_the_reading_is_waited_for_and_given_whole() -> None:
    release = threading.Event()
    given = Stores(machine=MachineTrust(name="slow store"))

    def slow() -> Stores:
        release.wait(5)
        return given

    reading = StoresReading(slow)
    waited: list[Stores] = []
    waiter = threading.Thread(target=lambda: waited.append(reading.result()))
    waiter.start()
    time.sleep(0.3)
    assert waited == []  # still reading: the caller waits
    release.set()
    waiter.join(5)
    assert waited == [given]


def test_what_the_reading_raised_is_raised_to_the_caller() -> None:
    def broken() -> Stores:
        raise OSError("store service not running")

    reading = StoresReading(broken)
    for _ in range(2):  # every caller hears it, not only the first
        with pytest.raises(OSError, match="store service not running"):
            reading.result()


def _config(target: str, trust_store: Path | None = None) -> CheckConfig:
    return build_check_config(
        profile_path=None,
        targets=[target],
        only=[],
        resolvers=[],
        uses_system_resolver=True,
        expected_networks=[],
        timeout_s=1.0,
        deadline_s=2.0,
        repeat=1,
        trust_store=trust_store,
    )


def test_the_configuration_judges_against_the_stores_read_beside_it(tmp_path: Path) -> None:
    store = _store(tmp_path, trustme.CA(organization_name="Kaspersky Anti-Virus Root"))
    config = _config("127.0.0.1:1/tls", store)
    assert config.stores is not None
    trust = config.judged_against()
    assert [c.subject for c in trust.machine.roots] == [
        x509.load_pem_x509_certificate(store.read_bytes()).subject
    ]
    assert trust.public_roots == mozilla_roots()[0]
    assert [f.code for f in config.local_roots()] == ["local.inspection_root"]


def test_a_configuration_that_holds_its_stores_is_judged_against_those() -> None:
    """Built directly (tests, other commands): no reading, the stores it was given."""
    root = x509.load_pem_x509_certificate(
        trustme.CA(organization_name="Sophos SSL CA").cert_pem.bytes()
    )
    config = CheckConfig(targets=())
    held = config.judged_against()
    assert held is config.trust and config.local_roots() == ()
    with_root = replace(config, trust=replace(config.trust, machine=MachineTrust(roots=(root,))))
    assert [f.code for f in with_root.local_roots()] == ["local.inspection_root"]


def test_a_check_without_tls_endpoints_reads_no_store() -> None:
    config = _config("127.0.0.1:1/tcp")
    assert config.stores is None and config.judged_against().machine.roots == ()
