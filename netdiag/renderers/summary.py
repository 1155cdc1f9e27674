"""The answer first, for every renderer: the causes in one sentence each, what works, the
host × port matrix, and what the firewall team must change — all from the report's causes."""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.report.messages import (
    catalogue_text_of,
    cause_sentence,
    host_list,
    message,
    port_list,
    severity_name,
    short_name,
    status_name,
    syn_reset_where,
    working_items,
    works_sentences,
)
from netdiag.report.model import (
    ALLOW_CODES,
    EXEMPT_CODES,
    PROXY_CODES,
    SYN_RESET,
    Cause,
    EndpointResult,
    Finding,
    Reach,
    Report,
    Severity,
    Status,
    asks_to_allow,
)
from netdiag.settings.targets import Service, Target

_ALLOW = ALLOW_CODES
_PROXY = PROXY_CODES
_EXEMPT = EXEMPT_CODES


@dataclass(frozen=True, slots=True)
class Cell:
    """One endpoint in the matrix: its state and the short name of its cause."""

    status: Status
    text: str
    cause: int = 0  # the cause's number (1-based); 0 for none

    def shown(self, lang: str) -> str:
        """The cell as read: its state as a word, then the cause — never the colour alone
        (printed in black and white, or for a reader who does not tell red from green)."""
        state = status_name(self.status, lang)
        return self.text if self.text == state else f"{state} {self.text}"


@dataclass(frozen=True, slots=True)
class Matrix:
    hosts: tuple[str, ...]
    ports: tuple[int, ...]
    cells: dict[tuple[str, int], Cell]


def working(report: Report) -> tuple[Target, ...]:
    """The endpoints proven to work."""
    return tuple(e.target for e in report.endpoints if e.reach is Reach.PROVEN)


def answering(report: Report) -> tuple[Target, ...]:
    """The endpoints whose every step was done, with a warning (an unverified chain)."""
    return tuple(e.target for e in report.endpoints if e.reach is Reach.ANSWERS)


def reachable(report: Report) -> tuple[Target, ...]:
    """The endpoints that accepted a connection but whose dialogue did not complete."""
    return tuple(e.target for e in report.endpoints if e.reach is Reach.CONNECTS)


def cause_of(report: Report) -> dict[Target, tuple[int, Cause]]:
    """Each endpoint's first cause (the most severe and widest that affects it)."""
    found: dict[Target, tuple[int, Cause]] = {}
    for number, cause in enumerate(report.causes, start=1):
        for target in cause.affected:
            found.setdefault(target, (number, cause))
    return found


def _cell(endpoint: EndpointResult, causes: dict[Target, tuple[int, Cause]], lang: str) -> Cell:
    if endpoint.target in causes:
        number, cause = causes[endpoint.target]
        likely = "?" if endpoint.target in cause.likely else ""
        return Cell(endpoint.status, f"[{number}] {short_name(cause.code, lang)}{likely}", number)
    if endpoint.status is Status.OK:
        return Cell(endpoint.status, short_name("ok", lang))
    return Cell(endpoint.status, short_name("unknown", lang))


def matrix(report: Report, lang: str) -> Matrix:
    causes = cause_of(report)
    endpoints = [e for e in report.endpoints if e.target.service is not Service.ICMP]
    return Matrix(
        hosts=tuple(dict.fromkeys(e.target.host for e in endpoints)),
        ports=tuple(dict.fromkeys(e.target.port for e in endpoints)),
        cells={(e.target.host, e.target.port): _cell(e, causes, lang) for e in endpoints},
    )


def matrix_table(report: Report, lang: str) -> str:
    grid = matrix(report, lang)

    def shown(cell: Cell | None) -> str:
        if cell is None:
            return ""
        return cell.shown(lang)

    rows = [
        [host] + [shown(grid.cells.get((host, port))) for port in grid.ports] for host in grid.hosts
    ]
    from tabulate import tabulate  # only a text output needs it, not --json

    return tabulate(rows, headers=[message("label.host", lang), *map(str, grid.ports)])


def _beside_the_endpoints(report: Report, lang: str) -> list[tuple[Severity, str]]:
    """Warnings about this machine (its clock, its client certificate), one line each, and
    the gateway's system requirements, all in one line, that no cause states already: a
    clock a year off with every endpoint working is not "nothing to change". English says
    the finding's summary, German the catalogue's title (the summaries are English)."""
    stated = {c.code for c in report.causes}

    def said(found: Finding) -> str:
        return found.summary if lang != "de" else catalogue_text_of(found, lang)[0]

    machine: list[tuple[Severity, str]] = [
        (f.severity, f"{message('text.local', lang)}: {said(f)}")
        for f in report.local_findings
        if f.severity is not Severity.INFO and f.code not in stated
    ]
    host = [
        f
        for f in (report.host.findings if report.host is not None else ())
        if f.severity is not Severity.INFO
    ]
    if host:
        worst = max((f.severity for f in host), key=lambda s: s.status)
        titles = "; ".join(dict.fromkeys(catalogue_text_of(f, lang)[0] for f in host))
        machine.append((worst, f"{message('text.gateway', lang)}: {titles}"))
    return machine


def answer_lines(report: Report, lang: str) -> list[str]:
    """The causes, numbered, one sentence each, most severe first; then the warnings about
    this machine and the gateway; then what works."""
    beside = _beside_the_endpoints(report, lang)
    if (
        not report.causes
        and not beside
        and report.endpoints
        and len(working(report)) == len(report.endpoints)
        and not any(e.is_unverified_only for e in report.endpoints)
    ):
        return [message("all.fine", lang)]
    lines = [
        f"[{n}] {severity_name(c.severity, lang)}: {cause_sentence(c, lang)}"
        for n, c in enumerate(report.causes, start=1)
    ]
    lines += [
        f"[{n}] {severity_name(severity, lang)}: {text}"
        for n, (severity, text) in enumerate(beside, start=len(lines) + 1)
    ]
    if report.endpoints:
        endpoints = [e for e in report.endpoints if e.target.service.value != "icmp"]
        unverified = [e.target for e in endpoints if e.is_unverified_only]
        lines += works_sentences(
            [e.target for e in endpoints if e.reach is Reach.PROVEN and e.target not in unverified],
            unverified,
            [
                e.target
                for e in endpoints
                if e.reach is Reach.ANSWERS and e.target not in unverified
            ],
            [e.target for e in endpoints if e.reach is Reach.CONNECTS],
            lang,
        )
    return lines


def firewall_lines(report: Report, lang: str) -> list[str]:
    """What to change and where, what to exempt, what to keep: each line from a cause."""
    lines = []
    for number, cause in enumerate(report.causes, start=1):
        hosts = host_list([t.host for t in cause.affected], lang)
        ports = port_list(cause.affected, lang)
        if cause.code in _PROXY:
            seen = _addresses(report, cause)
            extra = message("addresses", lang, addresses=seen) if seen else ""
            text = message(
                "fw.allow_direct",
                lang,
                ports=ports,
                hosts=hosts,
                addresses=extra,
                subject=cause.subject,
            )
        elif asks_to_allow(cause.code, cause.detail):
            where = (
                syn_reset_where(cause.subject, lang)
                if cause.detail == SYN_RESET
                else cause.subject or message("fw.where_unknown", lang)
            )
            seen = _addresses(report, cause)
            extra = message("addresses", lang, addresses=seen) if seen else ""
            text = message("fw.allow", lang, where=where, ports=ports, hosts=hosts, addresses=extra)
        elif cause.code in _EXEMPT:
            subject = cause.subject or message("fw.where_unknown", lang)
            text = message("fw.exempt", lang, subject=subject, hosts=hosts, ports=ports)
        elif cause.code.startswith("dns.") and cause.subject:
            text = message("fw.dns", lang, subject=cause.subject, hosts=hosts)
        else:
            continue
        lines.append(f"[{number}] {text}")
    if not lines:
        lines.append(message("fw.nothing", lang))
    ok = working(report) + answering(report)
    if ok:
        lines.append(message("fw.keep", lang, items=working_items(ok, lang)))
    lines.append(message("fw.why", lang))
    return lines


def snippet_lines(report: Report, lang: str) -> list[str]:
    """The fix in the firewall's own language: the chosen or named product's snippet, or
    the offer of every product; nothing when the plan asks for nothing."""
    from netdiag.renderers.firewalls import PRODUCTS, product_named, remedies

    plan = report.remedy_plan
    if not (plan.allow or plan.exempt or plan.smtp_inspection):
        return []
    if not (report.firewall or product_named(plan.product)):
        products = "|".join(p.id for p in PRODUCTS)
        return [message("fw.snippet_offer", lang, products=products)]
    lines = []
    for found in remedies(plan, report.firewall, lang):
        lines += [message("fw.snippet_for", lang, name=found.name), *found.lines]
    return lines


def _addresses(report: Report, cause: Cause) -> str:
    affected = set(cause.affected)
    seen = (t.address for e in report.endpoints if e.target in affected for t in e.tcp)
    return ", ".join(dict.fromkeys(seen))
