"""Two clocks: this machine's and the servers' where a protocol states it (the 8140
server's HTTP `Date`, a date in an SMTP banner). Isolated gateways often have no time
source; a clock far off makes the gateway's own mail software reject every certificate,
while a verdict by this machine's clock alone would blame the vendor. Pure: the
observations and this machine's `now` are passed in."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.observations import EndpointObservation, ServerClock
from netdiag.settings.targets import Target

# How far the clocks may be apart before it is worth a finding: Kerberos' tolerance, and
# well above a Date header's one-second resolution and the network's delay.
TOLERANCE_S = 300.0


def stated_clocks(
    observations: Mapping[Target, EndpointObservation],
) -> list[tuple[Target, ServerClock]]:
    """Every server clock the round's dialogues recorded, with the endpoint that said it."""
    return [
        (target, attempt.server_clock)
        for target, observation in observations.items()
        for attempt in observation.attempts
        if attempt.server_clock is not None
    ]


def offset_of(clocks: Sequence[tuple[Target, ServerClock]]) -> float | None:
    """How far this machine's clock is ahead of the servers' (negative: behind), the median
    of what every server said (one server with a wrong clock of its own does not decide);
    None where no server stated its time."""
    if not clocks:
        return None
    return float(statistics.median(clock.offset_s for _, clock in clocks))


def servers_now(now: datetime, offset_s: float | None) -> datetime | None:
    """The servers' time at this machine's `now`, where it is known."""
    return None if offset_s is None else now - timedelta(seconds=offset_s)


def describe_offset(offset_s: float) -> str:
    """`3 d 4 h 5 min ahead` / `12 min behind`, for evidence lines."""
    seconds = abs(round(offset_s))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts += [f"{minutes} min" if minutes else "", f"{seconds} s" if seconds and not days else ""]
    said = " ".join(p for p in parts if p) or "0 s"
    return f"{said} {'ahead of' if offset_s > 0 else 'behind'}"


def _evidence(clocks: Sequence[tuple[Target, ServerClock]], offset_s: float) -> list[str]:
    lines = [
        f"{clock.source} of {target.label}: {clock.said!r} — the server's time "
        f"{clock.server_time}, this machine's {clock.seen_at} ({describe_offset(clock.offset_s)} "
        "the server)"
        for target, clock in clocks[:8]
    ]
    lines.append(
        f"this machine's clock is {describe_offset(offset_s)} the servers' (the median of "
        f"{len(clocks)} statement(s))"
    )
    return lines


def _source(clocks: Sequence[tuple[Target, ServerClock]]) -> str:
    target, clock = clocks[0]
    more = f" and {len(clocks) - 1} more" if len(clocks) > 1 else ""
    return f"{clock.source} of {target.label}{more}"


def clock_breaks(
    target: Target, clocks: Sequence[tuple[Target, ServerClock]], offset_s: float, what: str
) -> Finding:
    """The clock as this endpoint's cause: `what` is valid by the servers' time and not by
    this machine's, so the gateway's software (which verifies with this clock) rejects it."""
    return finding(
        "clock.offset",
        f"{target.label}: {what} is valid by the servers' clock but not by this machine's, "
        f"which is {describe_offset(offset_s)} the servers': the gateway's software rejects "
        "it",
        [*_evidence(clocks, offset_s), f"{what}: valid by the servers' time only"],
        severity=Severity.CRIT,
        subject=_source(clocks),
        # Whole seconds: what the sentence says, and what splits causes.
        offset_s=round(offset_s),
    )


def diagnose_clock(
    clocks: Sequence[tuple[Target, ServerClock]], *, is_breaking: bool
) -> list[Finding]:
    """This machine's clock against the servers': a warning when it is off by more than the
    tolerance and breaks nothing yet (the endpoints whose certificates it breaks carry the
    cause themselves)."""
    offset = offset_of(clocks)
    if offset is None or abs(offset) <= TOLERANCE_S or is_breaking:
        return []
    witnesses = list(dict.fromkeys(target.host for target, _ in clocks))
    if len(witnesses) > 1:
        summary = (
            f"this machine's clock is {describe_offset(offset)} the servers' time: "
            "certificates are judged by a wrong clock"
        )
    else:
        # One server's word against this machine's: either clock may be the one off.
        summary = (
            f"this machine's clock is {describe_offset(offset)} the time {witnesses[0]} "
            "states, the only server that states one: certificates are judged by a wrong "
            "clock, unless that server's is the one off (check this machine's time source "
            "first)"
        )
    return [
        finding(
            "clock.offset",
            summary,
            _evidence(clocks, offset),
            subject=_source(clocks),
            offset_s=round(offset),
        )
    ]
