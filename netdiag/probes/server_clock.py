"""The servers' clock, where a protocol states it: the `Date` header of an HTTP answer
(RFC 9110 6.6.1, what the 8140 server sends), and a date in an SMTP banner (Exchange,
Sendmail and others greet with one: `220 host ESMTP … ready at Wed, 2 Dec 2026 08:14:03
+0000`). Each is recorded with this machine's time at its arrival, so that the diagnosis
can tell how far the two clocks are apart."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from netdiag.report.observations import ServerClock

# An RFC 5322 date-time, as banners write it (the day name optional).
_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|GMT|UTC|UT|[A-Z]{3})?",
    re.IGNORECASE,
)
_SAID = 120


def _parsed(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" or no zone: UTC by RFC 5322 3.3
        parsed = parsed.replace(tzinfo=UTC)
    if not 1990 <= parsed.year <= 2200:
        return None
    return parsed.astimezone(UTC)


def _clock(source: str, said: str, at: datetime | None, seen_at: datetime) -> ServerClock | None:
    if at is None:
        return None
    return ServerClock(
        source=source,
        said=said[:_SAID],
        server_time=at.isoformat(),
        seen_at=seen_at.astimezone(UTC).isoformat(),
    )


def from_http_date(value: str, seen_at: datetime) -> ServerClock | None:
    """The clock an HTTP `Date` header states; None when it is absent or no date."""
    value = value.strip()
    return _clock("HTTP Date", value, _parsed(value), seen_at) if value else None


def from_banner(text: str, seen_at: datetime) -> ServerClock | None:
    """The clock a date in an SMTP banner states; None when the banner holds none."""
    match = _DATE.search(text)
    return _clock("SMTP banner", text, _parsed(match.group(0)), seen_at) if match else None
