"""This machine's trust store, read: Windows' Root and Intermediate ("CA") stores through
the standard library (`ssl.enum_certificates`, with each entry's purposes), the system's CA
bundle elsewhere, or a PEM bundle given instead (`--trust-store`,
NETDIAG_LOCAL_TRUST_STORE). What the entries mean is `netdiag.trust.stores`'."""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

from netdiag.trust.stores import MachineTrust, machine_trust_of_windows, pem_bundle

LOCAL_STORE_ENV = "NETDIAG_LOCAL_TRUST_STORE"


def read_machine_trust(override: Path | None = None) -> MachineTrust:
    """What this machine trusts, and where that came from: `override` (or
    NETDIAG_LOCAL_TRUST_STORE) as a PEM bundle of anchors, else the system's store."""
    path = override or (
        Path(os.environ[LOCAL_STORE_ENV]) if os.environ.get(LOCAL_STORE_ENV) else None
    )
    if path is not None:
        roots, unreadable = pem_bundle(path)
        return MachineTrust(roots=roots, name=str(path), unreadable=unreadable)
    if sys.platform == "win32":
        enum = ssl.enum_certificates  # type: ignore[attr-defined,unused-ignore]
        return machine_trust_of_windows(enum("ROOT"), enum("CA"))
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            roots, unreadable = pem_bundle(Path(candidate))
            return MachineTrust(roots=roots, name=candidate, unreadable=unreadable)
    return MachineTrust(name="no system trust store found")
