"""Causes: the findings of all endpoints grouped into the problems behind them.

The same code with the same decisive evidence (the finding's `subject`: the dropping hop,
the ICMP sender, the inspection product or CA, the failing resolver) is one cause with the
endpoints it affects. On one endpoint, a finding that explains the others (an interception,
a forged reset) stands for them, and a trace's verdict stands for the connect() failure it
locates. Findings inferred from other endpoints (likely the same device) attach to the
cause proven elsewhere. Causes are ordered by severity, then by how many endpoints they
affect.
"""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.interception import exemption_remedy, local_remedy
from netdiag.diagnosis.place import local_process_remedy
from netdiag.report.model import Cause, DevicePlace, EndpointResult, Finding, Severity
from netdiag.settings.targets import Target
from netdiag.trust.products import product_named

# The connect() verdicts a trace of the same endpoint locates.
_LOCATED_BY_TRACE = frozenset({"tcp.filtered", "tcp.refused", "tcp.prohibited", "tcp.unreachable"})
_TRACE_VERDICTS = frozenset(
    {
        "trace.dropped_after_hop",
        "trace.rejected_at_hop",
        "trace.forged_reset",
        "trace.reset_suspect",
        "trace.transparent_proxy",
    }
)
_RANK = {Severity.CRIT: 0, Severity.WARN: 1, Severity.INFO: 2}
# What makes findings one cause: the code, the decisive evidence, what splits it further.
_Key = tuple[str, str, str, DevicePlace | None, float | None]


def deciding_findings(endpoint: EndpointResult) -> list[Finding]:
    """The findings of an endpoint that are a problem of their own."""
    problems = [f for f in endpoint.findings if f.severity is not Severity.INFO]
    if any(f.place is not None for f in problems):
        # The device the place measurement put at its hop (an interceptor, an SMTP proxy, a
        # web proxy answering in HTTP) is the one whose SYN/ACK the trace saw: one cause,
        # the one that says what it does.
        problems = [f for f in problems if f.code != "trace.transparent_proxy" or f.place]
    explaining = [f for f in problems if f.explains_others]
    if explaining:
        return explaining
    if any(f.code in _TRACE_VERDICTS for f in problems):
        return [f for f in problems if f.code not in _LOCATED_BY_TRACE]
    return problems


def find_causes(endpoints: Sequence[EndpointResult]) -> tuple[Cause, ...]:
    proven: dict[_Key, list[tuple[Target, Finding]]] = {}
    inferred: list[tuple[Target, Finding]] = []
    for endpoint in endpoints:
        for found in deciding_findings(endpoint):
            if found.is_inferred:
                inferred.append((endpoint.target, found))
            else:
                key: _Key = (found.code, found.subject, found.detail, found.place, found.offset_s)
                proven.setdefault(key, []).append((endpoint.target, found))
    likely: dict[_Key, list[Target]] = {}
    for target, found in inferred:
        key = (found.code, found.subject, found.detail, found.place, found.offset_s)
        if key not in proven:
            # The same cause proven with a detail the inference cannot know (the measured
            # place of an interception): it is still that cause.
            key = next((k for k in proven if k[:2] == key[:2]), key)
        if key in proven:
            likely.setdefault(key, []).append(target)
        else:  # nothing proven to attach to: it stands as its own cause
            proven.setdefault(key, []).append((target, found))
    causes = [_cause(members, likely.get(key, [])) for key, members in proven.items()]
    causes.sort(key=lambda c: (_RANK[c.severity], -len(c.affected)))
    return tuple(causes)


def _cause(members: list[tuple[Target, Finding]], likely: list[Target]) -> Cause:
    first = members[0][1]
    severity = min((f.severity for _, f in members), key=lambda s: _RANK[s])
    endpoints = tuple(dict.fromkeys(t for t, _ in members))
    remedy = first.remedy
    if first.code == "tls.intercepted" and first.has_own_remedy:
        # The destinations to exempt are exactly the cause's: those proven and those it
        # most likely explains, no other endpoint of the run.
        affected = tuple(dict.fromkeys((*endpoints, *likely)))
        remedy = exemption_remedy([f"{t.label} ({t.service.value})" for t in affected])
    if first.has_own_remedy and first.code in (
        "tls.intercepted_locally",
        "smtp.starttls_stripped_locally",
    ):
        product = product_named(first.subject)
        affected = tuple(dict.fromkeys((*endpoints, *likely)))
        exempt = [f"{t.label} ({t.service.value})" for t in affected]
        # A product the catalogue knows: its own exclusion; a process found holding the
        # other end of the connection (netdiag.diagnosis.place): its exclusion, or stop it.
        if product is not None:
            remedy = local_remedy(product, exempt)
        else:
            remedy = local_process_remedy(first.subject, exempt)
    return Cause(
        code=first.code,
        severity=severity,
        subject=first.subject,
        detail=first.detail,
        place=first.place,
        offset_s=first.offset_s,
        endpoints=endpoints,
        likely=tuple(dict.fromkeys(likely)),
        title=first.title,
        summary=first.summary,
        # Evidence once, from the first endpoint: the others show the same.
        evidence=first.evidence,
        remedy=remedy,
        has_own_remedy=first.has_own_remedy,
    )
