"""The presented certificate chains: PEM files and a text dump of each certificate."""

from __future__ import annotations

import base64
import re

from netdiag.report.model import EndpointResult, Report
from netdiag.report.observations import CertificateFacts


def chain_name(endpoint: EndpointResult) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{endpoint.target.host}_{endpoint.target.port}")


def pem(der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def dump(facts: CertificateFacts, index: int) -> str:
    usages = ", ".join(facts.ext_key_usage) if facts.ext_key_usage is not None else "-"
    self_signed = ", self-signed" if facts.is_self_signed else ""
    return "\n".join(
        [
            f"certificate {index}",
            f"  subject:      {facts.subject}",
            f"  issuer:       {facts.issuer}",
            f"  serial:       {facts.serial}",
            f"  valid:        {facts.not_before} to {facts.not_after}",
            f"  SAN:          {', '.join(facts.san) or '-'}",
            f"  key usage:    {usages}",
            f"  CA:           {'yes' if facts.is_ca else 'no'}{self_signed}",
            f"  SPKI SHA-256: {facts.spki_sha256}",
            f"  SHA-256:      {facts.sha256}",
            "",
        ]
    )


def presented_chains(report: Report) -> dict[str, tuple[str, str]]:
    """name -> (PEM chain, text dump) for every endpoint that presented a chain."""
    chains = {}
    for endpoint in report.endpoints:
        tls = endpoint.protocol.tls if endpoint.protocol is not None else None
        if tls is None or not tls.chain_der:
            continue
        chains[chain_name(endpoint)] = (
            "".join(pem(der) for der in tls.chain_der),
            f"{endpoint.target.label} ({endpoint.target.service.value})\n\n"
            + "\n".join(dump(f, i) for i, f in enumerate(tls.chain)),
        )
    return chains
