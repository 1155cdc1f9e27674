"""Pinned vendor issuers: the file format (TOML, `netdiag.pins/1`), where pin files are
found, and how they are read and written.

A pin is the SHA-256 of the SubjectPublicKeyInfo of a CA that issues the vendor's server
certificates, with the subject as text, the endpoints it applies to, its source and date;
optionally the CA certificate itself (PEM), so that a chain that omits the CA can still be
checked against it. Endpoint records keep what a clean handshake looked like.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from netdiag.errors import NetdiagError
from netdiag.files import MIB, FileKind, read_text_bounded
from netdiag.settings.targets import Target

FORMAT = "netdiag.pins/1"
CONFIG_DIR_ENV = "NETDIAG_CONFIG_DIR"
PIN_FILE = "pins.toml"
PIN_FILE_KIND = FileKind("pin file", "Pin-Datei")
MAX_PIN_FILE = 4 * MIB
ALL = "*"


class PinError(NetdiagError):
    """A pin file that cannot be read or is not of this format."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    spki_sha256: str
    subject: str
    role: str
    applies_to: tuple[str, ...]
    source: str
    added: str
    pem: str = ""
    # The pin file it was read from ("" for pins made in this run).
    file: str = ""
    # For the topmost CA a run could reach when its issuer was not presented (a server
    # sends its intermediate, not the root): that issuer's name and key identifier, so
    # that a new intermediate under the same root is recognised as a likely rotation.
    issuer: str = ""
    issuer_key_id: str = ""

    def covers(self, target: Target) -> bool:
        return bool({ALL, target.group, target.host, target.label} & set(self.applies_to))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointRecord:
    """What the endpoint's clean handshake looked like when the pins were learned."""

    endpoint: str
    was_client_cert_requested: bool
    client_ca_names: tuple[str, ...] = ()
    fingerprint: str = ""


class PinFileReason(StrEnum):
    """Why a pin file took part in a run."""

    GIVEN = "given"  # --pins
    PROFILE = "profile"  # certs/pins.toml next to the profile
    CWD = "cwd"  # certs/pins.toml in the current folder
    USER = "user"  # the user's pin file


@dataclass(frozen=True, slots=True)
class PinFile:
    """A pin file that took part in a run, why it did, and how many pins it gave."""

    path: str
    reason: PinFileReason
    count: int = 0


@dataclass(frozen=True, slots=True)
class PinSet:
    pins: tuple[Pin, ...] = ()
    records: tuple[EndpointRecord, ...] = ()
    sources: tuple[str, ...] = ()
    files: tuple[PinFile, ...] = ()

    def for_target(self, target: Target) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.covers(target))

    def record_for(self, target: Target) -> EndpointRecord | None:
        return next((r for r in self.records if r.endpoint == target.label), None)

    def merged(self, other: PinSet) -> PinSet:
        pins = {(p.spki_sha256, p.applies_to): p for p in (*self.pins, *other.pins)}
        records = {r.endpoint: r for r in (*self.records, *other.records)}
        return PinSet(
            tuple(pins.values()),
            tuple(records.values()),
            (*self.sources, *other.sources),
            (*self.files, *other.files),
        )


def config_dir() -> Path:
    """The user's configuration directory for netdiag (%APPDATA%\\netdiag on Windows)."""
    if os.environ.get(CONFIG_DIR_ENV):
        return Path(os.environ[CONFIG_DIR_ENV])
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "netdiag"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "netdiag"


def pin_file_reasons(profile_path: Path | None) -> dict[Path, PinFileReason]:
    """The pin files found without `--pins`, each with why it is used: `certs/pins.toml`
    next to the profile, in the current folder, and the user's file."""
    candidates: list[tuple[Path, PinFileReason]] = []
    if profile_path is not None:
        candidates.append(
            (profile_path.resolve().parent / "certs" / PIN_FILE, PinFileReason.PROFILE)
        )
    candidates += [
        (Path.cwd() / "certs" / PIN_FILE, PinFileReason.CWD),
        (config_dir() / PIN_FILE, PinFileReason.USER),
    ]
    found: dict[Path, PinFileReason] = {}
    for path, reason in candidates:
        if path.is_file():
            found.setdefault(path, reason)
    return found


def default_pin_files(profile_path: Path | None) -> list[Path]:
    """`certs/pins.toml` next to the profile, in the current folder, and the user's file."""
    return list(pin_file_reasons(profile_path))


def _strings(value: object, where: str, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PinError(
        f"{where}: '{field}' must be a string or a list of strings",
        de=f"{where}: „{field}“ muss eine Zeichenkette oder eine Liste davon sein",
    )


def _text(entry: dict[str, object], field: str, where: str, default: str | None = None) -> str:
    value = entry.get(field, default)
    if not isinstance(value, str):
        raise PinError(
            f"{where}: '{field}' is missing or not a string",
            de=f"{where}: „{field}“ fehlt oder ist keine Zeichenkette",
        )
    return value


def _tables(
    data: dict[str, object], key: str, source: str
) -> Iterator[tuple[str, dict[str, object]]]:
    """The `[[key]]` tables of a pin file, each with where it stands (for an error)."""
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise PinError(
            f"{source}: [[{key}]] must be a list of tables",
            de=f"{source}: [[{key}]] muss eine Liste von Tabellen sein",
        )
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: {key} #{index}"
        if not isinstance(entry, dict):
            raise PinError(f"{where}: not a table", de=f"{where}: keine Tabelle")
        yield where, entry


def parse_pins(
    data: dict[str, object], source: str, reason: PinFileReason = PinFileReason.GIVEN
) -> PinSet:
    if data.get("format") != FORMAT:
        raise PinError(
            f"{source} is not a netdiag pin file (format = {FORMAT!r} missing)",
            de=f"{source} ist keine Pin-Datei von netdiag (format = {FORMAT!r} fehlt)",
        )
    pins = []
    for where, entry in _tables(data, "pins", source):
        spki = _text(entry, "spki_sha256", where).lower()
        if len(spki) != 64 or any(c not in "0123456789abcdef" for c in spki):
            raise PinError(
                f"{where}: spki_sha256 must be 64 hexadecimal digits",
                de=f"{where}: spki_sha256 muss aus 64 Hexadezimalziffern bestehen",
            )
        pins.append(
            Pin(
                spki_sha256=spki,
                subject=_text(entry, "subject", where),
                role=_text(entry, "role", where, "issuing"),
                applies_to=_strings(entry.get("applies_to", ALL), where, "applies_to"),
                source=_text(entry, "source", where, ""),
                added=_text(entry, "added", where, ""),
                pem=_text(entry, "pem", where, ""),
                file=source,
                issuer=_text(entry, "issuer", where, ""),
                issuer_key_id=_text(entry, "issuer_key_id", where, ""),
            )
        )
    records = []
    for where, entry in _tables(data, "endpoints", source):
        requested: object = entry.get("was_client_cert_requested", True)
        if not isinstance(requested, bool):
            raise PinError(
                f"{where}: was_client_cert_requested must be true or false",
                de=f"{where}: was_client_cert_requested muss true oder false sein",
            )
        records.append(
            EndpointRecord(
                endpoint=_text(entry, "endpoint", where),
                was_client_cert_requested=requested,
                client_ca_names=_strings(
                    entry.get("client_ca_names", []), where, "client_ca_names"
                ),
                fingerprint=_text(entry, "fingerprint", where, ""),
            )
        )
    return PinSet(tuple(pins), tuple(records), (source,), (PinFile(source, reason, len(pins)),))


def load_pins(paths: Iterable[Path], reasons: Mapping[Path, PinFileReason] | None = None) -> PinSet:
    """Every pin of every file, merged; each file remembered with why it was read."""
    result = PinSet()
    for path in paths:
        reason = (reasons or {}).get(path, PinFileReason.GIVEN)
        text = read_text_bounded(path, MAX_PIN_FILE, PIN_FILE_KIND, PinError)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise PinError(
                f"pin file {path} is not valid TOML: {e}",
                de=f"die Pin-Datei {path} ist kein gültiges TOML: {e}",
            ) from None
        result = result.merged(parse_pins(data, str(path), reason))
    return result


def _toml_string(value: str) -> str:
    # JSON's escapes are a subset of TOML's basic-string escapes; TOML also forbids DEL
    # raw, which JSON leaves as it is (a certificate's name may hold one).
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def render_pins(pin_set: PinSet) -> str:
    lines = [
        "# netdiag pin file: the CAs that issue the vendor's server certificates.",
        "# Format and how to obtain and verify pins: certs/README.md.",
        f"format = {_toml_string(FORMAT)}",
        "",
    ]
    for pin in pin_set.pins:
        lines += [
            "[[pins]]",
            f"subject = {_toml_string(pin.subject)}",
            f"spki_sha256 = {_toml_string(pin.spki_sha256)}",
            f"role = {_toml_string(pin.role)}",
            f"applies_to = {_toml_list(pin.applies_to)}",
            f"source = {_toml_string(pin.source)}",
            f"added = {_toml_string(pin.added)}",
        ]
        if pin.issuer:
            lines.append(f"issuer = {_toml_string(pin.issuer)}")
        if pin.issuer_key_id:
            lines.append(f"issuer_key_id = {_toml_string(pin.issuer_key_id)}")
        if pin.pem:
            lines.append(f"pem = {_toml_string(pin.pem)}")
        lines.append("")
    for record in pin_set.records:
        lines += [
            "[[endpoints]]",
            f"endpoint = {_toml_string(record.endpoint)}",
            "was_client_cert_requested = "
            + ("true" if record.was_client_cert_requested else "false"),
            f"client_ca_names = {_toml_list(record.client_ca_names)}",
            f"fingerprint = {_toml_string(record.fingerprint)}",
            "",
        ]
    return "\n".join(lines)


def save_pins(path: Path, pin_set: PinSet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_pins(pin_set), "utf-8")
    except OSError as e:
        reason = e.strerror or "not writable"
        raise PinError(
            f"cannot write pin file {path}: {reason}",
            de=f"die Pin-Datei {path} lässt sich nicht schreiben: {reason}",
        ) from None
