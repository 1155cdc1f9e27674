"""The web proxies, for the endpoints whose direct path is blocked: one `CONNECT host:port`
through each configured proxy (never to a host the proxy is configured to bypass, never
with credentials), and on 200 the endpoint's protocol through the tunnel — proof that the
path exists even though the mail software cannot use it. All at once, bounded by a few
step timeouts."""

from __future__ import annotations

import dataclasses
from functools import partial

from netdiag.diagnosis.proxy import diagnose_proxy
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import Connected
from netdiag.probes.proxies import connect_through, is_bypassed
from netdiag.report.model import EndpointResult, Report
from netdiag.report.observations import ConfiguredProxy, ProxyAttempt, ProxySettings, TcpOutcome
from netdiag.session.config import CheckConfig
from netdiag.session.endpoint import Pacing, converse
from netdiag.session.scheduler import run_all
from netdiag.settings.targets import Service

# Per endpoint: the CONNECT (a connect and the answer) and the dialogue through the tunnel.
STEPS_PER_ENDPOINT = 4
MAX_PARALLEL = 16


def is_blocked_directly(endpoint: EndpointResult) -> bool:
    """Checked to the end, and no address of it accepted a connection (or none resolved)."""
    if not endpoint.was_completed or endpoint.target.service is Service.ICMP:
        return False
    if any(t.outcome is TcpOutcome.OPEN for t in endpoint.tcp):
        return False
    return not any(t.outcome is TcpOutcome.SKIPPED for t in endpoint.tcp)


def proxy_report(
    report: Report,
    settings: ProxySettings,
    config: CheckConfig,
    flows: FlowLog | None = None,
) -> Report:
    """`report` with the proxies recorded and, for each endpoint blocked directly, what the
    proxies answered and what that means."""
    report = dataclasses.replace(report, proxies=settings)
    proxies = list({p.label: p for p in settings.proxies}.values())
    blocked = [e for e in report.endpoints if is_blocked_directly(e)]
    if not proxies or not blocked:
        return report
    is_everything_blocked = len(blocked) == len(
        [e for e in report.endpoints if e.target.service is not Service.ICMP]
    )
    budget = STEPS_PER_ENDPOINT * config.timeout_s + 1
    deadline = Deadline.after(budget)
    tasks = [partial(_attempts, e, proxies, config, deadline, flows) for e in blocked]
    outcome = run_all(tasks, limit=MAX_PARALLEL, deadline=deadline)
    tried = {
        id(e): attempts for e, attempts in zip(blocked, outcome.results, strict=True) if attempts
    }
    endpoints = []
    for endpoint in report.endpoints:
        attempts = tried.get(id(endpoint))
        if attempts:
            findings = diagnose_proxy(
                endpoint.target, attempts, is_everything_blocked=is_everything_blocked
            )
            endpoint = dataclasses.replace(
                endpoint,
                findings=(*endpoint.findings, *findings),
                proxy_attempts=attempts,
            )
        endpoints.append(endpoint)
    return dataclasses.replace(report, endpoints=tuple(endpoints))


def _attempts(
    endpoint: EndpointResult,
    proxies: list[ConfiguredProxy],
    config: CheckConfig,
    deadline: Deadline,
    flows: FlowLog | None,
) -> tuple[ProxyAttempt, ...]:
    target = endpoint.target
    attempts = []
    for proxy in proxies:
        resolved = endpoint.tcp[0].address if endpoint.tcp else ""
        if is_bypassed(target.host, proxy.bypass, resolved):
            continue
        attempt, tunnel = connect_through(
            proxy, target.host, target.port, deadline.step(config.timeout_s), flows
        )
        if tunnel is not None:
            try:
                if target.service is not Service.TCP:
                    connected = Connected(tunnel, attempt.elapsed_ms / 1000)
                    dialogue = converse(
                        config, target, target.host, Pacing(deadline, 0.0, flows), connected
                    )
                    attempt = dataclasses.replace(attempt, through_tunnel=dialogue)
            finally:
                tunnel.close()
        attempts.append(attempt)
    return tuple(attempts)
