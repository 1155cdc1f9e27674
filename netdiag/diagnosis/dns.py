"""DNS rules: (DnsObservation, expected networks) -> findings."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import DnsAnswer, DnsObservation, DnsOutcome
from netdiag.settings.targets import Network

# Answers that DNS filters hand out instead of the real address ("sinkholes").
_SINKHOLE_NETWORKS: tuple[tuple[Network, str], ...] = (
    (ipaddress.ip_network("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"),
    (ipaddress.ip_network("146.112.61.104/29"), "Cisco Umbrella/OpenDNS block page"),
    (ipaddress.ip_network("0.0.0.0/8"), "unspecified (a DNS filter's block answer)"),
)

_FAILURE_CODES = {
    DnsOutcome.NXDOMAIN: "dns.nxdomain",
    DnsOutcome.NO_ANSWER: "dns.no_answer",
    DnsOutcome.SERVFAIL: "dns.servfail",
    DnsOutcome.REFUSED: "dns.servfail",
    DnsOutcome.ERROR: "dns.servfail",
    DnsOutcome.TIMEOUT: "dns.timeout",
}
# When one resolver gives different failures for A and AAAA, the most telling one speaks
# for it: a missing name before a failing server before silence.
_FAILURE_ORDER = (
    DnsOutcome.NXDOMAIN,
    DnsOutcome.SERVFAIL,
    DnsOutcome.REFUSED,
    DnsOutcome.ERROR,
    DnsOutcome.TIMEOUT,
    DnsOutcome.NO_ANSWER,
)


def describe_answer(answer: DnsAnswer) -> str:
    what = (
        ", ".join(answer.addresses) if answer.addresses else answer.detail or answer.outcome.value
    )
    return f"{answer.resolver} {answer.qtype}: {what} ({answer.elapsed_ms:g} ms)"


def address_concern(address: str) -> str:
    """Why `address` is not where a public vendor server lives, or "" if it could be."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network, reason in _SINKHOLE_NETWORKS:
        if ip.version == network.version and ip in network:
            return reason
    if ip.is_unspecified:
        return "unspecified address (a DNS filter's block answer)"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private network (RFC 1918/4193 or reserved)"
    if ip.is_reserved:
        return "reserved"
    return ""


def _is_expected(address: str, expected: Sequence[Network]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in expected)


def _resolver_failure(answers: Sequence[DnsAnswer]) -> DnsOutcome | None:
    """The failure that speaks for a resolver that gave no address at all."""
    if any(a.addresses for a in answers):
        return None
    outcomes = {a.outcome for a in answers}
    return next((o for o in _FAILURE_ORDER if o in outcomes), None)


def diagnose_dns(observation: DnsObservation, expected: Sequence[Network] = ()) -> list[Finding]:
    """Findings about how `observation.host` resolved, across every resolver asked.
    Queries that the run's deadline skipped say nothing about a resolver."""
    observation = DnsObservation(
        host=observation.host,
        answers=tuple(
            a
            for a in observation.answers
            if a.outcome not in (DnsOutcome.SKIPPED, DnsOutcome.INTERNAL_ERROR)
        ),
    )
    if not observation.answers:
        return []
    host = observation.host
    by_resolver = {
        r: [a for a in observation.answers if a.resolver == r] for r in observation.resolvers
    }
    has_address = bool(observation.addresses)
    findings: list[Finding] = []

    failures: dict[str, list[str]] = {}
    for resolver, answers in by_resolver.items():
        failure = _resolver_failure(answers)
        if failure is not None:
            failures.setdefault(_FAILURE_CODES[failure], []).append(resolver)
    for code, resolvers in failures.items():
        evidence = [describe_answer(a) for r in resolvers for a in by_resolver[r]]
        if has_address:
            kind = code.split(".")[1]
            summary = f"{host}: {', '.join(resolvers)} gave no address ({kind}); others did"
            findings.append(
                finding(
                    code, summary, evidence, severity=Severity.WARN, subject=", ".join(resolvers)
                )
            )
        else:
            summary = f"{host} does not resolve: {code.split('.')[1]} from {', '.join(resolvers)}"
            findings.append(finding(code, summary, evidence, subject=", ".join(resolvers)))

    answered = {
        r: observation.addresses_from(r)
        for r, answers in by_resolver.items()
        if any(a.addresses for a in answers)
        and all(a.outcome in (DnsOutcome.ANSWER, DnsOutcome.NO_ANSWER) for a in answers)
    }
    if len(set(answered.values())) > 1:
        evidence = [f"{r}: {', '.join(sorted(addrs))}" for r, addrs in answered.items()]
        findings.append(
            finding(
                "dns.mismatch",
                f"{host}: resolvers give different addresses",
                evidence,
                subject=", ".join(answered),
            )
        )

    concerns = {
        a: address_concern(a) for a in observation.addresses if not _is_expected(a, expected)
    }
    suspicious = {a: why for a, why in concerns.items() if why}
    if suspicious:
        givers = {
            a: sorted({ans.resolver for ans in observation.answers if a in ans.addresses})
            for a in suspicious
        }
        evidence = [f"{a}: {why}, from {', '.join(givers[a])}" for a, why in suspicious.items()]
        every = len(suspicious) == len(observation.addresses)
        summary = f"{host} resolves to {', '.join(suspicious)} ({next(iter(suspicious.values()))})"
        findings.append(
            finding(
                "dns.private_address",
                summary,
                evidence,
                severity=Severity.CRIT if every else Severity.WARN,
                subject=", ".join(sorted({r for rs in givers.values() for r in rs})),
            )
        )
    return findings
