"""Findings, endpoint results and the report: what renderers present and exit codes follow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from netdiag.report.observations import (
    ClientCertificateObservation,
    DnsObservation,
    ExperimentResult,
    PlaceObservation,
    ProtocolObservation,
    ProxyAttempt,
    ProxySettings,
    TcpObservation,
    TlsPortObservation,
)
from netdiag.settings.targets import Target

if TYPE_CHECKING:
    # Only a trace or a host check fills these: a plain check does not define them.
    from netdiag.report.host_observations import HostObservation
    from netdiag.report.trace_observations import CutSender, MtuObservation, TraceObservation


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    CRIT = "crit"

    @property
    def status(self) -> Status:
        return {Severity.INFO: Status.OK, Severity.WARN: Status.WARN}.get(self, Status.CRIT)


class Status(IntEnum):
    """Nagios states; the value is the exit code."""

    OK = 0
    WARN = 1
    CRIT = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe state; UNKNOWN (could not check) outranks CRIT as in Nagios."""
    return max(statuses, default=Status.OK)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevicePlace:
    """Where on the path a device answers in the server's name: its hop (1: this gateway's
    router or firewall), and its address where a trace to a clean port of the same server
    named that hop ("" otherwise)."""

    hop: int
    address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A verdict from the catalogue with the evidence that proves it and what to do."""

    code: str
    severity: Severity
    summary: str
    evidence: tuple[str, ...] = ()
    remedy: str = ""
    # The catalogue's title of the code, and whether the remedy was made for this run
    # (the destinations to exempt) rather than taken from the catalogue.
    title: str = ""
    has_own_remedy: bool = False
    explains_others: bool = False
    # The decisive evidence that makes findings of several endpoints one cause: the hop or
    # ICMP sender, the inspection CA or product, the resolver ("" when there is none).
    subject: str = ""
    # Not proven on this endpoint but inferred from others (likely the same device).
    is_inferred: bool = False
    # A measured qualifier of the subject that splits causes too (a proxy's answer).
    detail: str = ""
    # An interception's device, placed on the path before the server
    # (`netdiag.diagnosis.place`); it splits causes too.
    place: DevicePlace | None = None
    # How far this machine's clock is from the servers' (`clock.offset`), in seconds.
    offset_s: float | None = None


class Reach(StrEnum):
    """How far an endpoint got, for saying what works: proven to work, answering (every
    step done) with a warning, reachable (a connection, but a step failed or something
    critical stands), or nothing at all."""

    PROVEN = "proven"
    ANSWERS = "answers"
    CONNECTS = "connects"
    NOTHING = "nothing"


# The finding that says only that a chain was not compared with the vendor's CA.
UNVERIFIED = "tls.unpinned"


@dataclass(frozen=True, slots=True)
class Note:
    """A remark about the run that is not a finding (which pin files were used, what could
    not be read, what does not apply here): the key of a template in `netdiag.report.messages`
    ("note.<key>") and its fields, so that every language says it in its own words."""

    key: str
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, key: str, **fields: object) -> Note:
        return cls(key, tuple((name, str(value)) for name, value in fields.items()))

    @classmethod
    def bilingual(cls, key: str, **fields: tuple[str, str]) -> Note:
        """A note whose fields were said in both languages where they arose (an error's
        English and German line): `name` and `name@de`."""
        pairs = [(name, en) for name, (en, _) in fields.items()]
        pairs += [(f"{name}@de", de) for name, (_, de) in fields.items()]
        return cls(key, tuple(pairs))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointResult:
    """One endpoint after diagnosis: what was seen and what it means."""

    target: Target
    findings: tuple[Finding, ...]
    dns: DnsObservation | None = None
    tcp: tuple[TcpObservation, ...] = ()
    protocol: ProtocolObservation | None = None
    attempts: tuple[ProtocolObservation, ...] = ()
    trace: TraceObservation | None = None
    control_trace: TraceObservation | None = None
    mtu: MtuObservation | None = None
    # Who cut its every hello, read from the packets (`--trace`; `netdiag.probes.cut_sender`).
    cut_sender: CutSender | None = None
    # The hop tables of `trace` and `control_trace` as lines, made by the diagnosis.
    trace_lines: tuple[str, ...] = ()
    control_trace_lines: tuple[str, ...] = ()
    # The MTU probe's sizes and outcomes as lines, made by the diagnosis.
    mtu_lines: tuple[str, ...] = ()
    # CONNECTs through the configured web proxies, tried when the direct path failed.
    proxy_attempts: tuple[ProxyAttempt, ...] = ()
    # The experiments a failed handshake called for (`netdiag.diagnosis.hypotheses`).
    experiments: tuple[ExperimentResult, ...] = ()
    # Where its interception takes place (`netdiag.diagnosis.place`).
    place: PlaceObservation | None = None
    # A TLS hello sent at once on an SMTP port that sent no banner (see EndpointObservation).
    hello_at_once: ProtocolObservation | None = None
    # The last of `attempts` was made after the round, alone (see EndpointObservation).
    retried_alone: bool = False
    was_completed: bool = True
    rounds: tuple[tuple[str, ...], ...] = ()

    @property
    def status(self) -> Status:
        if not self.was_completed:
            return Status.UNKNOWN
        return worst(f.severity.status for f in self.findings)

    @property
    def reach(self) -> Reach:
        """How far the endpoint got (see `Reach`)."""
        if self.was_completed and self.status is Status.OK:
            return Reach.PROVEN
        is_done = self.was_completed and (
            self.target.service.value in ("tcp", "icmp")
            or (self.protocol is not None and self.protocol.stopped_at.value == "done")
        )
        if is_done and self.status is Status.WARN:
            return Reach.ANSWERS
        if any(t.outcome.value == "open" for t in self.tcp):
            return Reach.CONNECTS
        return Reach.NOTHING

    @property
    def is_unverified_only(self) -> bool:
        """Every step done, and its only reservation is that the chain was not verified."""
        if self.reach not in (Reach.PROVEN, Reach.ANSWERS):
            return False
        if not any(f.code == UNVERIFIED for f in self.findings):
            return False
        return all(f.severity is Severity.INFO or f.code == UNVERIFIED for f in self.findings)

    @property
    def headline(self) -> Finding | None:
        """The finding to show first: the most severe, then the first found."""
        order = {Severity.CRIT: 0, Severity.WARN: 1, Severity.INFO: 2}
        # Findings that explain the others come first (an interception explains the missing
        # certificate request and the closed session); then, among problems, the first
        # found is the cause (DNS before TCP before TLS); among good news the last is the
        # deepest layer that worked.
        ranked = sorted(
            enumerate(self.findings),
            key=lambda item: (
                order[item[1].severity],
                not item[1].explains_others,
                -item[0] if item[1].severity is Severity.INFO else item[0],
            ),
        )
        return ranked[0][1] if ranked else None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostResult:
    """The gateway itself against the vendor's requirements (`netdiag host`)."""

    observation: HostObservation
    findings: tuple[Finding, ...]
    notes: tuple[Note, ...] = ()

    @property
    def status(self) -> Status:
        return worst(f.severity.status for f in self.findings)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStats:
    """One pcap of the run: how many of netdiag's own packets it kept, and how many packets
    of other processes the capture saw and dropped."""

    path: str
    kept: int
    dropped: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """Findings of one code with the same decisive evidence, on every endpoint they affect:
    one problem, said once. `likely` are endpoints whose failure this cause most likely
    explains without proof of their own."""

    code: str
    severity: Severity
    subject: str
    endpoints: tuple[Target, ...]
    detail: str = ""
    place: DevicePlace | None = None
    offset_s: float | None = None
    likely: tuple[Target, ...] = ()
    title: str = ""
    summary: str = ""
    evidence: tuple[str, ...] = ()
    remedy: str = ""
    has_own_remedy: bool = False

    @property
    def affected(self) -> tuple[Target, ...]:
        return self.endpoints + self.likely


# What each cause asks of the firewall team, by code: a rule that lets the port through
# (`ALLOW_CODES`; `PROXY_CODES` say the rule must be direct, not through the web proxy), an
# exemption from TLS inspection (`EXEMPT_CODES`), STARTTLS through the SMTP inspection.
ALLOW_CODES = frozenset(
    {
        "trace.dropped_after_hop",
        "trace.rejected_at_hop",
        "trace.reset_suspect",
        "tcp.filtered",
        "tcp.refused",
        "tcp.prohibited",
        "tcp.unreachable",
    }
)
PROXY_CODES = frozenset(
    {"proxy.only_way_out", "proxy.connect_refused", "proxy.auth_required", "proxy.connect_allowed"}
)
EXEMPT_CODES = frozenset({"tls.intercepted", "trace.transparent_proxy", "trace.forged_reset"})
# The `detail` of a forged reset that the hop-limited connects found (every SYN reset short
# of the server): a firewall rule that rejects the port, which is allowed, not exempted.
SYN_RESET = "syn"


def asks_to_allow(code: str, detail: str) -> bool:
    """Whether a cause of `code` (with `detail`) asks for a rule that lets the port through
    (else, for `EXEMPT_CODES`, an exemption from inspection)."""
    return code in ALLOW_CODES or (code == "trace.forged_reset" and detail == SYN_RESET)


SMTP_INSPECTION_CODES = frozenset(
    {"smtp.starttls_missing", "smtp.starttls_masked", "smtp.banner_masked"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemedyPlan:
    """What the firewall must change, from the causes, by host name and port: a rule for
    each of `allow`, an inspection exemption for each of `exempt`, TLS allowed through the
    SMTP inspection for each of `smtp_inspection`; `dns` are names that did not resolve
    (no rule can help them: a remark instead). `product` is the inspecting product the
    evidence named ("" when none)."""

    allow: tuple[tuple[str, int], ...] = ()
    exempt: tuple[tuple[str, int], ...] = ()
    smtp_inspection: tuple[tuple[str, int], ...] = ()
    dns: tuple[str, ...] = ()
    product: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.allow or self.exempt or self.smtp_inspection or self.dns)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A finished run."""

    started: datetime
    duration_s: float
    endpoints: tuple[EndpointResult, ...]
    profile: str = ""
    was_interrupted: bool = False
    notes: tuple[Note, ...] = field(default=())
    client_certificate: ClientCertificateObservation | None = None
    local_findings: tuple[Finding, ...] = ()
    captures: tuple[str, ...] = ()
    capture_stats: tuple[CaptureStats, ...] = ()
    host: HostResult | None = None
    # The findings grouped into causes, most severe and widest first (see diagnosis.causes).
    causes: tuple[Cause, ...] = ()
    # The web proxies this machine is configured with (None when not looked for).
    proxies: ProxySettings | None = None
    # What the firewall must change (from the causes), and the firewall product whose
    # configuration snippets to show ("" for none chosen: every product is offered).
    remedy_plan: RemedyPlan = RemedyPlan()
    firewall: str = ""

    @property
    def server_date(self) -> str:
        """The first Date header a TLS-port server sent (to compare the gateway's clock)."""
        dates = (
            e.protocol.server_date
            for e in self.endpoints
            if isinstance(e.protocol, TlsPortObservation)
        )
        return next((date for date in dates if date), "")

    @property
    def status(self) -> Status:
        local = [f.severity.status for f in self.local_findings]
        if self.host is not None:
            local.append(self.host.status)
        return worst([*local, *(e.status for e in self.endpoints)])
