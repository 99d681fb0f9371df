"""Busy calendars: a coach's other calendar (a secret iCal address) read into busy intervals.

Fetched through the guarded client (common/outbound.py), parsed with ``icalendar`` and
expanded with ``recurring-ical-events``; free and cancelled events skipped, all-day events
block the coach's local days, floating times read in the coach's zone. coaching/services.py
replaces the calendar's BusyBlocks with the result. The address is never logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.conf import settings
from icalendar import Calendar

from coaching.availability import local_day_bounds, wall_time_to_utc
from common import outbound
from common.outbound import Fetched, OutboundError, display_url

__all__ = ["BusyCalendarError", "Fetched", "busy_intervals", "check_address", "display_url", "fetch"]

# One error type for a calendar that cannot be used or read: its message is safe to show.
BusyCalendarError = OutboundError

MAX_BLOCKS = 10_000
WHAT = "calendar"


def normalize_url(raw: str) -> str:
    """Trim, and read ``webcal://`` (what iCloud and others hand out) as ``https://``."""
    url = raw.strip()
    lowered = url.lower()
    for prefix in ("webcals://", "webcal://"):
        if lowered.startswith(prefix):
            return "https://" + url[len(prefix) :]
    return url


def check_address(raw: str) -> str:
    """The normalized address if it can be used (scheme, host, public addresses), else BusyCalendarError."""
    url = normalize_url(raw)
    _, host, port = outbound.check_url(url, what=WHAT)
    outbound.resolve(host, port, what=WHAT, allow_loopback=settings.BUSY_CALENDAR_ALLOW_LOOPBACK)
    return url


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET a calendar address under the limits in settings (read at call time)."""
    return outbound.fetch(
        url,
        what=WHAT,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        max_bytes=settings.BUSY_CALENDAR_MAX_BYTES,
        allow_loopback=settings.BUSY_CALENDAR_ALLOW_LOOPBACK,
        headers={
            "User-Agent": f"{settings.SITE_NAME} busy-time sync (+{settings.SITE_URL})",
            "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1",
        },
        etag=etag,
        last_modified=last_modified,
    )


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC for a DTSTART/DTEND value: floating times and dates are read in the coach's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return wall_time_to_utc(zone, value.date(), value.time())
        return value.astimezone(UTC)
    return local_day_bounds(zone, value)[0]


def _occurrence_bounds(
    raw_start: date | datetime, raw_end: date | datetime, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    if isinstance(raw_start, datetime):
        return _instant(raw_start, zone), _instant(raw_end, zone)
    # All-day: whole days where the coach lives; DTEND is the first day after.
    first_day = raw_start
    after_last = raw_end.date() if isinstance(raw_end, datetime) else raw_end
    if after_last <= first_day:
        after_last = first_day + timedelta(days=1)
    return local_day_bounds(zone, first_day)[0], local_day_bounds(zone, after_last)[0]


def busy_intervals(
    data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy time in [start, end) from iCalendar data: merged, sorted, aware UTC."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        raise BusyCalendarError(
            "This address did not return a calendar. Use the calendar's secret address in iCal format."
        )
    try:
        calendar = Calendar.from_ical(stripped)
    except Exception as exc:  # icalendar raises ValueError and others for broken data
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.") from exc
    if not isinstance(calendar, Calendar):
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.")
    try:
        occurrences = list(recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end))
    except Exception as exc:  # a bad rule or time zone anywhere in the feed
        raise BusyCalendarError("The calendar's repeating events could not be read.") from exc

    intervals: list[tuple[datetime, datetime]] = []
    for event in occurrences:
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        try:
            raw_start, raw_end = event.start, event.end
        except Exception:  # noqa: S112 - an event without a usable start is no busy time
            continue
        busy_start, busy_end = _occurrence_bounds(raw_start, raw_end, zone)
        busy_start, busy_end = max(busy_start, start), min(busy_end, end)
        if busy_end > busy_start:
            intervals.append((busy_start, busy_end))

    merged: list[tuple[datetime, datetime]] = []
    for busy_start, busy_end in sorted(intervals):
        if merged and busy_start <= merged[-1][1]:
            if busy_end > merged[-1][1]:
                merged[-1] = (merged[-1][0], busy_end)
        else:
            merged.append((busy_start, busy_end))
    if len(merged) > MAX_BLOCKS:
        raise BusyCalendarError(
            f"The calendar has more than {MAX_BLOCKS:,} busy periods in the booking horizon."
        )
    return merged
