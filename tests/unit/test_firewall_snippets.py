"""The fix in the firewall's own language: snippets per product made from the causes —
golden files for four situations, exactly the causes' names and ports in them, and the
syntax sanity each format allows (balanced FortiOS blocks, one PAN-OS command per line)."""

from __future__ import annotations

import ipaddress
import re
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.diagnosis.remedy_plan import plan_remedies
from netdiag.renderers.firewalls import PRODUCTS, remedies, remedy
from netdiag.report.model import Cause, RemedyPlan, Severity
from netdiag.settings.targets import Service, Target
from tests.golden import GOLDEN as GOLDEN_ROOT
from tests.golden import compare

GOLDEN = GOLDEN_ROOT / "firewall"
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
    compare(GOLDEN / f"{situation}_{product}.txt", snippet_text(situation, product))


def snippet_text(situation: str, product: str) -> str:
    found = remedy(plan(situation), product)
    assert found is not None
    return "\n".join(found.lines) + "\n"


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


@pytest.mark.parametrize(
    ("product", "object_line"),
    [
        ("fortigate", 'set subnet "192.0.2.25" 255.255.255.255'),
        ("panos", "set address netdiag-192.0.2.25 ip-netmask 192.0.2.25/32"),
        ("checkpoint", "mgmt_cli add host name netdiag-192.0.2.25 ip-address 192.0.2.25"),
    ],
)
def test_an_address_is_an_address_object_not_a_name(product: str, object_line: str) -> None:
    found = remedy(
        plan_remedies([cause("tcp.filtered", (Target(host="192.0.2.25", port=25, service=SMTP),))]),
        product,
    )
    assert found is not None
    commands = "\n".join(line for line in found.lines if not line.startswith("#"))
    assert object_line in commands
    assert "fqdn" not in commands and "dns-domain" not in commands


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


def test_german_snippets_hold_no_english_sentence_of_ours() -> None:
    from netdiag.renderers.firewalls import TEXT

    english = {
        fragment.strip()
        for entry in TEXT.values()
        if entry["en"] != entry["de"]
        for fragment in re.split(r"\{[a-z]+\}", entry["en"])
        if len(fragment.strip()) > 12 and fragment.strip() not in entry["de"]
    }
    for situation in SITUATIONS:
        for product in PRODUCTS:
            found = remedy(plan(situation), product.id, "de")
            assert found is not None
            text = "\n".join(found.lines)
            leaked = [f for f in english if f in text]
            assert leaked == [], (situation, product.id, leaked)


# Hostile host text, as a profile from a ticket may carry it: every output's structure must
# be the same as for a plain name — a value never ends a line, opens a block or becomes a
# command.
def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# (An address is an address object, not a name: another shape, on purpose.)
HOSTILE = st.text(min_size=1, max_size=40).filter(lambda text: not _is_address(text))


def _shape(product: str, host: str) -> tuple[int, list[str]]:
    found = remedy(
        plan_remedies([cause("tcp.filtered", (Target(host=host, port=25, service=SMTP),))]),
        product,
    )
    assert found is not None
    keywords = [line.split(" ", 1)[0] for line in found.lines]
    return len(found.lines), keywords


@settings(max_examples=60, deadline=None)
@given(host=HOSTILE)
def test_a_hosts_text_never_changes_a_snippets_structure(host: str) -> None:
    for product in PRODUCTS:
        assert _shape(product.id, host) == _shape(product.id, "mail1.dicommail.com"), product.id
        found = remedy(
            plan_remedies([cause("tcp.filtered", (Target(host=host, port=25, service=SMTP),))]),
            product.id,
        )
        assert found is not None
        for line in found.lines:
            assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", line), (product.id, line)


@settings(max_examples=60, deadline=None)
@given(host=HOSTILE)
def test_mgmt_cli_lines_are_the_same_words_for_the_shell_whatever_the_host(host: str) -> None:
    """Pasted into bash, each mgmt_cli line is one command whose host argument is one
    word: no `$( )`, backquote, `;` or quote of the host's is the shell's."""
    from netdiag.renderers.escape import visible

    found = remedy(
        plan_remedies([cause("tcp.filtered", (Target(host=host, port=25, service=SMTP),))]),
        "checkpoint",
    )
    assert found is not None
    first = next(line for line in found.lines if line.startswith("mgmt_cli add"))
    words = shlex.split(first)
    assert words[:3] == ["mgmt_cli", "add", words[2]]
    assert visible(host) in " ".join(words) or f".{visible(host)}" in words


@settings(max_examples=60, deadline=None)
@given(host=HOSTILE)
def test_fortios_strings_stay_strings(host: str) -> None:
    """Every FortiOS line has its quotes balanced (an escaped quote inside a string is no
    end of it), so `next`, `end` or `config` in a host's text stays inside its string."""
    found = remedy(
        plan_remedies([cause("tcp.filtered", (Target(host=host, port=25, service=SMTP),))]),
        "fortigate",
    )
    assert found is not None
    for line in found.lines[1:]:
        unescaped = re.sub(r"\\.", "", line)
        assert unescaped.count('"') % 2 == 0, line
