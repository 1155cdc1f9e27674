"""The fix in the firewall's own language: snippets per product made from the causes —
golden files for four situations, exactly the causes' names and ports in them, and the
syntax sanity each format allows (balanced FortiOS blocks, one PAN-OS command per line)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from netdiag.diagnosis.remedy_plan import plan_remedies
from netdiag.renderers.firewalls import PRODUCTS, remedies, remedy
from netdiag.report.model import Cause, RemedyPlan, Severity
from netdiag.settings.targets import Service, Target

GOLDEN = Path(__file__).parent / "golden" / "firewall"
MAIL = [f"mail{n}.dicommail.com" for n in range(1, 7)]


def targets(port: int, service: Service, hosts: list[str] = MAIL) -> tuple[Target, ...]:
    return tuple(Target(host=h, port=port, service=service) for h in hosts)


def cause(code: str, endpoints: tuple[Target, ...], subject: str = "") -> Cause:
    return Cause(code=code, severity=Severity.CRIT, subject=subject, endpoints=endpoints)


NOT_MAIL3 = [h for h in MAIL if h != "mail3.dicommail.com"]
SMTP = Service.SMTP_STARTTLS
SITUATIONS = {
    "dropped_25": [cause("trace.dropped_after_hop", targets(25, SMTP), "192.0.2.6")],
    "intercepted_995": [cause("tls.intercepted", targets(995, Service.POP3S), "FortiGate")],
    "unresolvable_host": [
        cause("dns.nxdomain", targets(25, SMTP, ["mail3.dicommail.com"]), "system 10.0.0.53"),
        cause("tcp.filtered", targets(25, SMTP, NOT_MAIL3)),
        cause("tcp.filtered", targets(8140, Service.TLS, ["atlas79.mydhp.de"])),
    ],
    "starttls_masked": [cause("smtp.starttls_masked", targets(25, SMTP))],
}


def plan(situation: str) -> RemedyPlan:
    return plan_remedies(SITUATIONS[situation])


CASES = [(s, p.id) for s in SITUATIONS for p in PRODUCTS]


@pytest.mark.parametrize(("situation", "product"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_snippets_match_their_golden_files(situation: str, product: str) -> None:
    found = remedy(plan(situation), product)
    assert found is not None
    text = "\n".join(found.lines) + "\n"
    golden = GOLDEN / f"{situation}_{product}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, "utf-8")
    assert text == golden.read_text("utf-8")


@pytest.mark.parametrize(("situation", "product"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_exactly_the_causes_names_and_ports(situation: str, product: str) -> None:
    wanted = plan(situation)
    found = remedy(wanted, product)
    assert found is not None
    text = "\n".join(found.lines)
    named = set(re.findall(r"\b(?:mail\d|atlas79)\.(?:dicommail\.com|mydhp\.de)\b", text))
    expected = {h for h, _ in (*wanted.allow, *wanted.exempt, *wanted.smtp_inspection)}
    assert named == expected | set(wanted.dns), (named, expected)
    ports = {
        int(p) for p in re.findall(r"(?:tcp[-_]|TCP |port |tcp-portrange |: ?)(\d{2,5})\b", text)
    }
    expected_ports = {p for _, p in (*wanted.allow, *wanted.exempt, *wanted.smtp_inspection)}
    assert ports <= expected_ports | {0}, (ports, expected_ports)
    assert expected_ports - {p for _, p in wanted.exempt} <= ports or product in ("asa",)
    assert "review" in found.lines[0].lower() and "netdiag-" in found.lines[0]


@pytest.mark.parametrize("situation", SITUATIONS)
def test_fortios_blocks_are_balanced(situation: str) -> None:
    found = remedy(plan(situation), "fortigate")
    assert found is not None
    code = [line.strip() for line in found.lines if not line.startswith("#")]
    opened = [line for line in code if line.startswith("config ")]
    assert len(opened) == code.count("end")
    assert len([line for line in code if line.startswith("edit ")]) == code.count("next")
    depth = 0
    for line in code:
        depth += line.startswith("config ") - (line == "end")
        assert depth >= 0
    assert depth == 0


@pytest.mark.parametrize("situation", SITUATIONS)
def test_panos_is_one_command_per_line(situation: str) -> None:
    found = remedy(plan(situation), "panos")
    assert found is not None
    for line in found.lines:
        assert line.startswith(("set ", "# ")), line


def test_an_unresolvable_host_gets_no_rule_but_a_remark() -> None:
    found = remedy(plan("unresolvable_host"), "fortigate")
    assert found is not None
    text = "\n".join(found.lines)
    assert 'set fqdn "mail3.dicommail.com"' not in text
    assert "did not resolve (DNS): mail3.dicommail.com" in text


def test_the_product_the_evidence_names_is_the_one_shown() -> None:
    named = remedies(plan("intercepted_995"))
    assert [r.product for r in named] == ["fortigate"]
    assert "config ssl-exempt" in "\n".join(named[0].lines)
    # Masked STARTTLS is Cisco's ESMTP inspection: its allow-tls.
    assert [r.product for r in remedies(plan("starttls_masked"))] == ["asa"]
    # Nothing named: every product.
    assert len(remedies(plan("dropped_25"))) == len(PRODUCTS)
    # Chosen beats named.
    assert [r.product for r in remedies(plan("intercepted_995"), "panos")] == ["panos"]


def test_nothing_to_change_no_snippet() -> None:
    assert remedy(RemedyPlan(), "fortigate") is None


def test_german_words_around_unchanged_commands() -> None:
    found = remedy(plan("dropped_25"), "fortigate", "de")
    assert found is not None
    assert "Vor dem Einsatz gegen die eigene Richtlinie prüfen" in found.lines[0]
    assert "config firewall address" in found.lines


def test_every_product_says_how_sure_in_both_languages() -> None:
    from netdiag.renderers.firewalls import CERTAINTY_DE

    assert set(CERTAINTY_DE) == {p.id for p in PRODUCTS}
    for product in PRODUCTS:
        found = remedy(plan("dropped_25"), product.id, "de")
        assert found is not None and CERTAINTY_DE[product.id] in found.lines[0]
        assert product.certainty not in found.lines[0]
