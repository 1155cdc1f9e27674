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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netdiag import __version__
from netdiag.errors import NetdiagError
from netdiag.privacy.audit import KnownSecrets, has_userinfo
from netdiag.privacy.redaction import Redactor
from netdiag.renderers.chains import presented_chains
from netdiag.renderers.escape import visible_report
from netdiag.renderers.html import render_html
from netdiag.renderers.json import render_json
from netdiag.renderers.text import render_text
from netdiag.report.model import Report
from netdiag.trust.identity import ClientIdentity


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


MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"
BUNDLE_FORMAT = "netdiag.bundle/1"


def write_bundle(
    report: Report,
    environment: dict[str, Any],
    out: Path,
    *,
    lang: str,
    redact: bool,
    secrets: KnownSecrets | None = None,
    identity: ClientIdentity | None = None,
    now: datetime | None = None,
) -> tuple[Path, str]:
    """The bundle as a zip, and why it is not signed ("" when it is): the manifest names
    every file with its SHA-256, and with the gateway's certificate (`identity`) a detached
    CMS signature over the manifest's exact bytes lies beside it (`manifest.json.p7s`)."""
    files = bundle_files(report, environment, lang)
    notes = []
    redactions: list[str] = []
    if redact:
        redactor = Redactor(_internal_names(environment))
        files = {
            name: redactor.text(data.decode("utf-8")).encode("utf-8")
            if not name.endswith(".pem")
            else data
            for name, data in files.items()
        }
        notes.append("redacted: internal addresses and host names replaced; pcaps left out")
        redactions = ["internal addresses", "this machine's host names", "pcaps left out"]
    else:
        for capture in report.captures:
            path = Path(capture)
            try:
                files[f"captures/{path.name}"] = path.read_bytes()
            except OSError as e:
                notes.append(f"capture {path} not readable: {e.strerror}")
    audited = audit(files, secrets or KnownSecrets())
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    signing = _signing_facts(identity)
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    manifest = {
        "format": BUNDLE_FORMAT,
        "netdiag": __version__,
        # This machine's clock, said as such: the signature's own time is the same clock.
        "created": created,
        "created_by": "this machine's clock (self-asserted)",
        "audit": audited,
        "files": {
            name: {"sha256": hashes[name], "bytes": len(data)}
            for name, data in sorted(files.items())
        },
        # The files' hashes as `sha256sum -c` reads them (jq -r .sha256sums manifest.json).
        "sha256sums": "".join(f"{digest}  {name}\n" for name, digest in hashes.items()),
        "redactions": redactions,
        "signature": signing,
        "notes": notes,
    }
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    signature, (unsigned, unsigned_de) = _signature(manifest_bytes, identity)
    if signature is None and signing.get("signed"):
        # The signer failed after all: the manifest must not claim a signature.
        manifest["signature"] = {"signed": False, "reason": unsigned}
        manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if signature is not None:
        audit({SIGNATURE: signature}, secrets or KnownSecrets())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(name, data)
            archive.writestr(MANIFEST, manifest_bytes)
            if signature is not None:
                archive.writestr(SIGNATURE, signature)
    except OSError as e:
        reason = e.strerror or str(e)
        raise BundleError(
            f"cannot write the bundle {out}: {reason}",
            de=f"das Support-Paket {out} lässt sich nicht schreiben: {reason}",
        ) from None
    return out, unsigned_de if lang == "de" else unsigned


def _signing_facts(identity: ClientIdentity | None) -> dict[str, Any]:
    """What the manifest says about its signature: who signs (subject, serial, issuer), or
    that it is not signed and why."""
    if identity is None:
        return {"signed": False, "reason": "no --cert: no gateway key to sign with"}
    if not _can_sign(identity):
        kind = type(identity.key).__name__
        return {"signed": False, "reason": f"the gateway's {kind} key cannot sign a CMS signature"}
    certificate = identity.certificate
    return {
        "signed": True,
        "file": SIGNATURE,
        "form": "detached CMS (PKCS #7), DER, SHA-256, over the exact bytes of manifest.json",
        "signer": {
            "subject": certificate.subject.rfc4514_string(),
            "serial": format(certificate.serial_number, "x"),
            "issuer": certificate.issuer.rfc4514_string(),
        },
    }


def _can_sign(identity: ClientIdentity) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    return isinstance(identity.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)


def _signature(
    data: bytes, identity: ClientIdentity | None
) -> tuple[bytes | None, tuple[str, str]]:
    """The detached signature over the manifest, or None and why not, in English and
    German (never a failed bundle: an unsigned bundle is said to be unsigned)."""
    if identity is None:
        return None, ("no --cert", "kein --cert")
    if not _can_sign(identity):
        kind = type(identity.key).__name__
        return None, (f"a {kind} key cannot sign", f"ein {kind}-Schlüssel kann nicht signieren")
    from netdiag.trust.cms import sign_detached

    try:
        return sign_detached(data, identity), ("", "")
    except Exception as e:  # noqa: BLE001 - any failure of the signer: an unsigned bundle
        failure = type(e).__name__
        return None, (
            f"the signature failed ({failure})",
            f"die Signatur ist fehlgeschlagen ({failure})",
        )
