"""Diagnosis: pure functions from observations (and pins, and `now`) to findings."""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.dns import diagnose_dns
from netdiag.diagnosis.protocol import DEFAULT_SLOW_BANNER_S, diagnose_protocol
from netdiag.diagnosis.tcp import diagnose_tcp
from netdiag.observations import (
    ClientCertificateObservation,
    DnsObservation,
    ProtocolObservation,
    TcpObservation,
)
from netdiag.report import Finding
from netdiag.targets import Network, Target


def diagnose_endpoint(
    target: Target,
    dns: DnsObservation | None,
    tcp: Sequence[TcpObservation],
    protocol: ProtocolObservation | None = None,
    *,
    expected_networks: Sequence[Network] = (),
    client: ClientCertificateObservation | None = None,
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S,
) -> tuple[Finding, ...]:
    """Every finding for one endpoint from what one round saw."""
    findings: list[Finding] = []
    if dns is not None:
        findings += diagnose_dns(dns, expected_networks)
    findings += diagnose_tcp(target, tcp)
    if protocol is not None:
        findings += diagnose_protocol(target, protocol, client, slow_banner_s)
    return tuple(findings)


def diagnose_flapping(target: Target, rounds: Sequence[Sequence[str]]) -> Finding | None:
    """A finding when the set of codes differs between rounds of a repeated check."""
    distinct = {frozenset(codes) for codes in rounds}
    if len(distinct) <= 1:
        return None
    evidence = [
        f"round {n}: {', '.join(sorted(set(codes))) or 'no finding'}"
        for n, codes in enumerate(rounds, start=1)
    ]
    return finding(
        "endpoint.flapping",
        f"{target.label}: the result changed in {len(distinct)} ways over {len(rounds)} rounds",
        evidence,
    )
