"""The pin tables of `netdiag pins`: the pins and what they cover, the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from netdiag.settings.targets import Target
from netdiag.trust.pins import PinSet

if TYPE_CHECKING:
    from netdiag.trust.pin_commands import PinVerdict


# Each output in both languages; what the pins and the servers say is quoted as it is.
_WORDS = {
    "en": {
        "pins": ("subject", "role", "SPKI SHA-256", "applies to", "covers", "source", "added"),
        "verdicts": ("verdict", "endpoint", "presented issuer", "detail"),
        "targets": ("host", "port", "service", "group"),
        "files": "pin files",
        "endpoint": "endpoint {endpoint}: client certificate requested: {asked}, fingerprint "
        "{fingerprint}",
        "yes": "yes",
        "no": "no",
    },
    "de": {
        "pins": (
            "Subjekt",
            "Rolle",
            "SPKI SHA-256",
            "gilt für",
            "deckt ab",
            "Quelle",
            "hinzugefügt",
        ),
        "verdicts": ("Urteil", "Endpunkt", "gezeigter Aussteller", "Einzelheit"),
        "targets": ("Host", "Port", "Dienst", "Gruppe"),
        "files": "Pin-Dateien",
        "endpoint": "Endpunkt {endpoint}: Client-Zertifikat verlangt: {asked}, Fingerabdruck "
        "{fingerprint}",
        "yes": "ja",
        "no": "nein",
    },
}
_STATES_DE = {
    "pinned": "gepinnt",
    "NOT pinned": "NICHT gepinnt",
    "no pins": "keine Pins",
    "no chain": "keine Kette",
}
_DETAILS_DE = {
    "no TLS handshake": "kein TLS-Handshake",
    "no pin applies to this endpoint": "kein Pin gilt für diesen Endpunkt",
}


def _words(lang: str) -> dict[str, Any]:
    return _WORDS["de" if lang == "de" else "en"]


def _endpoints(count: int, lang: str) -> str:
    if lang == "de":
        return f"{count} Endpunkt" if count == 1 else f"{count} Endpunkte"
    return f"{count} endpoint" if count == 1 else f"{count} endpoints"


def pins_table(pin_set: PinSet, targets: Sequence[Target], lang: str = "en") -> str:
    rows = []
    for pin in pin_set.pins:
        covered = [t for t in targets if pin.covers(t)]
        rows.append(
            [
                pin.subject,
                pin.role,
                pin.spki_sha256[:16] + "…",
                ", ".join(pin.applies_to),
                _endpoints(len(covered), lang),
                pin.source,
                pin.added,
            ]
        )
    return tabulate(rows, headers=list(_words(lang)["pins"]))


def pin_files_view(pin_set: PinSet, targets: Sequence[Target], lang: str = "en") -> str:
    """`pins show`: the files, the pins, and what each recorded endpoint presented."""
    words = _words(lang)
    lines = [f"{words['files']}: {', '.join(pin_set.sources)}", pins_table(pin_set, targets, lang)]
    lines += [
        words["endpoint"].format(
            endpoint=record.endpoint,
            asked=words["yes"] if record.was_client_cert_requested else words["no"],
            fingerprint=record.fingerprint,
        )
        for record in pin_set.records
    ]
    return "\n".join(lines)


def verdicts_table(verdicts: Sequence[PinVerdict], lang: str = "en") -> str:
    def said(verdict: PinVerdict) -> list[str]:
        state, detail = verdict.verdict.value, verdict.detail
        if lang == "de":
            state = _STATES_DE[state]
            detail = _DETAILS_DE.get(detail, detail.replace("pinned: ", "gepinnt: ", 1))
        return [state, verdict.endpoint, verdict.issuer, detail]

    return tabulate([said(v) for v in verdicts], headers=list(_words(lang)["verdicts"]))


def targets_table(targets: Sequence[Target], lang: str = "en") -> str:
    rows = [[t.host, t.port, t.service.value, t.group] for t in targets]
    return tabulate(rows, headers=list(_words(lang)["targets"]))
