"""report.txt: the human report for a support ticket, in English or German."""

from __future__ import annotations

import locale
import os
from typing import Any

from netdiag.renderers.summary import answer_lines, firewall_lines, matrix_table, snippet_lines
from netdiag.report.messages import (
    catalogue_text_of,
    cause_sentence,
    message,
    note_text,
    number,
    profile_name,
    severity_name,
    status_name,
)
from netdiag.report.model import Cause, Finding, Report


def default_language() -> str:
    """German where the system's locale is German (the users are mostly German hospitals)."""
    for value in (os.environ.get("LC_ALL"), os.environ.get("LC_MESSAGES"), os.environ.get("LANG")):
        if value:
            return "de" if value.lower().startswith("de") else "en"
    try:
        language = locale.getlocale()[0] or ""
    except ValueError:
        language = ""
    return "de" if language.lower().startswith("de") else "en"


def _finding_lines(finding: Finding, where: str, lang: str) -> list[str]:
    title, remedy = catalogue_text_of(finding, lang)
    lines = [f"[{severity_name(finding.severity, lang)}] {where}{finding.code} ({title})"]
    if lang != "de":  # the summaries and evidence are English sentences
        lines.append(f"    {finding.summary}")
        if finding.evidence:
            lines.append(f"    {message('label.evidence', lang)}:")
            lines += [f"      {line}" for line in finding.evidence]
    if remedy:
        lines.append(f"    {message('label.remedy', lang)}: {remedy}")
    return lines


def _cause_lines(number: int, cause: Cause, lang: str) -> list[str]:
    title, remedy = catalogue_text_of(cause, lang)
    affected = ", ".join(t.label for t in cause.endpoints)
    lines = [
        f"[{number}] {severity_name(cause.severity, lang)} {cause.code} ({title})",
        f"    {cause_sentence(cause, lang)}",
        f"    {message('label.affects', lang)}: {affected}",
    ]
    if cause.likely:
        likely = ", ".join(t.label for t in cause.likely)
        lines.append(f"    {message('label.likely', lang)}: {likely}")
    if lang != "de" and cause.evidence:
        # Once per cause: the other endpoints show the same.
        lines.append(f"    {message('label.evidence', lang)} ({cause.endpoints[0].label}):")
        lines += [f"      {line}" for line in cause.evidence]
    if remedy:
        lines.append(f"    {message('label.remedy', lang)}: {remedy}")
    return lines


def _heading(text: str, underline: str = "-") -> list[str]:
    return [text, underline * len(text)]


def render_text(report: Report, environment: dict[str, Any], lang: str = "en") -> str:
    """report.txt: the causes first, the matrix, each cause once with its remedy, then
    what the firewall team must change; in German no English sentence of netdiag's own."""
    host = environment.get("host", {})
    system = environment.get("os", {})
    versions = environment.get("versions", {})
    machine = (
        f"{system.get('system', '?')} {system.get('release', '')} {system.get('version', '')}"
    ).rstrip()
    lines = [
        *_heading(message("text.title", lang), "="),
        f"{message('text.when', lang)}: {report.started.isoformat(timespec='seconds')} "
        f"({message('text.duration', lang)} {number(report.duration_s, lang)} s)",
        f"{message('text.from', lang)}: {message('text.host', lang)} {host.get('name', '?')}, "
        f"{machine}, netdiag {versions.get('netdiag', '?')}",
        f"{message('text.profile', lang)}: {profile_name(report.profile, lang)}",
        f"{message('text.overall', lang)}: {status_name(report.status, lang)}",
        "",
        *_heading(message("label.causes", lang)),
        *answer_lines(report, lang),
        "",
    ]
    if len(report.endpoints) > 1:
        lines += [*_heading(message("label.matrix", lang)), matrix_table(report, lang), ""]
    blocks: list[str] = []
    for finding in report.local_findings:
        blocks += _finding_lines(finding, f"{message('text.local', lang)}: ", lang)
    for finding in report.host.findings if report.host is not None else ():
        blocks += _finding_lines(finding, f"{message('text.gateway', lang)}: ", lang)
    for position, cause in enumerate(report.causes, start=1):
        blocks += _cause_lines(position, cause, lang)
    lines += _heading(message("text.problems", lang))
    lines += blocks or [message("text.no_findings", lang)]
    lines += ["", *_heading(message("fw.title", lang)), *firewall_lines(report, lang), ""]
    snippet = snippet_lines(report, lang)
    if snippet:
        lines += [*snippet, ""]
    if report.notes:
        lines += [*_heading(message("text.notes", lang))]
        lines += [f"- {note_text(n, lang)}" for n in report.notes]
        lines.append("")
    elsewhere = message("label.evidence_elsewhere", lang)
    if elsewhere:
        lines += [elsewhere, ""]
    return "\n".join(lines)
