"""The support bundle: one zip with the human report, the JSON, the HTML, the presented
chains, the pcaps, the environment and a manifest of SHA-256 sums. Never a key or a
password: only the report and environment facts go in, and before the zip is written every
file is audited for the run's secrets in every form (the manifest says so)."""

from __future__ import annotations

import hashlib
import json
import socket
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from netdiag.errors import NetdiagError
from netdiag.privacy.audit import KnownSecrets, has_userinfo
from netdiag.privacy.redaction import Redactor
from netdiag.renderers.chains import presented_chains
from netdiag.renderers.escape import visible_report
from netdiag.renderers.html import render_html
from netdiag.renderers.json import render_json
from netdiag.renderers.text import render_text
from netdiag.report.model import Report


class BundleError(NetdiagError):
    """The bundle cannot be written."""


def bundle_files(report: Report, environment: dict[str, Any], lang: str) -> dict[str, bytes]:
    shown = visible_report(report)
    files = {
        "report.txt": render_text(shown, visible_report(environment), lang).encode("utf-8"),
        "report.json": render_json(report).encode("utf-8"),
        "report.html": render_html(shown, lang).encode("utf-8"),
        "environment.json": json.dumps(environment, indent=2, ensure_ascii=False).encode("utf-8"),
    }
    if lang == "de":  # the evidence as measured, in the words netdiag wrote it
        files["report_en.txt"] = render_text(shown, visible_report(environment), "en").encode(
            "utf-8"
        )
    for name, (chain, text) in presented_chains(shown).items():
        files[f"chains/{name}.pem"] = chain.encode("ascii")
        files[f"chains/{name}.txt"] = text.encode("utf-8")
    # The fix as every product's configuration: the firewall team picks theirs.
    from netdiag.renderers.firewalls import PRODUCTS, remedy

    for product in PRODUCTS:
        found = remedy(shown.remedy_plan, product.id, lang)
        if found is not None:
            files[f"firewall/{product.id}.txt"] = ("\n".join(found.lines) + "\n").encode("utf-8")
    return files


def _internal_names(environment: dict[str, Any]) -> Iterable[str]:
    host = environment.get("host", {})
    yield from (host.get("name", ""), host.get("fqdn", ""), socket.gethostname())
    yield from environment.get("resolvers", {}).get("search", [])


def audit(files: dict[str, bytes], secrets: KnownSecrets) -> dict[str, Any]:
    """Every file scanned for the run's secrets in each of their forms and for a URL with
    a user name or password; a hit stops the bundle, naming the file and what was found
    (never the secret itself). Returns what the manifest says about the audit."""
    for name, data in sorted(files.items()):
        found = secrets.found_in(data)
        if found:
            raise BundleError(
                f"the bundle was not written: {name} holds {found}",
                de=f"das Support-Paket wurde nicht geschrieben: {name} enthält {found}",
            )
        if not name.endswith((".pcap", ".pem")) and has_userinfo(data.decode("utf-8", "replace")):
            raise BundleError(
                f"the bundle was not written: {name} holds a URL with a user name or password",
                de=f"das Support-Paket wurde nicht geschrieben: {name} enthält eine URL mit "
                "Benutzername oder Passwort",
            )
    return {
        "ran": True,
        "result": "clean",
        "files": len(files),
        "looked_for": sorted({form.split(" (")[0] for form, _ in secrets.forms})
        + ["user names and passwords in URLs"],
    }


def write_bundle(
    report: Report,
    environment: dict[str, Any],
    out: Path,
    *,
    lang: str,
    redact: bool,
    secrets: KnownSecrets | None = None,
) -> Path:
    files = bundle_files(report, environment, lang)
    notes = []
    if redact:
        redactor = Redactor(_internal_names(environment))
        files = {
            name: redactor.text(data.decode("utf-8")).encode("utf-8")
            if not name.endswith(".pem")
            else data
            for name, data in files.items()
        }
        notes.append("redacted: internal addresses and host names replaced; pcaps left out")
    else:
        for capture in report.captures:
            path = Path(capture)
            try:
                files[f"captures/{path.name}"] = path.read_bytes()
            except OSError as e:
                notes.append(f"capture {path} not readable: {e.strerror}")
    audited = audit(files, secrets or KnownSecrets())
    manifest = {
        "audit": audited,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
        "notes": notes,
    }
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(name, data)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    except OSError as e:
        reason = e.strerror or str(e)
        raise BundleError(
            f"cannot write the bundle {out}: {reason}",
            de=f"das Support-Paket {out} lässt sich nicht schreiben: {reason}",
        ) from None
    return out
