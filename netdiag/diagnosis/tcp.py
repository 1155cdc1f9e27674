"""TCP rules: the connect() outcomes of one endpoint -> findings."""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import IcmpReport, TcpObservation, TcpOutcome
from netdiag.settings.targets import Target

# RFC 792 / RFC 1812 destination-unreachable codes, and RFC 4443 for ICMPv6.
ICMP4_UNREACHABLE = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed and DF set",
    5: "source route failed",
    6: "destination network unknown",
    7: "destination host unknown",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    11: "network unreachable for TOS",
    12: "host unreachable for TOS",
    13: "communication administratively prohibited",
}
ICMP6_UNREACHABLE = {
    0: "no route to destination",
    1: "communication administratively prohibited",
    2: "beyond scope of source address",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed ingress/egress policy",
    6: "reject route to destination",
}
_PROHIBITED = {(4, 3, 9), (4, 3, 10), (4, 3, 13), (6, 1, 1), (6, 1, 5), (6, 1, 6)}


def icmp_meaning(icmp: IcmpReport) -> str:
    if icmp.family == 4 and icmp.type == 3:
        return ICMP4_UNREACHABLE.get(icmp.code, f"unreachable code {icmp.code}")
    if icmp.family == 6 and icmp.type == 1:
        return ICMP6_UNREACHABLE.get(icmp.code, f"unreachable code {icmp.code}")
    if (icmp.family, icmp.type) in ((4, 11), (6, 3)):
        return "time exceeded"
    return f"type {icmp.type} code {icmp.code}"


def is_prohibited(icmp: IcmpReport | None) -> bool:
    return icmp is not None and (icmp.family, icmp.type, icmp.code) in _PROHIBITED


def describe_icmp(icmp: IcmpReport) -> str:
    kind = "ICMPv6" if icmp.family == 6 else "ICMP"
    sender = icmp.sender or "an unknown sender"
    return f"{kind} type {icmp.type} code {icmp.code} ({icmp_meaning(icmp)}) from {sender}"


def describe_connect(obs: TcpObservation) -> str:
    where = f"[{obs.address}]:{obs.port}" if obs.family == 6 else f"{obs.address}:{obs.port}"
    if obs.outcome is TcpOutcome.OPEN:
        return f"connect {where}: open after {obs.elapsed_ms:g} ms"
    if obs.outcome is TcpOutcome.TIMEOUT:
        return f"connect {where}: no answer within {obs.timeout_s:g} s"
    cause = obs.errno_name or obs.outcome.value
    said = f" ({obs.detail})" if obs.detail else ""
    text = f"connect {where}: {cause}{said} after {obs.elapsed_ms:g} ms"
    if obs.icmp is not None:
        text += f"; {describe_icmp(obs.icmp)}"
    return text


def _with_earlier(obs: TcpObservation) -> list[str]:
    return (
        [f"first: {obs.earlier}", describe_connect(obs)] if obs.earlier else [describe_connect(obs)]
    )


def _code_for(obs: TcpObservation) -> str:
    if is_prohibited(obs.icmp):
        return "tcp.prohibited"
    return {
        TcpOutcome.OPEN: "tcp.open",
        TcpOutcome.REFUSED: "tcp.refused",
        TcpOutcome.TIMEOUT: "tcp.filtered",
        TcpOutcome.SKIPPED: "run.incomplete",
    }.get(obs.outcome, "tcp.unreachable")


def _summary(code: str, target: Target, group: Sequence[TcpObservation]) -> str:
    addresses = ", ".join(o.address for o in group)
    first = group[0]
    if code == "tcp.open":
        return f"{target.label} open ({addresses}, {first.elapsed_ms:g} ms)"
    if code == "tcp.refused":
        return f"{target.label} refused with a TCP reset ({addresses})"
    if code == "tcp.prohibited":
        assert first.icmp is not None
        sender = first.icmp.sender or "a router"
        return f"{target.label} administratively prohibited by {sender} ({addresses})"
    if code == "tcp.filtered":
        return (
            f"{target.label} silently dropped: no answer within {first.timeout_s:g} s ({addresses})"
        )
    if code == "run.incomplete":
        return f"{target.label} not probed: {first.detail}"
    reason = icmp_meaning(first.icmp) if first.icmp else first.errno_name or first.detail
    return f"{target.label} unreachable: {reason or 'no ICMP and no error code'} ({addresses})"


def diagnose_tcp(target: Target, observations: Sequence[TcpObservation]) -> list[Finding]:
    """One finding per kind of outcome; failures are critical unless some address is open."""
    groups: dict[str, list[TcpObservation]] = {}
    for obs in observations:
        groups.setdefault(_code_for(obs), []).append(obs)
    any_open = "tcp.open" in groups
    findings = []
    for code, group in groups.items():
        severity = Severity.WARN if any_open and code != "tcp.open" else None
        findings.append(
            finding(
                code,
                _summary(code, target, group),
                [line for o in group for line in _with_earlier(o)],
                severity=severity,
                subject=next((o.icmp.sender for o in group if o.icmp and o.icmp.sender), ""),
            )
        )
    recovered = [o for o in observations if o.earlier and o.outcome is TcpOutcome.OPEN]
    if recovered:
        findings.append(
            finding(
                "endpoint.intermittent",
                f"{target.label}: the first connect was refused, the one retry was accepted",
                [line for o in recovered for line in _with_earlier(o)],
            )
        )
    return findings
