"""Findings of all endpoints grouped into causes: table-driven, with the sentence each
output starts with (English and German)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.renderers.summary import answer_lines, firewall_lines, matrix
from netdiag.report.messages import cause_sentence, host_list
from netdiag.report.model import DevicePlace, EndpointResult, Report, Severity
from netdiag.settings.targets import Service, Target

MAIL = [f"mail{n}.dicommail.com" for n in range(1, 7)]
ATLAS = "atlas79.mydhp.de"
SMTP = [Target(host=h, port=25, service=Service.SMTP_STARTTLS) for h in MAIL]
POP3 = [Target(host=h, port=995, service=Service.POP3S) for h in MAIL]
AGENT = Target(host=ATLAS, port=8140, service=Service.TLS)
PROFILE = [*SMTP, *POP3, AGENT]
FIREWALL = "192.0.2.6"


def ok(target: Target) -> EndpointResult:
    return EndpointResult(target=target, findings=(finding("tls.pinned", "pinned"),))


def dropped_at_hop(target: Target, hop: str = FIREWALL) -> EndpointResult:
    return EndpointResult(
        target=target,
        findings=(
            finding("tcp.filtered", f"{target.label} silently dropped"),
            finding("trace.dropped_after_hop", f"{target.label}: dropped after hop 2", subject=hop),
        ),
    )


def intercepted(target: Target) -> EndpointResult:
    return EndpointResult(
        target=target,
        findings=(
            finding("tls.client_cert_not_requested", "no request"),
            finding("tls.intercepted", "intercepted by FortiGate", subject="FortiGate"),
        ),
    )


def died(target: Target) -> EndpointResult:
    """A session that ended without a word while others through the same device were
    shown its certificate: inferred, not proven."""
    likely = finding("tls.intercepted", "likely", subject="FortiGate", is_inferred=True)
    return EndpointResult(
        target=target, findings=(finding("tls.handshake_failed", "closed"), likely)
    )


def unresolvable(target: Target) -> EndpointResult:
    return EndpointResult(
        target=target,
        findings=(finding("dns.nxdomain", f"{target.host} does not resolve", subject="10.0.0.53"),),
    )


@dataclass(frozen=True)
class Expected:
    code: str
    subject: str
    endpoints: int
    likely: int = 0


ROWS: list[tuple[str, list[EndpointResult], list[Expected], str]] = [
    (
        "port 25 dropped on all hosts",
        [*(dropped_at_hop(t) for t in SMTP), *(ok(t) for t in [*POP3, AGENT])],
        [Expected("trace.dropped_after_hop", FIREWALL, 6)],
        "The firewall at or right after 192.0.2.6 drops TCP 25 to mail1–mail6.dicommail.com.",
    ),
    (
        "one host unresolvable",
        [
            *(unresolvable(t) for t in PROFILE if t.host == MAIL[2]),
            *(ok(t) for t in PROFILE if t.host != MAIL[2]),
        ],
        [Expected("dns.nxdomain", "10.0.0.53", 2)],
        "No address for mail3.dicommail.com: the name does not exist (resolver 10.0.0.53).",
    ),
    (
        "interception proven on some, handshakes die on the others",
        [
            *(intercepted(t) for t in SMTP[:2]),
            *(died(t) for t in SMTP[2:]),
            *(ok(t) for t in [*POP3, AGENT]),
        ],
        [Expected("tls.intercepted", "FortiGate", 2, likely=4)],
        "A TLS-inspecting device (FortiGate) intercepts TCP 25 to mail1.dicommail.com and "
        "mail2.dicommail.com: the client certificate cannot pass it. Most likely the same "
        "device: mail3–mail6.dicommail.com, TCP 25 (their sessions ended without a word).",
    ),
    (
        "mixed: two firewalls, an interception, one host unresolvable",
        [
            *(dropped_at_hop(t) for t in SMTP[:3]),
            *(dropped_at_hop(t, "198.51.100.1") for t in SMTP[3:5]),
            unresolvable(SMTP[5]),
            *(intercepted(t) for t in POP3),
            ok(AGENT),
        ],
        [
            Expected("tls.intercepted", "FortiGate", 6),
            Expected("trace.dropped_after_hop", FIREWALL, 3),
            Expected("trace.dropped_after_hop", "198.51.100.1", 2),
            Expected("dns.nxdomain", "10.0.0.53", 1),
        ],
        "A TLS-inspecting device (FortiGate) intercepts TCP 995 to mail1–mail6.dicommail.com: "
        "the client certificate cannot pass it.",
    ),
    ("everything works", [ok(t) for t in PROFILE], [], ""),
]


@pytest.mark.parametrize(
    ("endpoints", "expected", "first_sentence"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_grouping(
    endpoints: list[EndpointResult], expected: list[Expected], first_sentence: str
) -> None:
    causes = find_causes(endpoints)
    assert [
        Expected(c.code, c.subject, len(c.endpoints), len(c.likely)) for c in causes
    ] == expected
    if causes:
        assert cause_sentence(causes[0], "en") == first_sentence
        assert cause_sentence(causes[0], "de") != first_sentence


def test_the_connect_verdict_folds_into_the_trace_that_locates_it() -> None:
    (cause,) = find_causes([dropped_at_hop(t) for t in SMTP])
    assert cause.code == "trace.dropped_after_hop"  # not a second cause tcp.filtered


def test_an_explaining_finding_stands_for_the_rest_of_its_endpoint() -> None:
    (cause,) = find_causes([intercepted(SMTP[0])])
    assert cause.code == "tls.intercepted"  # tls.client_cert_not_requested folds into it


def smtp_proxy(target: Target, *, placed: bool, traced: bool) -> EndpointResult:
    """STARTTLS missing, placed at hop 1 by the EHLO measurement (or not), and the trace of
    port 25 seeing the SYN/ACK from hop 1 (or no trace)."""
    missing = finding("smtp.starttls_missing", "no STARTTLS")
    if placed:
        missing = dataclasses.replace(missing, place=DevicePlace(hop=1, address=FIREWALL))
    proxy = finding("trace.transparent_proxy", "SYN/ACK from hop 1", subject=FIREWALL)
    return EndpointResult(target=target, findings=(missing, *([proxy] if traced else [])))


def test_a_traced_proxy_and_the_device_placed_at_its_hop_are_one_cause() -> None:
    """The endpoint measured (its trace saw the proxy) and those sharing its measurement
    (placed, not traced) are one cause, the one that says what the device does."""
    endpoints = [smtp_proxy(SMTP[0], placed=True, traced=True)]
    endpoints += [smtp_proxy(t, placed=True, traced=False) for t in SMTP[1:]]
    (cause,) = find_causes(endpoints)
    assert cause.code == "smtp.starttls_missing" and len(cause.endpoints) == 6


def test_twin_a_traced_proxy_beside_an_unplaced_finding_stays_the_cause() -> None:
    """Without a place measurement, the trace is the only word on where: it stands."""
    (cause,) = find_causes([smtp_proxy(SMTP[0], placed=False, traced=True)])
    assert cause.code == "trace.transparent_proxy"


def web_proxy(target: Target, *, traced: bool) -> EndpointResult:
    """A hello answered in HTTP, placed at hop 1 (a web proxy in the servers' place), and
    the trace of the port seeing the SYN/ACK from hop 1 (or no trace)."""
    http = finding("trace.transparent_proxy", "answered in HTTP", subject="Squid", detail="http")
    http = dataclasses.replace(http, place=DevicePlace(hop=1))
    proxy = finding("trace.transparent_proxy", "SYN/ACK from hop 1", subject=FIREWALL)
    return EndpointResult(target=target, findings=(http, *([proxy] if traced else [])))


def test_a_web_proxy_placed_by_its_http_answer_is_the_cause_its_trace_folds_into() -> None:
    """The placed proxy stands, whether or not a trace saw it as well: one cause, the one
    that says what the device does (the trace's, unplaced, folds into it)."""
    endpoints = [web_proxy(POP3[0], traced=True), *(web_proxy(t, traced=False) for t in POP3[1:])]
    (cause,) = find_causes(endpoints)
    assert cause.code == "trace.transparent_proxy" and cause.subject == "Squid"
    assert cause.detail == "http" and len(cause.endpoints) == 6
    en = cause_sentence(cause, "en")
    assert en.startswith("A web proxy (Squid) at the first hop (this gateway's router"), en


def test_healthy_twin_same_subject_on_an_info_finding_is_no_cause() -> None:
    """The same hop named in a trace that reached the server is no cause."""
    reached = [
        EndpointResult(target=t, findings=(finding("trace.reached", "reached", subject=FIREWALL),))
        for t in SMTP
    ]
    assert find_causes(reached) == ()


def test_an_inferred_finding_without_a_proof_stands_alone() -> None:
    (cause,) = find_causes([died(SMTP[0])])
    assert cause.endpoints == (SMTP[0],) and cause.likely == ()


def test_inferred_findings_of_different_kinds_without_a_proof_stay_apart() -> None:
    """Two endpoints only likely failing, for two different reasons, nothing proven: two
    causes, never one."""
    from dataclasses import replace

    other = died(SMTP[1])
    other = replace(
        other,
        findings=tuple(replace(f, subject="another device") for f in other.findings),
    )
    causes = find_causes([died(SMTP[0]), other])
    assert {c.endpoints for c in causes} == {(SMTP[0],), (SMTP[1],)} and len(causes) == 2


def test_first_lines_matrix_and_firewall_team() -> None:
    endpoints = [*(dropped_at_hop(t) for t in SMTP), *(ok(t) for t in [*POP3, AGENT])]
    report = Report(
        started=__import__("datetime").datetime(2026, 11, 28),
        duration_s=1.0,
        endpoints=tuple(endpoints),
        causes=find_causes(endpoints),
    )
    assert answer_lines(report, "en") == [
        "[1] CRIT: The firewall at or right after 192.0.2.6 drops TCP 25 to "
        "mail1–mail6.dicommail.com.",
        "Working: TCP 995 (mail1–mail6.dicommail.com), TCP 8140 (atlas79.mydhp.de).",
    ]
    grid = matrix(report, "en")
    assert {grid.cells[(h, 25)].text for h in MAIL} == {"[1] dropped"}
    assert {grid.cells[(h, 995)].text for h in MAIL} == {"OK"}
    firewall = firewall_lines(report, "de")
    assert firewall[0] == (
        "[1] Bei 192.0.2.6: TCP 25 vom Gateway zu mail1–mail6.dicommail.com erlauben."
    )
    assert firewall[1].startswith("Funktioniert bereits, so lassen: TCP 995 (mail1–mail6")


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (MAIL, "mail1–mail6.dicommail.com"),
        (MAIL[:2], "mail1.dicommail.com and mail2.dicommail.com"),
        ([MAIL[0], MAIL[2], MAIL[3], MAIL[4]], "mail1.dicommail.com and mail3–mail5.dicommail.com"),
        ([ATLAS, *MAIL], "atlas79.mydhp.de and mail1–mail6.dicommail.com"),
    ],
)
def test_host_lists(hosts: list[str], expected: str) -> None:
    assert host_list(hosts, "en") == expected


def test_severity_orders_before_reach() -> None:
    warn = [
        EndpointResult(target=t, findings=(finding("tls.unpinned", "unpinned"),)) for t in PROFILE
    ]
    crit = [unresolvable(AGENT)]
    causes = find_causes([*warn[:-1], *crit])
    assert [c.severity for c in causes] == [Severity.CRIT, Severity.WARN]
    assert [len(c.endpoints) for c in causes] == [1, len(PROFILE) - 1]


def test_a_proxys_answer_splits_causes_and_is_carried() -> None:
    """The same proxy answering two ways is two causes, each with its answer."""

    def refused(target: Target, answer: str) -> EndpointResult:
        found = finding("proxy.connect_refused", "refused", subject="10.1.2.3:3128", detail=answer)
        return EndpointResult(target=target, findings=(found,))

    causes = find_causes(
        [
            refused(SMTP[0], "403 Forbidden"),
            refused(SMTP[1], "403 Forbidden"),
            refused(POP3[0], "407 Proxy Authentication Required"),
        ]
    )
    assert sorted((c.detail, len(c.endpoints)) for c in causes) == [
        ("403 Forbidden", 2),
        ("407 Proxy Authentication Required", 1),
    ]


def _healthy_with(*local: object) -> Report:
    endpoints = tuple(ok(t) for t in PROFILE)
    return Report(
        started=__import__("datetime").datetime(2026, 11, 28),
        duration_s=1.0,
        endpoints=endpoints,
        causes=find_causes(endpoints),
        local_findings=local,  # type: ignore[arg-type]
    )


def test_a_warning_about_this_machine_is_not_nothing_to_change() -> None:
    """Every endpoint works, but this machine's clock is 400 days ahead: the first lines
    say so (in German by the catalogue's title), not "nothing to change"."""
    clock = finding(
        "clock.offset",
        "this machine's clock is 400 d ahead of the servers' time: certificates are judged "
        "by a wrong clock",
        offset_s=34_560_000,
    )
    report = _healthy_with(clock)
    lines = answer_lines(report, "en")
    assert lines[0] == (
        "[1] WARN: This machine: this machine's clock is 400 d ahead of the servers' time: "
        "certificates are judged by a wrong clock"
    )
    assert lines[1].startswith("Working: TCP 25 (mail1–mail6.dicommail.com)")
    assert answer_lines(report, "de")[0] == (
        "[1] WARN: Dieser Rechner: die Uhr dieses Rechners weicht von der Zeit der Server ab"
    )


def test_healthy_twin_an_info_about_this_machine_leaves_nothing_to_change() -> None:
    report = _healthy_with(finding("clock.offset", "a clock", severity=Severity.INFO))
    assert answer_lines(report, "en") == ["Every endpoint works: nothing to change."]


@pytest.mark.parametrize("hosts", [MAIL[:1], MAIL], ids=["one host", "six hosts"])
def test_the_private_address_sentence_reads_for_one_host_and_for_several(
    hosts: list[str],
) -> None:
    endpoints = [
        EndpointResult(
            target=Target(host=h, port=25, service=Service.SMTP_STARTTLS),
            findings=(finding("dns.private_address", "10.1.2.3", subject="given 198.18.2.2"),),
        )
        for h in hosts
    ]
    (cause,) = find_causes(endpoints)
    said = cause_sentence(cause, "en")
    assert said.startswith(f"DNS gives {host_list(hosts, 'en')} an address that no public")
    assert " resolve to " not in said


def test_the_gateways_requirements_are_one_line_at_their_worst_severity() -> None:
    from netdiag.report.host_observations import HostObservation
    from netdiag.report.model import HostResult

    report = _healthy_with()
    observation = HostObservation(platform="linux", os_name="Debian", cpu_logical=2, memory_bytes=1)
    host = HostResult(
        observation=observation,
        findings=(
            finding("host.cpu_below", "2 cores"),
            finding("host.memory_below", "1 byte", severity=Severity.CRIT),
            finding("host.cpu_below", "2 cores again"),
        ),
    )
    report = __import__("dataclasses").replace(report, host=host)
    lines = answer_lines(report, "en")
    assert lines[0] == (
        "[1] CRIT: Gateway (system requirements): fewer CPU cores than recommended; less memory "
        "than recommended"
    )
    assert lines[1].startswith("Working: ")


def test_a_login_refused_on_one_server_names_the_spared_ones_as_likely_not_a_device() -> None:
    refused = EndpointResult(
        target=POP3[0], findings=(finding("pop3.login_failed", "login refused: -ERR [AUTH]"),)
    )
    spared = [
        EndpointResult(
            target=t,
            findings=(
                finding("pop3.login_not_repeated", "not sent"),
                finding("pop3.login_failed", "not tried", is_inferred=True),
            ),
        )
        for t in POP3[1:]
    ]
    (cause,) = find_causes([refused, *spared])
    assert cause.endpoints == (POP3[0],) and cause.likely == tuple(POP3[1:])
    assert cause_sentence(cause, "en").endswith(
        "The same login, not tried again on mail2–mail6.dicommail.com (TCP 995): most likely "
        "refused there too."
    )
    assert "Gerät" not in cause_sentence(cause, "de")


def test_one_filter_cutting_two_names_is_one_cause() -> None:
    """tls.sni_filtered as the experiments conclude it (Squid terminating two names, the
    other name answered with HTTP): the names are in the summaries, the cause is one."""
    from netdiag.diagnosis.hypotheses import Symptom, conclude
    from tests.unit.test_hypotheses import R, S, T, results

    def filtered(target: Target) -> EndpointResult:
        concluded = conclude(target, Symptom.CUT, results(R, T, S, R, R, R))
        assert concluded is not None and concluded.code == "tls.sni_filtered"
        return EndpointResult(target=target, findings=(concluded,))

    endpoints = [filtered(POP3[2]), filtered(AGENT), *(ok(t) for t in [*SMTP, *POP3[:2]])]
    [cause] = find_causes(endpoints)
    assert (cause.code, cause.subject, len(cause.endpoints)) == ("tls.sni_filtered", "", 2)
    assert cause_sentence(cause, "en") == (
        "A device cuts the TLS handshakes of mail3.dicommail.com and atlas79.mydhp.de (TCP 995 "
        "and 8140) by the server name: the same address answers another of the vendor's names "
        "or a handshake without a name — a URL or SNI filter, not the server."
    )
