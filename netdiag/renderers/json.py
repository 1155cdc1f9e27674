"""The JSON report (schema `netdiag.report/1`, documented in README.md)."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from netdiag import __version__
from netdiag.renderers.summary import answering, reachable, working
from netdiag.report.messages import LANGUAGES, cause_sentence, note_text
from netdiag.report.model import Cause, EndpointResult, Finding, Report

SCHEMA = "netdiag.report/1"


def plain(value: Any) -> Any:
    """Observations as JSON values: dataclasses as objects, bytes (DER) as base64."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity.value,
        "summary": f.summary,
        "evidence": list(f.evidence),
        "remedy": f.remedy,
        "subject": f.subject,
        "detail": f.detail,
        "place": plain(f.place),
        "offset_s": f.offset_s,
    }


def endpoint_to_dict(e: EndpointResult) -> dict[str, Any]:
    return {
        "host": e.target.host,
        "port": e.target.port,
        "service": e.target.service.value,
        "group": e.target.group,
        "status": e.status.label,
        "completed": e.was_completed,
        "findings": [finding_to_dict(f) for f in e.findings],
        "observations": {
            "dns": plain(e.dns),
            "tcp": plain(e.tcp),
            "protocol": plain(e.protocol),
            "attempts": plain(e.attempts),
            # The last attempt was made after the round with no other connection of ours
            # open: the first was refused for now (SMTP 4xx) among the run's other sessions.
            "retried_alone": e.retried_alone,
            "trace": plain(e.trace),
            "control_trace": plain(e.control_trace),
            "mtu": plain(e.mtu),
            # Who cut its every hello: the TTLs of the SYN/ACK and of the cut (`--trace`).
            "cut_sender": plain(e.cut_sender),
            "proxy_attempts": plain(e.proxy_attempts),
            # Each with what was sent (`sent`), what came back and how long it took.
            "experiments": [{**plain(x), "sent": x.sent} for x in e.experiments],
            # Where an interception takes place: the other end of a connection, the hop of
            # the TLS answer (`netdiag.diagnosis.place`).
            "place": plain(e.place),
            # On an SMTP port that sent no banner: a TLS handshake started at once.
            "hello_at_once": plain(e.hello_at_once),
        },
        "rounds": [list(codes) for codes in e.rounds],
    }


def cause_to_dict(cause: Cause) -> dict[str, Any]:
    return {
        "code": cause.code,
        "severity": cause.severity.value,
        "subject": cause.subject,
        "detail": cause.detail,
        "place": plain(cause.place),
        "offset_s": cause.offset_s,
        "sentence": {lang: cause_sentence(cause, lang) for lang in LANGUAGES},
        "endpoints": [t.label for t in cause.endpoints],
        "likely": [t.label for t in cause.likely],
        "evidence": list(cause.evidence),
        "remedy": cause.remedy,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "netdiag", "version": __version__},
        "started": report.started.isoformat(),
        "duration_s": report.duration_s,
        "status": report.status.label,
        "causes": [cause_to_dict(c) for c in report.causes],
        "working": [t.label for t in working(report)],
        "answering": [t.label for t in answering(report)],
        "reachable": [t.label for t in reachable(report)],
        "profile": report.profile,
        "interrupted": report.was_interrupted,
        "notes": [note_text(n, "en") for n in report.notes],
        "captures": list(report.captures),
        "capture_stats": plain(report.capture_stats),
        "local": {
            "client_certificate": plain(report.client_certificate),
            "findings": [finding_to_dict(f) for f in report.local_findings],
        },
        "host": None
        if report.host is None
        else {
            "status": report.host.status.label,
            "findings": [finding_to_dict(f) for f in report.host.findings],
            "observation": plain(report.host.observation),
            "notes": [note_text(n, "en") for n in report.host.notes],
        },
        "proxies": plain(report.proxies),
        "remedy_plan": plain(report.remedy_plan),
        "remedies": _remedies(report),
        "endpoints": [endpoint_to_dict(e) for e in report.endpoints],
    }


def _remedies(report: Report) -> list[dict[str, Any]]:
    """The firewall snippets, when the plan holds anything (the renderer of every product's
    configuration is imported only then)."""
    if report.remedy_plan.is_empty:
        return []
    from netdiag.renderers.firewalls import remedies

    return [
        {"product": r.product, "name": r.name, "kind": r.kind, "lines": list(r.lines)}
        for r in remedies(report.remedy_plan, report.firewall)
    ]


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False)
