"""The terminal table's "What to do": one line per problem, from the causes — an
interception's exemption names every destination its cause affects, and a finding that its
endpoint's cause explains adds no line — then this machine's findings no cause states."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netdiag.diagnosis.catalogue import CATALOGUE, finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.interception import exemption_remedy
from netdiag.renderers.table import remedy_lines
from netdiag.report.model import EndpointResult, Finding, Report
from netdiag.settings.targets import Target
from tests.unit.test_causes import AGENT, POP3, SMTP, ok


def _destination(target: Target) -> str:
    return f"{target.label} ({target.service.value})"


def behind_squid(target: Target) -> EndpointResult:
    """What the diagnosis gives an endpoint behind an interceptor that speaks no POP3: the
    interception, with the exemption of this one destination, and its consequences."""
    return EndpointResult(
        target=target,
        findings=(
            finding("tls.client_cert_not_requested", "no request"),
            finding("pop3.protocol_error", "no POP3 greeting after TLS"),
            finding(
                "tls.intercepted",
                "intercepted by Squid",
                subject="Squid",
                remedy=exemption_remedy([_destination(target)]),
            ),
        ),
    )


def report_of(endpoints: list[EndpointResult], local: tuple[Finding, ...] = ()) -> Report:
    return Report(
        started=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        duration_s=5.6,
        endpoints=tuple(endpoints),
        causes=find_causes(endpoints),
        local_findings=local,
    )


def test_one_exemption_names_every_intercepted_destination() -> None:
    intercepted = [*POP3, AGENT]
    lines = remedy_lines(report_of([*map(ok, SMTP), *map(behind_squid, intercepted)]), "en")
    assert len(lines) == 1
    assert lines[0].startswith("  tls.intercepted: Exempt these destinations")
    for target in intercepted:
        assert _destination(target) in lines[0]
    assert not any(_destination(t) in lines[0] for t in SMTP)


def test_what_the_interception_explains_adds_no_remedy_of_its_own() -> None:
    lines = remedy_lines(report_of([behind_squid(POP3[0])]), "en")
    assert not any("pop3.protocol_error" in line for line in lines)
    assert not any("tls.client_cert_not_requested" in line for line in lines)


def test_the_same_finding_as_a_problem_of_its_own_keeps_its_remedy() -> None:
    # The twin: no interception on the endpoint, so the POP3 error is the cause.
    alone = EndpointResult(
        target=POP3[1], findings=(finding("pop3.protocol_error", "no POP3 greeting"),)
    )
    lines = remedy_lines(report_of([behind_squid(POP3[0]), alone]), "en")
    assert f"  pop3.protocol_error: {CATALOGUE['pop3.protocol_error'].remedy}" in lines
    assert len(lines) == 2


@pytest.mark.parametrize("lang", ["en", "de"])
def test_this_machines_findings_are_said_once_after_the_causes(lang: str) -> None:
    soon = finding("cert.expires_soon", "the client certificate expires in 9 days")
    lines = remedy_lines(report_of([*map(ok, SMTP), behind_squid(AGENT)], (soon, soon)), lang)
    assert [line.split(":")[0].strip() for line in lines] == [
        "tls.intercepted",
        "cert.expires_soon",
    ]


def test_a_clean_run_has_nothing_to_do() -> None:
    assert remedy_lines(report_of([*map(ok, SMTP)]), "en") == []
