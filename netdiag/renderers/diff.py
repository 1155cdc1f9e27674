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
    problem = _shape_problem(document)
    if problem:
        raise DiffError(
            f"{path} is not a netdiag report of this form ({problem})",
            de=f"{path} ist kein Bericht von netdiag dieser Form ({problem})",
        )
    return document


def _shape_problem(document: dict[str, Any]) -> str:
    """What of the report's shape the comparison needs is missing or of another type, or ""
    (a file edited by hand, or cut short, says so in one line instead of a KeyError)."""
    if not isinstance(document.get("status"), str):
        return "'status' is not a text"
    endpoints = document.get("endpoints")
    if not isinstance(endpoints, list):
        return "'endpoints' is not a list"
    for index, endpoint in enumerate(endpoints):
        where = f"endpoints[{index}]"
        if not isinstance(endpoint, dict):
            return f"{where} is not an object"
        for name, kind in (("host", str), ("port", int), ("service", str), ("status", str)):
            if not isinstance(endpoint.get(name), kind):
                return f"{where}.{name} is missing or of another type"
        findings = endpoint.get("findings")
        if not isinstance(findings, list) or not all(
            isinstance(f, dict)
            and isinstance(f.get("code"), str)
            and isinstance(f.get("summary", ""), str)
            for f in findings
        ):
            return f"{where}.findings is not a list of findings"
        observations = endpoint.get("observations")
        if observations is not None and not isinstance(observations, dict):
            return f"{where}.observations is not an object"
    return ""


def _key(endpoint: dict[str, Any]) -> str:
    return f"{endpoint['host']}:{endpoint['port']}/{endpoint['service']}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _chain(endpoint: dict[str, Any]) -> list[str]:
    tls = _dict(_dict(_dict(endpoint.get("observations")).get("protocol")).get("tls"))
    return [
        f"{c.get('subject', '?')} (SPKI {str(c.get('spki_sha256', ''))[:16]}…)"
        for c in map(_dict, _list(tls.get("chain")))
    ]


def _addresses(endpoint: dict[str, Any]) -> list[str]:
    tcp = _list(_dict(endpoint.get("observations")).get("tcp"))
    return sorted({str(t["address"]) for t in map(_dict, tcp) if "address" in t})


def _last_hop(endpoint: dict[str, Any]) -> str:
    trace = _dict(_dict(endpoint.get("observations")).get("trace"))
    replies = [r for r in map(_dict, _list(trace.get("replies"))) if isinstance(r.get("ttl"), int)]
    if not replies:
        return ""
    last = max(replies, key=lambda r: r["ttl"])
    return f"hop {last['ttl']} {last.get('sender', '?')} ({last.get('kind', '?')})"


NO_CHANGE = {"en": "no change", "de": "keine Änderung"}
# The words around what the reports say (codes and summaries are quoted as saved).
_WORDS = {
    "en": {
        "overall": "overall",
        "gone": "no longer checked",
        "new": "new endpoint",
        "chain": "chain",
        "addresses": "addresses",
        "last_hop": "last hop",
        "none": "none",
        "not_traced": "not traced",
    },
    "de": {
        "overall": "gesamt",
        "gone": "nicht mehr geprüft",
        "new": "neuer Endpunkt",
        "chain": "Kette",
        "addresses": "Adressen",
        "last_hop": "letzter Hop",
        "none": "keine",
        "not_traced": "nicht verfolgt",
    },
}


def _state(value: str, lang: str) -> str:
    """A saved report's state as the report wrote it ("crit"); in German as the German
    output names it ("KRIT")."""
    from netdiag.report.messages import status_name
    from netdiag.report.model import Status

    known = {s.label: s for s in Status}
    return status_name(known[value], lang) if lang == "de" and value in known else value


def diff_reports(old: dict[str, Any], new: dict[str, Any], lang: str = "en") -> list[str]:
    words = _WORDS["de" if lang == "de" else "en"]
    changes = []
    if old["status"] != new["status"]:
        changes.append(
            f"{words['overall']}: {_state(old['status'], lang)} -> {_state(new['status'], lang)}"
        )
    before = {_key(e): e for e in old["endpoints"]}
    after = {_key(e): e for e in new["endpoints"]}
    for key in sorted(before.keys() - after.keys()):
        changes.append(f"{key}: {words['gone']}")
    for key in sorted(after.keys() - before.keys()):
        changes.append(f"{key}: {words['new']}, {_state(after[key]['status'], lang)}")
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        if a["status"] != b["status"]:
            changes.append(f"{key}: {_state(a['status'], lang)} -> {_state(b['status'], lang)}")
        codes_a = {f["code"] for f in a["findings"]}
        codes_b = {f["code"] for f in b["findings"]}
        for code in sorted(codes_b - codes_a):
            summary = next(f["summary"] for f in b["findings"] if f["code"] == code)
            changes.append(f"{key}: + {code}: {summary}")
        for code in sorted(codes_a - codes_b):
            changes.append(f"{key}: - {code}")
        none = words["none"]
        if _chain(a) != _chain(b) and (_chain(a) or _chain(b)):
            changes.append(
                f"{key}: {words['chain']} {' / '.join(_chain(a)) or none} "
                f"-> {' / '.join(_chain(b)) or none}"
            )
        if _addresses(a) != _addresses(b):
            changes.append(
                f"{key}: {words['addresses']} {', '.join(_addresses(a)) or none} "
                f"-> {', '.join(_addresses(b)) or none}"
            )
        if _last_hop(a) != _last_hop(b) and (_last_hop(a) or _last_hop(b)):
            untraced = words["not_traced"]
            changes.append(
                f"{key}: {words['last_hop']} {_last_hop(a) or untraced} "
                f"-> {_last_hop(b) or untraced}"
            )
    return changes
