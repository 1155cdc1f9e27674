"""Proxy rules: an endpoint whose direct path is blocked, against the web proxies this
machine is configured with. SMTP and POP3 clients — the gateway's mail software among them
— do not use web proxies, and proxies refuse `CONNECT` to ports other than 443 by default
(squid's `http_access deny CONNECT !SSL_ports`): whatever the proxy answers, the gateway
needs a direct rule, and the finding says so with the proxy's answer quoted."""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.dialogue import transcript_tail
from netdiag.report.model import Finding
from netdiag.report.observations import ProxyAttempt, ProxyOutcome
from netdiag.settings.targets import Target


def describe_attempt(attempt: ProxyAttempt) -> list[str]:
    """Evidence lines for one CONNECT through a proxy."""
    proxy = attempt.proxy
    lines = [f"proxy {proxy.label} (from {proxy.source}; credentials configured: "
             f"{'yes, not sent' if proxy.has_credentials else 'no'})"]  # fmt: skip
    if attempt.outcome is ProxyOutcome.ANSWERED:
        lines.append(f"CONNECT answered in {attempt.elapsed_ms:g} ms: {attempt.status_line}")
    else:
        lines.append(f"CONNECT not answered ({attempt.outcome.value}): {attempt.detail}")
    tunnel = attempt.through_tunnel
    if tunnel is not None:
        done = (
            "completed"
            if tunnel.stopped_at.value == "done"
            else "stopped at "
            + (f"{tunnel.stopped_at.value} ({tunnel.failure_detail or tunnel.failure.value})")
        )
        lines.append(f"the {tunnel.service} dialogue through the tunnel {done}")
        lines += ["  " + line for line in transcript_tail(tunnel, 6)]
    return lines


def diagnose_proxy(
    target: Target, attempts: Sequence[ProxyAttempt], *, is_everything_blocked: bool
) -> list[Finding]:
    """One finding per proxy tried for the endpoint (see the module's description)."""
    findings = []
    for attempt in attempts:
        proxy = attempt.proxy.label
        evidence = describe_attempt(attempt)
        if attempt.outcome is not ProxyOutcome.ANSWERED:
            detail = attempt.outcome.value
            summary = f"{target.label}: the configured web proxy {proxy} does not answer ({detail})"
            findings.append(
                finding("proxy.unreachable", summary, evidence, subject=proxy, detail=detail)
            )
            continue
        # The proxy's words after the version ("403 Forbidden"); a line without them, its
        # status code.
        status = attempt.status_line.partition(" ")[2] or str(attempt.status)
        if is_everything_blocked:
            code = "proxy.only_way_out"
            summary = (
                f"{target.label}: only the web proxy {proxy} goes out; it answers CONNECT with "
                f"{status!r}; the mail traffic needs a direct rule"
            )
        elif attempt.status == 200:
            code = "proxy.connect_allowed"
            summary = (
                f"{target.label}: blocked directly; the web proxy {proxy} tunnels it ({status!r}), "
                "but the mail software does not use web proxies: a direct rule is needed"
            )
        elif attempt.status == 407:
            code = "proxy.auth_required"
            summary = (
                f"{target.label}: blocked directly; the web proxy {proxy} wants authentication "
                f"({status!r}): a direct rule is needed"
            )
        else:
            code = "proxy.connect_refused"
            summary = (
                f"{target.label}: blocked directly; the web proxy {proxy} refuses CONNECT "
                f"({status!r}): a direct rule is needed"
            )
        findings.append(finding(code, summary, evidence, subject=proxy, detail=status))
    return findings
