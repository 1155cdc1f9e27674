"""The JSON report (schema `netdiag.report/1`, documented in README.md)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from netdiag import __version__
from netdiag.report import EndpointResult, Finding, Report

SCHEMA = "netdiag.report/1"


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity.value,
        "summary": f.summary,
        "evidence": list(f.evidence),
        "remedy": f.remedy,
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
            "dns": dataclasses.asdict(e.dns) if e.dns is not None else None,
            "tcp": [dataclasses.asdict(t) for t in e.tcp],
        },
        "rounds": [list(codes) for codes in e.rounds],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "netdiag", "version": __version__},
        "started": report.started.isoformat(),
        "duration_s": report.duration_s,
        "status": report.status.label,
        "profile": report.profile,
        "interrupted": report.was_interrupted,
        "notes": list(report.notes),
        "endpoints": [endpoint_to_dict(e) for e in report.endpoints],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False)
