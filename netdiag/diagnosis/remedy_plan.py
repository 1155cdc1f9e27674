"""What the firewall must change, from the causes: which of the vendor's host names and
ports need a rule, which an inspection exemption, which TLS through the SMTP inspection,
and which names did not resolve (a DNS matter, no rule). Pure: causes in, a plan out."""

from __future__ import annotations

from collections.abc import Sequence

from netdiag.report.model import (
    EXEMPT_CODES,
    PROXY_CODES,
    SMTP_INSPECTION_CODES,
    Cause,
    RemedyPlan,
    asks_to_allow,
)

EXEMPT = EXEMPT_CODES
SMTP_INSPECTION = SMTP_INSPECTION_CODES


def plan_remedies(causes: Sequence[Cause]) -> RemedyPlan:
    """The plan for `causes` (each host and port once, in the causes' order)."""
    allow: dict[tuple[str, int], None] = {}
    exempt: dict[tuple[str, int], None] = {}
    smtp: dict[tuple[str, int], None] = {}
    dns: dict[str, None] = {}
    product = ""
    for cause in causes:
        places = [(t.host, t.port) for t in cause.affected if not t.is_address_literal]
        places += [(t.host, t.port) for t in cause.affected if t.is_address_literal]
        if cause.code in PROXY_CODES or asks_to_allow(cause.code, cause.detail):
            allow.update(dict.fromkeys(places))
        elif cause.code in EXEMPT:
            exempt.update(dict.fromkeys(places))
            if cause.code == "tls.intercepted" and not product:
                product = cause.subject
        elif cause.code in SMTP_INSPECTION:
            smtp.update(dict.fromkeys(places))
            if cause.code == "smtp.starttls_masked" and not product:
                # `250 XXXXXXXA` is what Cisco's ESMTP inspection writes.
                product = "Cisco"
        elif cause.code.startswith("dns."):
            dns.update(dict.fromkeys(t.host for t in cause.affected))
    return RemedyPlan(
        allow=tuple(allow),
        exempt=tuple(exempt),
        smtp_inspection=tuple(smtp),
        dns=tuple(dns),
        product=product,
    )
