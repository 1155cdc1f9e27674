"""The machine's and the public trust stores, read in a daemon thread from the moment the
configuration is built, and the roots of inspection products among the machine's named:
a plain check needs them only to judge, after its network round, so reading them (some
300 certificates) overlaps the round's waiting; a mailbox password, held back until its
server's chain is proven, waits for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from netdiag.diagnosis.interception import diagnose_local_roots
from netdiag.probes.trust_store import read_machine_trust
from netdiag.report.model import Finding
from netdiag.trust.stores import MachineTrust, UnreadableEntry, index_of, mozilla_roots

# How often a waiting caller looks up from its wait: Ctrl-C reaches it then (a lock's wait
# cannot be interrupted on Windows).
_WAKE_S = 0.2


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """What the chains are judged against besides the user's `--ca` and the client bundle,
    and what the machine's store says by itself (`local.inspection_root`)."""

    machine: MachineTrust = field(default_factory=MachineTrust)
    public_roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    local_roots: tuple[Finding, ...] = ()


def read_stores(trust_store: Path | None) -> Stores:
    """This machine's store (`trust_store` instead where given) and the Mozilla root set,
    with their indexes built. A store that cannot be read at all is an empty store with a
    line saying why, as an unreadable entry is: the check goes on without it."""
    try:
        machine = read_machine_trust(trust_store)
    except Exception as error:  # noqa: BLE001 - any reader failure is a fact about the store
        where = str(trust_store) if trust_store is not None else "this machine's trust store"
        reason = f"{type(error).__name__}: {error}"[:200]
        machine = MachineTrust(
            name=where,
            unreadable=(UnreadableEntry(store=where, entry=0, subject="", reason=reason),),
        )
    public, _ = mozilla_roots()
    for store in (machine.roots, machine.intermediates, public):
        index_of(store)
    local = diagnose_local_roots(machine.roots, public, machine.name)
    return Stores(machine=machine, public_roots=public, local_roots=tuple(local))


class StoresReading:
    """`read()` (`read_stores` of the store to use) in a daemon thread from construction
    on; `result()` waits for it (the reading is bounded: files of a bounded size, a store
    of the system) and raises what the reading raised, in the caller's thread."""

    def __init__(self, read: Callable[[], Stores]) -> None:
        self._done = threading.Event()
        self._stores = Stores()
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._read, args=(read,), daemon=True)
        self._thread.start()

    def _read(self, read: Callable[[], Stores]) -> None:
        try:
            self._stores = read()
        except Exception as error:  # noqa: BLE001 - raised again by result()
            self._error = error
        finally:
            self._done.set()

    def result(self) -> Stores:
        while not self._done.wait(_WAKE_S):
            pass
        if self._error is not None:
            raise self._error
        return self._stores
