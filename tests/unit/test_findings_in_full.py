"""Every verdict of the rule tables in full: code, severity, subject, detail, summary, every
evidence line and the remedy, compared with golden files (`tests/unit/golden/findings/`).

The rule tests assert the decisions (which code, which subject); these assert the words an
administrator reads and a ticket carries. A reason dropped from the evidence, an ICMP code
named wrongly, a hop miscounted in a sentence is a verdict less proven: the mutation gate
showed that the decision tables alone let such changes pass. The golden files are rewritten
only by `python -m tests.golden`, after reading the diff."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from netdiag.diagnosis import diagnose_endpoint
from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.dns import address_concern, describe_answer, diagnose_dns
from netdiag.diagnosis.hypotheses import with_experiments
from netdiag.diagnosis.protocol import diagnose_protocol
from netdiag.diagnosis.proxy import describe_attempt, diagnose_proxy
from netdiag.diagnosis.tcp import describe_icmp, diagnose_tcp
from netdiag.diagnosis.tls import describe_tls, diagnose_tls
from netdiag.diagnosis.trace import diagnose_trace, hop_lines
from netdiag.report.messages import cause_sentence
from netdiag.report.model import Cause, EndpointResult, Finding, Severity
from netdiag.report.observations import (
    DnsAnswer,
    DnsObservation,
    DnsOutcome,
    EndpointObservation,
    IcmpReport,
    ProbeStep,
    ProtocolStage,
    ProxyAttempt,
    ProxyOutcome,
    StageFailure,
    TcpObservation,
    TcpOutcome,
    TlsOutcome,
    TranscriptLine,
)
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation
from netdiag.settings.targets import Target
from tests.golden import GOLDEN
from tests.unit import (
    test_causes,
    test_completeness,
    test_connection_limit,
    test_diagnosis_dns,
    test_diagnosis_tcp,
    test_diagnosis_tls,
    test_diagnosis_trace,
    test_hypotheses,
    test_proxies,
    test_silent_after_certificate,
)

FINDINGS = GOLDEN / "findings"


def finding_text(found: Finding) -> list[str]:
    flags = [
        name
        for name, value in (
            ("inferred", found.is_inferred),
            ("explains others", found.explains_others),
            ("own remedy", found.has_own_remedy),
        )
        if value
    ]
    lines = [f"{found.code} [{found.severity.value}]" + (f" ({', '.join(flags)})" if flags else "")]
    lines += [f"  subject: {found.subject}"] if found.subject != "" else []
    lines += [f"  detail: {found.detail}"] if found.detail != "" else []
    lines += [f"  summary: {found.summary}"]
    lines += [f"  evidence: {line}" for line in found.evidence]
    lines += [f"  remedy: {line}" for line in found.remedy.splitlines()]
    return lines


def findings_text(findings: Sequence[Finding]) -> str:
    return "\n".join(line for f in findings for line in finding_text(f)) or "(no finding)"


def cause_text(cause: Cause) -> list[str]:
    lines = [f"{cause.code} [{cause.severity.value}] subject: {cause.subject}"]
    lines += [f"  detail: {cause.detail}"] if cause.detail else []
    lines += [f"  endpoints: {', '.join(t.label for t in cause.endpoints)}"]
    lines += [f"  likely: {', '.join(t.label for t in cause.likely)}"] if cause.likely else []
    lines += [f"  summary: {cause.summary}"]
    lines += [f"  evidence: {line}" for line in cause.evidence]
    own = " (own)" if cause.has_own_remedy else ""
    lines += [f"  remedy{own}: {line}" for line in cause.remedy.splitlines()]
    lines += [f"  sentence ({lang}): {cause_sentence(cause, lang)}" for lang in ("en", "de")]
    return lines


# --- the cases: each table's rows, and what the rows leave out -------------------------


def _tcp() -> dict[str, Callable[[], str]]:
    target = test_diagnosis_tcp.TARGET
    cases: dict[str, Callable[[], str]] = {
        name: lambda o=observations: findings_text(diagnose_tcp(target, o))
        for name, observations, _ in test_diagnosis_tcp.ROWS
    }
    # Every ICMP code a router can send, in both families: each named as its RFC does.
    for family, kind, codes in ((4, 3, range(16)), (6, 1, range(8)), (4, 11, [0]), (6, 3, [0])):
        for code in codes:
            icmp = IcmpReport(sender="192.0.2.1", type=kind, code=code, family=family)
            refused = TcpObservation(
                address="203.0.113.10", port=25, family=family,
                outcome=TcpOutcome.UNREACHABLE, icmp=icmp, elapsed_ms=3.0,
            )  # fmt: skip
            cases[f"ICMPv{family} type {kind} code {code}"] = lambda i=icmp, r=refused: (
                describe_icmp(i) + "\n" + findings_text(diagnose_tcp(target, [r]))
            )
    unknown = IcmpReport(sender="", type=3, code=13)
    cases["ICMP from an unknown sender"] = lambda: describe_icmp(unknown)
    anonymous = TcpObservation(
        address="203.0.113.10", port=25, family=4, outcome=TcpOutcome.UNREACHABLE, icmp=unknown
    )
    cases["prohibited by a router that did not say its address"] = lambda: findings_text(
        diagnose_tcp(target, [anonymous])
    )
    return cases


def _tls() -> dict[str, Callable[[], str]]:
    module = test_diagnosis_tls
    cases: dict[str, Callable[[], str]] = {}
    for name, observation, client, _ in module.TLS_ROWS:
        cases[f"tls: {name}"] = lambda o=observation, c=client: (
            "\n".join(describe_tls(o)) + "\n" + findings_text(diagnose_tls(module.SMTP, o, c))
        )
    other = dataclasses.replace(module.LEAF, subject="CN=Vendor Issuing", issuer="CN=Vendor Root")
    names = tuple(f"CN=Client CA {n}" for n in range(10))
    extras = {
        "a chain of two, ten acceptable client CAs": module.tls(
            chain=(module.LEAF, other), client_ca_names=names
        ),
        "closed by the peer": module.tls(
            outcome=TlsOutcome.CLOSED, version="", cipher="", was_client_cert_requested=None
        ),
        "failed with an error only": module.tls(
            outcome=TlsOutcome.FAILED, version="", error="wrong version number"
        ),
        "failed with nothing said": module.tls(outcome=TlsOutcome.FAILED, version=""),
    }
    for name, observation in extras.items():
        cases[f"tls: {name}"] = lambda o=observation: (
            "\n".join(describe_tls(o))
            + "\n"
            + findings_text(diagnose_tls(module.SMTP, o, module.CLIENT))
        )
    for name, observation, _ in module.SMTP_ROWS:
        cases[f"smtp: {name}"] = lambda o=observation: findings_text(
            diagnose_protocol(module.SMTP, o, module.CLIENT)
        )
    for name, observation, _ in module.POP3_ROWS:
        cases[f"pop3: {name}"] = lambda o=observation: findings_text(
            diagnose_protocol(module.POP3, o, module.CLIENT)
        )
    return cases


def _dns() -> dict[str, Callable[[], str]]:
    expected = (ipaddress.ip_network("195.0.0.0/24"),)
    cases: dict[str, Callable[[], str]] = {}
    for name, answers, _ in test_diagnosis_dns.ROWS:
        observation = DnsObservation(host="mail1.dicommail.com", answers=answers)
        cases[name] = lambda o=observation: (
            "\n".join(describe_answer(a) for a in o.answers)
            + "\n"
            + findings_text(diagnose_dns(o))
            + "\nwith 195.0.0.0/24 expected:\n"
            + findings_text(diagnose_dns(o, expected))
        )
    for address in ("10.1.2.3", "127.0.0.1", "0.0.0.0", "169.254.1.1", "100.64.0.1",
                    "192.168.1.1", "172.16.0.1", "::1", "fe80::1", "fd00::1", "224.0.0.1",
                    "195.0.0.10", "2001:db8::1"):  # fmt: skip
        cases[f"concern of {address}"] = lambda a=address: address_concern(a) or "(none)"

    def two(first: DnsOutcome, second: DnsOutcome, *addresses: str) -> DnsObservation:
        return DnsObservation(
            host="mail1.dicommail.com",
            answers=(
                DnsAnswer(resolver="192.0.2.53", qtype="A", outcome=first, addresses=addresses),
                DnsAnswer(resolver="192.0.2.54", qtype="A", outcome=second, addresses=addresses),
            ),
        )

    pairs = {
        "two resolvers, both NXDOMAIN": two(DnsOutcome.NXDOMAIN, DnsOutcome.NXDOMAIN),
        "two resolvers, one answers, one fails": two(
            DnsOutcome.ANSWER, DnsOutcome.SERVFAIL, "195.0.0.10"
        ),
        "two resolvers give a filter's block answer": two(
            DnsOutcome.ANSWER, DnsOutcome.ANSWER, "0.0.0.0", "10.1.2.3"
        ),
        "two resolvers time out": two(DnsOutcome.TIMEOUT, DnsOutcome.TIMEOUT),
    }
    mixed = DnsObservation(
        host="mail1.dicommail.com",
        answers=(
            DnsAnswer(resolver="192.0.2.53", qtype="A", outcome=DnsOutcome.ANSWER,
                      addresses=("195.0.0.10",)),
            DnsAnswer(resolver="192.0.2.54", qtype="A", outcome=DnsOutcome.NXDOMAIN),
            DnsAnswer(resolver="192.0.2.55", qtype="A", outcome=DnsOutcome.NXDOMAIN),
            DnsAnswer(resolver="192.0.2.56", qtype="A", outcome=DnsOutcome.ANSWER,
                      addresses=("195.0.0.11", "195.0.0.10")),
        ),
    )  # fmt: skip
    pairs["two resolvers say NXDOMAIN, two answer"] = mixed
    for name, observation in pairs.items():
        cases[name] = lambda o=observation: findings_text(diagnose_dns(o))
    for address in ("::", "240.0.0.1", "198.18.0.1", "192.0.0.8", "ff02::1", "4000::1"):
        cases[f"concern of {address}"] = lambda a=address: address_concern(a) or "(none)"
    refused = DnsAnswer(resolver="192.0.2.53", qtype="A", outcome=DnsOutcome.REFUSED)
    cases["a refused question described"] = lambda: describe_answer(refused)
    return cases


def _proxy() -> dict[str, Callable[[], str]]:
    smtp = test_proxies.SMTP
    cases: dict[str, Callable[[], str]] = {}
    for name, attempt, everything_blocked, *_ in test_proxies.ROWS:
        cases[name] = lambda a=attempt, b=everything_blocked: (
            "\n".join(describe_attempt(a))
            + "\n"
            + findings_text(diagnose_proxy(smtp, [a], is_everything_blocked=b))
        )
    proxy = dataclasses.replace(test_proxies.PROXY, has_credentials=True)
    done = test_diagnosis_tls.smtp()
    stopped = test_diagnosis_tls.smtp(
        stopped_at=ProtocolStage.TLS, failure=StageFailure.TLS_FAILED, failure_detail=""
    )
    detailed = dataclasses.replace(stopped, failure_detail="the peer reset the connection")
    tunnels = {"completed": done, "stopped": stopped, "stopped, with a detail": detailed}
    for name, tunnel in tunnels.items():
        through = ProxyAttempt(
            proxy=proxy, outcome=ProxyOutcome.ANSWERED, status=200,
            status_line="HTTP/1.1 200 Connection established", elapsed_ms=3.5,
            through_tunnel=tunnel,
        )  # fmt: skip
        cases[f"a tunnel, its dialogue {name}"] = lambda a=through: (
            "\n".join(describe_attempt(a))
            + "\n"
            + findings_text(diagnose_proxy(smtp, [a], is_everything_blocked=True))
        )
    said = tuple(
        TranscriptLine(direction="S", text=f"250-line {n}", at_ms=n * 1.5) for n in range(1, 10)
    )
    chatty = test_diagnosis_tls.smtp(
        stopped_at=ProtocolStage.TLS, failure=StageFailure.TLS_FAILED, transcript=said
    )
    long_tunnel = ProxyAttempt(
        proxy=proxy, outcome=ProxyOutcome.ANSWERED, status=200,
        status_line="HTTP/1.1 200 OK", through_tunnel=chatty,
    )  # fmt: skip
    cases["a tunnel whose dialogue said more than six lines"] = lambda: "\n".join(
        describe_attempt(long_tunnel)
    )
    silent = ProxyAttempt(proxy=proxy, outcome=ProxyOutcome.TIMEOUT, detail="no answer in 5 s")
    second = ProxyAttempt(
        proxy=dataclasses.replace(proxy, host="10.9.9.9"), outcome=ProxyOutcome.ANSWERED,
        status=403, status_line="HTTP/1.1 403 Forbidden",
    )  # fmt: skip
    cases["two proxies, the first silent"] = lambda: findings_text(
        diagnose_proxy(smtp, [silent, second], is_everything_blocked=False)
    )
    bare_status = ProxyAttempt(
        proxy=proxy, outcome=ProxyOutcome.ANSWERED, status=403, status_line="HTTP/1.1"
    )
    cases["a status line without a reason"] = lambda: findings_text(
        diagnose_proxy(smtp, [bare_status], is_everything_blocked=True)
    )
    for outcome in ProxyOutcome:
        bare = ProxyAttempt(proxy=test_proxies.PROXY, outcome=outcome, detail="said so")
        cases[f"{outcome.value}, nothing else known"] = lambda a=bare: "\n".join(
            describe_attempt(a)
        )
    return cases


def _traced(trace: TraceObservation, control: TraceObservation | None = None, **more: Any) -> str:
    """The verdict and the hop tables it is shown with."""
    tables = [f"  {line}" for line in hop_lines(trace)]
    if control is not None:
        tables += [f"  control {line}" for line in hop_lines(control)]
    verdict = findings_text(diagnose_trace("mail1:25", trace, control, **more))
    return "\n".join(["hops:", *tables, verdict])


def _trace() -> dict[str, Callable[[], str]]:
    cases: dict[str, Callable[[], str]] = {
        name: lambda o=observation, c=control: _traced(o, c)
        for name, observation, control, _ in test_diagnosis_trace.ROWS
    }
    module = test_diagnosis_trace
    path = module.PATH
    prohibited = HopReply(
        ttl=3, sender="192.0.2.3", kind=HopKind.UNREACHABLE, icmp_type=3, icmp_code=13,
        rtt_ms=4.5, reply_ttl=62,
    )  # fmt: skip
    host_unreachable = HopReply(
        ttl=3, sender="2001:db8::3", kind=HopKind.UNREACHABLE, icmp_type=1, icmp_code=3,
        rtt_ms=4.5, reply_ttl=62,
    )  # fmt: skip
    later = dataclasses.replace(prohibited, ttl=4, sender="192.0.2.4", icmp_code=1)
    named = dataclasses.replace(
        module.trace(*path, prohibited), names=(("192.0.2.1", "gw.hospital.example"),)
    )
    untyped = HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.UNREACHABLE)
    cases["rejected at hop 3 by policy (ICMP 3/13), hop 1 named"] = lambda: _traced(named)
    cases["rejected at hop 3 over IPv6 (address unreachable)"] = lambda: _traced(
        module.trace(*path, host_unreachable)
    )
    cases["two rejections: the nearer one counts"] = lambda: _traced(
        module.trace(*path, later, prohibited)
    )
    cases["a rejection without type or code"] = lambda: _traced(module.trace(path[0], untyped))
    cases["a rejection from a router seen earlier on the path"] = lambda: _traced(
        module.trace(*path, dataclasses.replace(prohibited, sender="192.0.2.1"))
    )
    synack = module.answer(3, HopKind.SYN_ACK, 62)
    cases["the destination answers at the hop a rejection came from"] = lambda: _traced(
        module.trace(*path, synack, prohibited)
    )
    cases["the destination answers before a later rejection"] = lambda: _traced(
        module.trace(*path, synack, later)
    )
    faster = dataclasses.replace(path[1], sender="192.0.2.22", rtt_ms=0.5)
    cases["two answers for one TTL: the faster is shown"] = lambda: _traced(
        module.trace(path[0], dataclasses.replace(path[1], rtt_ms=2.0), faster)
    )
    no_answer = module.trace(*path, port=995)
    cases["a reset beside a control trace that reached nothing"] = lambda: _traced(
        module.trace(*path, module.answer(3, HopKind.RST, 40)), no_answer
    )
    typed_only = HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.UNREACHABLE, icmp_type=3)
    cases["a rejection with a type and no code"] = lambda: _traced(
        module.trace(path[0], typed_only)
    )
    at_once = module.answer(1, HopKind.SYN_ACK, 64)
    cases["a SYN/ACK at TTL 1, the destination 3 hops away"] = lambda: _traced(
        module.trace(at_once), module.CONTROL_AT_3
    )
    behind_silence = module.answer(3, HopKind.SYN_ACK, 62)
    cases["a SYN/ACK at TTL 3 after a silent hop 2, the destination at 4"] = lambda: _traced(
        module.trace(path[0], behind_silence), module.CONTROL_AT_4
    )
    twin = dataclasses.replace(path[1], sender="192.0.2.22")
    cases["two answers for one TTL at the same moment: the first is shown"] = lambda: _traced(
        module.trace(path[0], path[1], twin)
    )
    flat = (
        HopReply(ttl=1, sender="192.0.2.1", kind=HopKind.TIME_EXCEEDED, reply_ttl=63),
        HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.TIME_EXCEEDED, reply_ttl=63),
    )
    cases["a reset with the TTL of two earlier hops: the later one is named"] = lambda: _traced(
        module.trace(*flat, module.answer(3, HopKind.RST, 63)), module.CONTROL_AT_3
    )
    decoy = HopReply(ttl=2, sender="192.0.2.99", kind=HopKind.SYN_ACK, reply_ttl=63)
    control_with_decoy = module.trace(
        path[0], decoy, module.answer(3, HopKind.SYN_ACK, 62), port=995
    )
    cases["a control trace with another's SYN/ACK before the destination's"] = lambda: _traced(
        module.trace(*path, module.answer(3, HopKind.RST, 63)), control_with_decoy
    )
    other_way = module.trace(*module._route("198.51.100.1", "198.51.100.2", "198.51.100.3"))
    deeper = module.trace(*module._route("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"))
    deep = module.trace(*module._route("192.0.2.1", "192.0.2.2", "192.0.2.3"))
    cases["silence beyond hop 2, peers on another way and deeper on this one"] = lambda: (
        findings_text(diagnose_trace("mail1:25", lone, peers=[other_way, deep, deeper]))
    )
    cases["silence beyond hop 2, two peers equally deep"] = lambda: findings_text(
        diagnose_trace("mail1:25", lone, peers=[deep, dataclasses.replace(deep, port=26)])
    )
    odd = HopReply(
        ttl=2, sender="192.0.2.2", kind=HopKind.OTHER, icmp_type=12, icmp_code=0, reply_ttl=63
    )
    cases["an answer of another kind at hop 2"] = lambda: _traced(module.trace(path[0], odd))
    unread = HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.OTHER, reply_ttl=63)
    cases["an answer of another kind, its type not read"] = lambda: _traced(
        module.trace(path[0], unread)
    )
    cases["a SYN/ACK at TTL 2 after a silent hop 1, the destination at 3"] = lambda: _traced(
        module.trace(module.answer(2, HopKind.SYN_ACK, 63)), module.CONTROL_AT_3
    )
    # The destination's own TTL is read at its distance, from its own answers only.
    crowded = module.trace(
        *path,
        module.answer(4, HopKind.SYN_ACK, 55),
        HopReply(ttl=3, sender="192.0.2.33", kind=HopKind.TIME_EXCEEDED, reply_ttl=50),
        module.answer(3, HopKind.SYN_ACK, 62),
        port=995,
    )
    cases["a reset whose TTL is the destination's own, beside a crowded control"] = lambda: _traced(
        module.trace(*path, module.answer(3, HopKind.RST, 62)), crowded
    )
    for reply_ttl in (1, 32, 33, 64, 65, 126, 128, 129, 255):
        reset = module.answer(3, HopKind.RST, reply_ttl)
        cases[f"a reset at hop 3 with IP TTL {reply_ttl}"] = lambda r=reset: _traced(
            module.trace(*path, r), module.CONTROL_AT_3
        )
    lone = module.trace(*module._route("192.0.2.1", "192.0.2.2"))
    peer = module.trace(*module._route("192.0.2.1", "192.0.2.2", "192.0.2.3"))
    cases["silence beyond hop 2, a peer saw hop 3"] = lambda: findings_text(
        diagnose_trace("mail1:25", lone, peers=[peer])
    )
    nothing = module._sent(module.trace())
    first = module._sent(module.trace(module.hop(1, "192.0.2.1")))
    cases["nothing answered beside a peer that saw hop 1"] = lambda: findings_text(
        diagnose_trace("mail1:25", nothing, peers=[first])
    )
    return cases


def _completeness() -> dict[str, Callable[[], str]]:
    module = test_completeness

    def judged(observation: EndpointObservation) -> str:
        return findings_text(
            diagnose_endpoint(module.SMTP, observation, expected_networks=module.DOCUMENTATION)
        )

    cases: dict[str, Callable[[], str]] = {
        name: lambda o=observation: judged(o) for name, observation, _, _ in module.ROWS
    }
    dropped = dataclasses.replace(module.OPEN, outcome=TcpOutcome.TIMEOUT)
    skipped = dataclasses.replace(module.OPEN, outcome=TcpOutcome.SKIPPED, detail="deadline")
    extras = {
        "no address accepted the connection": module.seen(
            tcp=(dropped,), attempts=(), reached=ProbeStep.CONNECT
        ),
        "the deadline passed before a connect": module.seen(
            tcp=(skipped,), attempts=(), reached=ProbeStep.CONNECT
        ),
        "the dialogue did not start": module.seen(attempts=(), reached=ProbeStep.PROTOCOL),
        "no connection was tried": module.seen(tcp=(), attempts=(), reached=ProbeStep.CONNECT),
        "one address skipped, another open, the dialogue not started": module.seen(
            tcp=(module.OPEN, skipped), attempts=(), reached=ProbeStep.PROTOCOL
        ),
        "the dialogue cut short twice": module.seen(
            attempts=(module.CLOSED_AT_BANNER, module.CLOSED_AT_BANNER),
            reached=ProbeStep.PROTOCOL,
        ),
        "the dialogue cut short three times": module.seen(
            attempts=(module.CLOSED_AT_BANNER,) * 3, reached=ProbeStep.PROTOCOL
        ),
    }
    for name, observation in extras.items():
        cases[name] = lambda o=observation: judged(o)
    for name, attempts, alone, *_ in test_connection_limit.ROWS:
        done = attempts[-1].stopped_at is ProtocolStage.DONE
        tried = module.seen(
            attempts=attempts,
            retried_alone=alone,
            reached=ProbeStep.DONE if done else ProbeStep.PROTOCOL,
        )
        cases[f"connection limit: {name}"] = lambda o=tried: judged(o)
    return cases


def _grouped(endpoints: Sequence[EndpointResult]) -> str:
    causes = find_causes(endpoints)
    return "\n".join(line for cause in causes for line in cause_text(cause)) or "(no cause)"


def _causes() -> dict[str, Callable[[], str]]:
    cases: dict[str, Callable[[], str]] = {
        name: lambda e=endpoints: _grouped(e) for name, endpoints, _, _ in test_causes.ROWS
    }
    smtp, pop3 = test_causes.SMTP, test_causes.POP3

    def one(target: Target, *findings: Finding) -> EndpointResult:
        return EndpointResult(target=target, findings=findings)

    proven = finding(
        "tls.intercepted", "intercepted by FortiGate", ["presented: issuer 'FortiGate CA'"],
        remedy="Exempt mail1.dicommail.com:25 (smtp-starttls) from inspection.",
        subject="FortiGate",
    )  # fmt: skip
    likely = finding("tls.intercepted", "likely", subject="FortiGate", is_inferred=True)
    cases["a proven interception with its own remedy, two likely"] = lambda: _grouped(
        [one(smtp[0], proven), one(smtp[1], likely), one(pop3[0], likely)]
    )
    warned = finding("tls.intercepted", "intercepted", severity=Severity.WARN, subject="X")
    critical = finding("tls.intercepted", "intercepted", subject="X")
    noted = finding("tls.intercepted", "intercepted", severity=Severity.INFO, subject="X")
    cases["one cause of a note and a warning"] = lambda: _grouped(
        [one(smtp[0], noted), one(smtp[1], warned)]
    )
    cases["one cause of a warning and a critical finding"] = lambda: _grouped(
        [one(smtp[0], warned), one(smtp[1], critical)]
    )
    for product in ("ESET", "sslsplit"):
        local = finding(
            "tls.intercepted_locally", f"intercepted on this machine by {product}",
            [f"place: {product}"], remedy=f"own remedy naming {product}", subject=product,
        )  # fmt: skip
        cases[f"interception on this machine by {product}"] = lambda f=local: _grouped(
            [one(smtp[0], f), one(pop3[0], f)]
        )
    for way in ("sent", "received"):
        lost = finding("path.mtu_blackhole", f"large packets lost ({way})", detail=way)
        cases[f"a path MTU black hole found by the hellos ({way})"] = lambda f=lost: _grouped(
            [one(smtp[0], f), one(pop3[0], f)]
        )
    plain = finding("tls.intercepted_locally", "on this machine", subject="ESET")
    cases["interception on this machine, the catalogue's remedy"] = lambda: _grouped(
        [one(smtp[0], plain)]
    )
    return cases


def _hypotheses() -> dict[str, Callable[[], str]]:
    from netdiag.diagnosis.hypotheses import Symptom, conclude

    module = test_hypotheses

    def concluded(results: Sequence[Any]) -> str:
        found = conclude(module.MAIL3, Symptom.CUT, tuple(results))
        return findings_text([found] if found is not None else [])

    cases: dict[str, Callable[[], str]] = {
        name: lambda a=answers: concluded(module.results(*a))
        for name, answers, _ in module.CONCLUSIONS
    }
    for name, answers in (("alone, nameless answered", "RSSRRR"), ("alone, all cut", "RSRRRR")):
        picked = [module.R if c == "R" else module.S for c in answers]
        cases[f"without another name: {name}"] = lambda p=picked: concluded(
            [r for r in module.results(*p) if r.kind is not module.Experiment.OTHER_NAME]
        )
    for name, found, *_ in test_silent_after_certificate.BIG_HELLO_ROWS:
        cases[f"silent after the certificate: {name}"] = lambda f=found: findings_text(
            with_experiments(
                test_silent_after_certificate.MAIL1,
                (test_silent_after_certificate.SILENT,),
                f,
                (test_silent_after_certificate.PROTOCOL_ERROR,),
            )
        )
    for name, found, _ in test_silent_after_certificate.SMALL_SEGMENT_ROWS:
        cases[f"unanswered, small segments: {name}"] = lambda f=found: findings_text(
            [c for c in [conclude(test_silent_after_certificate.MAIL1, Symptom.SILENT, f)] if c]
        )
    for name, answers, _ in module.REFUSALS:
        cases[f"refused: {name}"] = lambda a=answers: findings_text(
            [f for f in [conclude(module.MAIL3, Symptom.REFUSED, module.refused_results(*a))] if f]
        )
    return cases


TABLES: dict[str, Callable[[], dict[str, Callable[[], str]]]] = {
    "tcp": _tcp,
    "tls": _tls,
    "dns": _dns,
    "proxy": _proxy,
    "trace": _trace,
    "completeness": _completeness,
    "causes": _causes,
    "hypotheses": _hypotheses,
}

_HEADING = "=== "


def golden_text(table: str) -> str:
    """The whole golden file of one table, for `python -m tests.golden`."""
    return "".join(
        f"{_HEADING}{name}\n{produce()}\n\n" for name, produce in TABLES[table]().items()
    )


def _section(path: Path, name: str) -> str:
    assert path.is_file(), f"{path} is missing: write it with `python -m tests.golden`"
    text = path.read_text("utf-8")
    start = text.find(f"{_HEADING}{name}\n")
    assert start >= 0, f"no case {name!r} in {path.name}: run `python -m tests.golden`"
    body = text[start + len(_HEADING) + len(name) + 1 :]
    return body[: body.find(f"\n\n{_HEADING}")] if f"\n\n{_HEADING}" in body else body[:-2]


CASES = [(table, name) for table, cases in TABLES.items() for name in cases()]


@pytest.mark.parametrize(("table", "name"), CASES, ids=[f"{t}: {n}" for t, n in CASES])
def test_the_verdict_in_full(table: str, name: str) -> None:
    produced = TABLES[table]()[name]()
    path = FINDINGS / f"{table}.txt"
    assert produced == _section(path, name), (
        f"{table}: {name!r} differs from {path.name}; if the change is meant, review the diff "
        "and run `python -m tests.golden`"
    )


def test_every_golden_case_is_still_a_case() -> None:
    """A row renamed or removed leaves no stale section that nothing compares."""
    for table, cases in TABLES.items():
        text = (FINDINGS / f"{table}.txt").read_text("utf-8")
        named = [line[len(_HEADING) :] for line in text.splitlines() if line.startswith(_HEADING)]
        assert named == list(cases()), table
