"""`netdiag diff OLD.json NEW.json`: what changed between two runs — the first thing support
asks after a firewall change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from netdiag.errors import NetdiagError
from netdiag.files import MIB, FileKind, read_text_bounded
from netdiag.renderers.json import SCHEMA


class DiffError(NetdiagError):
    """A file that is not a netdiag JSON report."""


REPORT_FILE = FileKind("report", "Bericht")
# A report of 256 endpoints with every transcript is a few MiB.
MAX_REPORT = 64 * MIB


def load_report(path: Path) -> dict[str, Any]:
    text = read_text_bounded(path, MAX_REPORT, REPORT_FILE, DiffError)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise DiffError(f"{path} is not JSON: {e}", de=f"{path} ist kein JSON: {e}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise DiffError(
            f"{path} is not a netdiag report ({SCHEMA})",
            de=f"{path} ist kein Bericht von netdiag ({SCHEMA})",
        )
    return document


def _key(endpoint: dict[str, Any]) -> str:
    return f"{endpoint['host']}:{endpoint['port']}/{endpoint['service']}"


def _chain(endpoint: dict[str, Any]) -> list[str]:
    tls = ((endpoint.get("observations") or {}).get("protocol") or {}).get("tls") or {}
    return [f"{c['subject']} (SPKI {c['spki_sha256'][:16]}…)" for c in tls.get("chain", [])]


def _addresses(endpoint: dict[str, Any]) -> list[str]:
    return sorted({t["address"] for t in (endpoint.get("observations") or {}).get("tcp", [])})


def _last_hop(endpoint: dict[str, Any]) -> str:
    trace = (endpoint.get("observations") or {}).get("trace") or {}
    replies = trace.get("replies") or []
    if not replies:
        return ""
    last = max(replies, key=lambda r: r["ttl"])
    return f"hop {last['ttl']} {last['sender']} ({last['kind']})"


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    if old["status"] != new["status"]:
        changes.append(f"overall: {old['status']} -> {new['status']}")
    before = {_key(e): e for e in old["endpoints"]}
    after = {_key(e): e for e in new["endpoints"]}
    for key in sorted(before.keys() - after.keys()):
        changes.append(f"{key}: no longer checked")
    for key in sorted(after.keys() - before.keys()):
        changes.append(f"{key}: new endpoint, {after[key]['status']}")
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        if a["status"] != b["status"]:
            changes.append(f"{key}: {a['status']} -> {b['status']}")
        codes_a = {f["code"] for f in a["findings"]}
        codes_b = {f["code"] for f in b["findings"]}
        for code in sorted(codes_b - codes_a):
            summary = next(f["summary"] for f in b["findings"] if f["code"] == code)
            changes.append(f"{key}: + {code}: {summary}")
        for code in sorted(codes_a - codes_b):
            changes.append(f"{key}: - {code}")
        if _chain(a) != _chain(b) and (_chain(a) or _chain(b)):
            changes.append(
                f"{key}: chain {' / '.join(_chain(a)) or 'none'} "
                f"-> {' / '.join(_chain(b)) or 'none'}"
            )
        if _addresses(a) != _addresses(b):
            changes.append(
                f"{key}: addresses {', '.join(_addresses(a)) or 'none'} "
                f"-> {', '.join(_addresses(b)) or 'none'}"
            )
        if _last_hop(a) != _last_hop(b) and (_last_hop(a) or _last_hop(b)):
            changes.append(
                f"{key}: last hop {_last_hop(a) or 'not traced'} -> {_last_hop(b) or 'not traced'}"
            )
    return changes
