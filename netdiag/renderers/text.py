"""report.txt: the human report for a support ticket, in English or German."""

from __future__ import annotations

import functools
import locale
import os
import tomllib
from importlib import resources
from typing import Any

from netdiag.renderers.table import render_table
from netdiag.report import Finding, Report, Severity
from netdiag.targets import Service

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "netdiag report",
        "when": "When",
        "duration": "duration",
        "from": "From",
        "host": "host",
        "profile": "Profile",
        "overall": "Overall",
        "findings": "Findings",
        "evidence": "Evidence",
        "remedy": "What to do",
        "local": "This machine",
        "gateway": "Gateway (system requirements)",
        "firewall": "What to tell the firewall team",
        "firewall_intro": "Allow these connections outbound from the gateway, and exempt them from "
        "TLS/SSL inspection and from SMTP/ESMTP inspection:",
        "firewall_why": "Every connection authenticates with the gateway's client certificate "
        "issued by the vendor: a firewall that intercepts TLS breaks it.",
        "addresses": "addresses seen",
        "no_findings": "No problem found.",
        "services": {
            "smtp-starttls": "SMTP with STARTTLS",
            "pop3s": "POP3S (TLS)",
            "tls": "TLS",
            "tcp": "TCP",
        },
    },
    "de": {
        "title": "netdiag-Bericht",
        "when": "Zeitpunkt",
        "duration": "Dauer",
        "from": "Von",
        "host": "Rechner",
        "profile": "Profil",
        "overall": "Gesamt",
        "findings": "Befunde",
        "evidence": "Belege",
        "remedy": "Abhilfe",
        "local": "Dieser Rechner",
        "gateway": "Gateway (Systemvoraussetzungen)",
        "firewall": "Was das Firewall-Team wissen muss",
        "firewall_intro": "Diese Verbindungen vom Gateway ausgehend erlauben und von der "
        "TLS/SSL-Inspektion sowie der SMTP/ESMTP-Inspektion ausnehmen:",
        "firewall_why": "Jede Verbindung authentifiziert sich mit dem vom Hersteller ausgestellten "
        "Client-Zertifikat des Gateways: eine Firewall, die TLS aufbricht, zerstört sie.",
        "addresses": "gesehene Adressen",
        "no_findings": "Kein Problem gefunden.",
        "services": {
            "smtp-starttls": "SMTP mit STARTTLS",
            "pop3s": "POP3S (TLS)",
            "tls": "TLS",
            "tcp": "TCP",
        },
    },
}


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


@functools.cache
def _german() -> dict[str, dict[str, str]]:
    text = resources.files("netdiag").joinpath("data", "catalogue_de.toml").read_text("utf-8")
    return tomllib.loads(text)


def title_and_remedy(code: str, lang: str, fallback: Finding) -> tuple[str, str]:
    if lang == "de" and code in _german():
        entry = _german()[code]
        # A remedy built for this run (the destinations to exempt) stays as it was made.
        remedy = fallback.remedy if fallback.has_own_remedy else entry["remedy"]
        return entry["title"], remedy
    return fallback.title or code, fallback.remedy


def firewall_section(report: Report, lang: str) -> list[str]:
    labels: dict[str, Any] = LABELS[lang]
    lines = [labels["firewall"], "-" * len(labels["firewall"]), labels["firewall_intro"]]
    for endpoint in report.endpoints:
        target = endpoint.target
        if target.service is Service.TCP:
            continue
        addresses = ", ".join(dict.fromkeys(t.address for t in endpoint.tcp))
        seen = f" ({labels['addresses']}: {addresses})" if addresses else ""
        lines.append(
            f"  - {target.host}{seen}: TCP {target.port}, "
            + labels["services"][target.service.value]
        )
    lines += [labels["firewall_why"], ""]
    return lines


def _finding_lines(finding: Finding, where: str, lang: str) -> list[str]:
    labels: dict[str, Any] = LABELS[lang]
    title, remedy = title_and_remedy(finding.code, lang, finding)
    lines = [f"[{finding.severity.name}] {where}{finding.code} ({title})", f"    {finding.summary}"]
    if finding.evidence:
        lines.append(f"    {labels['evidence']}:")
        lines += [f"      {line}" for line in finding.evidence]
    if remedy:
        lines.append(f"    {labels['remedy']}: {remedy}")
    return lines


def render_text(report: Report, environment: dict[str, Any], lang: str = "en") -> str:
    labels: dict[str, Any] = LABELS[lang]
    host = environment.get("host", {})
    system = environment.get("os", {})
    versions = environment.get("versions", {})
    lines = [
        labels["title"],
        "=" * len(labels["title"]),
        f"{labels['when']}: {report.started.isoformat(timespec='seconds')} "
        f"({labels['duration']} {report.duration_s:.1f} s)",
        f"{labels['from']}: {labels['host']} {host.get('name', '?')}, {system.get('system', '?')} "
        f"{system.get('release', '')} {system.get('version', '')}".rstrip()
        + f", netdiag {versions.get('netdiag', '?')}",
        f"{labels['profile']}: {report.profile}",
        f"{labels['overall']}: {report.status.name}",
        "",
        render_table(report),
        "",
        labels["findings"],
        "-" * len(labels["findings"]),
    ]
    problems = 0
    for finding in report.local_findings:
        lines += _finding_lines(finding, f"{labels['local']}: ", lang)
        problems += 1
    for finding in report.host.findings if report.host is not None else ():
        lines += _finding_lines(finding, f"{labels['gateway']}: ", lang)
        problems += 1
    for endpoint in report.endpoints:
        for finding in endpoint.findings:
            if finding.severity is Severity.INFO and finding.code not in (
                "tls.pinned",
                "trace.reached",
            ):
                continue
            lines += _finding_lines(finding, f"{endpoint.target.label} ", lang)
            problems += 1
    if not problems:
        lines.append(labels["no_findings"])
    lines.append("")
    lines += firewall_section(report, lang)
    return "\n".join(lines)
