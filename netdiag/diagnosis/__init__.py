"""Diagnosis: pure functions from observations (the trust facts, pins and `now` passed in)
to findings and causes; the catalogue of codes. No sockets, no files, no clock of its own.

May import the report, the trust model and the settings; never probes, the session, the
renderers or the command line.
"""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.completeness import never_ok_unless_checked, probe_error
from netdiag.diagnosis.dns import diagnose_dns
from netdiag.diagnosis.protocol import DEFAULT_SLOW_BANNER_S, diagnose_attempts
from netdiag.diagnosis.tcp import diagnose_tcp
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import ClientCertificateObservation, EndpointObservation
from netdiag.settings.targets import Network, Target

__all__ = ["diagnose_endpoint", "diagnose_flapping", "probe_error"]


def diagnose_endpoint(
    target: Target,
    observation: EndpointObservation,
    *,
    expected_networks: Sequence[Network] = (),
    client: ClientCertificateObservation | None = None,
    slow_banner_s: float = DEFAULT_SLOW_BANNER_S,
    interception: Sequence[Finding] = (),
) -> tuple[Finding, ...]:
    """Every finding for one endpoint from what one round saw; never none for an
    endpoint whose probe did not complete (see `never_ok_unless_checked`)."""
    findings: list[Finding] = []
    if observation.dns is not None:
        findings += diagnose_dns(observation.dns, expected_networks)
    findings += diagnose_tcp(target, observation.tcp)
    if observation.attempts:
        findings += diagnose_attempts(
            target,
            observation.attempts,
            client,
            slow_banner_s,
            retried_alone=observation.retried_alone,
        )
    if any(f.severity is Severity.CRIT for f in interception):
        # A chain that is not the vendor's: the handshake's "established" is no good news.
        findings = [f for f in findings if f.code != "tls.established"]
    findings += interception
    return tuple(never_ok_unless_checked(target, observation, findings))


# Codes that say the same of an endpoint across rounds: the mailbox password is sent to one
# server at a time (netdiag.probes.login_gate), so which server is refused and which one is
# spared the password may change from round to round while the mailbox's answer does not.
SAME_ACROSS_ROUNDS = {
    "pop3.login_not_repeated": "pop3.login_failed",
    "pop3.login_unanswered": "pop3.login_failed",
}


# Codes about the run's own load, not the endpoint: which of the vendor's hosts meets the
# server's limit of connections per client among netdiag's parallel sessions is chance.
NOT_THE_ENDPOINTS = frozenset({"smtp.connection_limit"})


def diagnose_flapping(target: Target, rounds: Sequence[Sequence[str]]) -> Finding | None:
    """A finding when the set of codes differs between rounds of a repeated check."""
    distinct = {
        frozenset(SAME_ACROSS_ROUNDS.get(c, c) for c in codes if c not in NOT_THE_ENDPOINTS)
        for codes in rounds
    }
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
