"""`netdiag verify BUNDLE --ca FILE`: is this support bundle what a gateway of the vendor
wrote, unchanged? Checked in this order, each step said:

1. the zip's names: no absolute path, no `..`, no backslash or drive, no name twice, a
   bounded count and size — refused before any file is read;
2. the detached CMS signature over the exact bytes of `manifest.json`;
3. the signer's certificate chains to the vendor's client CA (`--ca`) for client
   authentication, valid at the signing time;
4. every file in the zip is in the manifest with its SHA-256, and nothing is in the zip that
   the manifest does not name (a file changed, added or removed is named).

The gateway's identity (subject, serial, issuer), the signing time (its own clock, said to be
self-asserted) and the netdiag version that made the bundle are reported."""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from netdiag.errors import NetdiagError
from netdiag.files import MIB, FileKind, open_regular
from netdiag.trust.cms import BundleVerification, CmsVerification, Step

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"
MAX_BUNDLE = 1024 * MIB
MAX_MEMBERS = 10000
MAX_MEMBER = 512 * MIB
BUNDLE_FILE = FileKind("bundle", "Support-Paket")
# A name a zip may hold here: relative, forward slashes, no empty, "." or ".." part.
_DRIVE = re.compile(r"^[A-Za-z]:")


class BundleCheckError(NetdiagError):
    """The bundle or the CA file cannot be read at all (exit 3): nothing was verified."""


def unsafe_name(name: str) -> str:
    """Why a member's name is not one to take, or ""."""
    if not name or "\x00" in name:
        return "an empty name or one with a NUL"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "an absolute path"
    if "\\" in name:
        return "a backslash"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", ".."):
        return "a path that leaves the bundle's folder"
    return ""


def _open_regular(path: Path) -> IO[bytes]:
    """The bundle opened as a regular file of a bounded size (a FIFO or a device: refused)."""
    return os.fdopen(open_regular(path, MAX_BUNDLE, BUNDLE_FILE, BundleCheckError), "rb")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        data = member.read(min(info.file_size, MAX_MEMBER) + 1)
    if len(data) > MAX_MEMBER:
        raise ValueError(f"{info.filename} is larger than {MAX_MEMBER // MIB} MiB")
    return data


def verify_bundle(path: Path, client_cas: Sequence[Any]) -> BundleVerification:
    """The bundle at `path` checked against the vendor's client CA certificates."""
    from netdiag.trust.cms import verify_detached

    steps: list[Step] = []
    with _open_regular(path) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError) as e:
            raise BundleCheckError(
                f"bundle {path} is not a zip: {e}", de=f"{BUNDLE_FILE.de} {path} ist kein Zip: {e}"
            ) from None
        with archive:
            members = archive.infolist()
            names = [m.filename for m in members]
            problems = [f"{n!r}: {unsafe_name(n)}" for n in names if unsafe_name(n)]
            if len(set(names)) != len(names):
                problems.append("a name stands twice")
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_BUNDLE:
                problems.append(f"more than {MAX_MEMBERS} files or 1 GiB unpacked")
            if problems:
                said = "; ".join(problems[:5])
                steps.append(
                    Step(
                        "names",
                        False,
                        f"refused before reading: {said}",
                        f"vor dem Lesen abgelehnt: {said}",
                    )
                )
                return BundleVerification(tuple(steps))
            steps.append(
                Step(
                    "names",
                    True,
                    f"{len(names)} files, every name inside the bundle",
                    f"{len(names)} Dateien, jeder Name innerhalb des Pakets",
                )
            )
            by_name = {m.filename: m for m in members}
            if MANIFEST not in by_name:
                steps.append(
                    Step(
                        "signature",
                        False,
                        "the bundle holds no manifest.json",
                        "das Paket enthält kein manifest.json",
                    )
                )
                return BundleVerification(tuple(steps))
            try:
                contents = {name: _read_member(archive, info) for name, info in by_name.items()}
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as e:
                steps.append(
                    Step(
                        "files",
                        False,
                        f"a file of the zip cannot be read: {e}",
                        f"eine Datei des Zips ist nicht lesbar: {e}",
                    )
                )
                return BundleVerification(tuple(steps))
    manifest_bytes = contents[MANIFEST]
    try:
        manifest = json.loads(manifest_bytes)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("no 'files' table")
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        steps.append(
            Step(
                "signature",
                False,
                f"manifest.json is not a netdiag manifest: {e}",
                f"manifest.json ist kein Manifest von netdiag: {e}",
            )
        )
        return BundleVerification(tuple(steps))
    # The manifest's own words, whatever shape a forged one gives them.
    redactions = manifest.get("redactions")
    signing = manifest.get("signature")
    common = {
        "created": _text(manifest.get("created")),
        "version": _text(manifest.get("netdiag")),
        "redactions": tuple(
            _text(r) for r in (redactions if isinstance(redactions, list) else []) if _text(r)
        ),
    }
    if SIGNATURE not in contents:
        reason = _text(signing.get("reason")) if isinstance(signing, dict) else ""
        why = f" ({reason})" if reason else ""
        steps.append(
            Step(
                "signature",
                False,
                f"the bundle is not signed{why}",
                f"das Paket ist nicht signiert{why}",
            )
        )
        cms = CmsVerification(())
    else:
        cms = verify_detached(manifest_bytes, contents[SIGNATURE], client_cas)
        steps += cms.steps
    changed, added, removed = _compare(manifest["files"], contents)
    if changed or added or removed:
        differ = [f"changed: {', '.join(changed)}" if changed else ""]
        differ += [f"added: {', '.join(added)}" if added else ""]
        differ += [f"removed: {', '.join(removed)}" if removed else ""]
        said_de = [f"verändert: {', '.join(changed)}" if changed else ""]
        said_de += [f"hinzugefügt: {', '.join(added)}" if added else ""]
        said_de += [f"entfernt: {', '.join(removed)}" if removed else ""]
        steps.append(
            Step(
                "files",
                False,
                "; ".join(s for s in differ if s),
                "; ".join(s for s in said_de if s),
            )
        )
    else:
        count = len(manifest["files"])
        steps.append(
            Step(
                "files",
                True,
                f"all {count} files match their SHA-256 in the manifest",
                f"alle {count} Dateien stimmen mit ihrem SHA-256 im Manifest überein",
            )
        )
    return BundleVerification(
        tuple(steps),
        signer=cms.signer,
        signing_time=cms.signing_time,
        changed=tuple(changed),
        added=tuple(added),
        removed=tuple(removed),
        **common,  # type: ignore[arg-type]
    )


def _text(value: object) -> str:
    """A manifest field as text: a string as it is, anything else as nothing."""
    return value if isinstance(value, str) else ""


def _compare(
    listed: dict[str, Any], contents: dict[str, bytes]
) -> tuple[list[str], list[str], list[str]]:
    """Files whose hash differs from the manifest's, files the manifest does not name, and
    files it names that are not there."""
    present = {n: d for n, d in contents.items() if n not in (MANIFEST, SIGNATURE)}
    changed = sorted(
        name
        for name, data in present.items()
        if name in listed
        and (
            not isinstance(listed[name], dict)
            or listed[name].get("sha256") != hashlib.sha256(data).hexdigest()
        )
    )
    added = sorted(n for n in present if n not in listed)
    removed = sorted(n for n in listed if n not in present)
    return changed, added, removed
