"""The pin tables of `netdiag pins`: the pins and what they cover, the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tabulate import tabulate

from netdiag.settings.targets import Target
from netdiag.trust.pins import PinSet

if TYPE_CHECKING:
    from netdiag.trust.pin_commands import PinVerdict


def pins_table(pin_set: PinSet, targets: Sequence[Target]) -> str:
    rows = []
    for pin in pin_set.pins:
        covered = [t for t in targets if pin.covers(t)]
        rows.append(
            [
                pin.subject,
                pin.role,
                pin.spki_sha256[:16] + "…",
                ", ".join(pin.applies_to),
                f"{len(covered)} endpoints",
                pin.source,
                pin.added,
            ]
        )
    return tabulate(
        rows, headers=["subject", "role", "SPKI SHA-256", "applies to", "covers", "source", "added"]
    )


def pin_files_view(pin_set: PinSet, targets: Sequence[Target]) -> str:
    """`pins show`: the files, the pins, and what each recorded endpoint presented."""
    lines = [f"pin files: {', '.join(pin_set.sources)}", pins_table(pin_set, targets)]
    lines += [
        f"endpoint {record.endpoint}: client certificate requested: "
        f"{'yes' if record.was_client_cert_requested else 'no'}, "
        f"fingerprint {record.fingerprint}"
        for record in pin_set.records
    ]
    return "\n".join(lines)


def verdicts_table(verdicts: Sequence[PinVerdict]) -> str:
    return tabulate(
        [[v.verdict.value, v.endpoint, v.issuer, v.detail] for v in verdicts],
        headers=["verdict", "endpoint", "presented issuer", "detail"],
    )


def targets_table(targets: Sequence[Target]) -> str:
    rows = [[t.host, t.port, t.service.value, t.group] for t in targets]
    return tabulate(rows, headers=["host", "port", "service", "group"])
