"""Busy calendars: a coach's other calendar (a secret iCal address) read into busy intervals.

Fetched through the guarded client (common/outbound.py), parsed with ``icalendar`` and
expanded with ``recurring-ical-events``; free and cancelled events skipped, all-day events
block the coach's local days, floating times read in the coach's zone. coaching/services.py
replaces the calendar's BusyBlocks with the result. The address is never logged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.conf import settings
from icalendar import Calendar, Component

from coaching.availability import local_day_bounds, wall_time_to_utc
from common import outbound
from common.budget import WorkBudget, WorkBudgetExceeded, work_budget
from common.outbound import Fetched, OutboundError, display_url

__all__ = ["BusyCalendarError", "Fetched", "busy_intervals", "check_address", "display_url", "fetch"]

# One error type for a calendar that cannot be used or read: its message is safe to show.
BusyCalendarError = OutboundError

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
    outbound.resolve(host, port, what=WHAT)
    return url


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET a calendar address under the limits in settings (read at call time)."""
    return outbound.fetch(
        url,
        what=WHAT,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        deadline=settings.BUSY_CALENDAR_DEADLINE,
        max_bytes=settings.BUSY_CALENDAR_MAX_BYTES,
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


# A feed is read under three caps, each answered with a message the coach can act on:
# occurrences in the window (counted before touching ones merge, so a bomb of back-to-back
# seconds cannot hide in one block), how often a rule may repeat, and the work spent.
MAX_OCCURRENCES = 20_000
MAX_REPEATS_PER_DAY = 96  # every 15 minutes; busy time never repeats faster
# Work, in Python calls (common/budget.py). Parsing is linear in the capped size and is not
# counted; expanding is, for the whole feed and between two occurrences of one event: a rule
# that walks without matching (dateutil checks every hour to the year 9999 for "every hour
# on 30 February") is stopped there. A real hourly rule since 2015 takes 0.4 M to start.
MAX_WORK_BETWEEN_OCCURRENCES = 1_000_000
MAX_WORK = 10_000_000

_TOO_LARGE = (
    "The calendar is too large to read: {reason}. Remove or shorten that event in your "
    "calendar, or connect a calendar that holds only your appointments."
)
_PER_DAY = {"SECONDLY": 86_400, "MINUTELY": 1_440, "HOURLY": 24, "DAILY": 1}
# Parts of a rule that add occurrences inside one period of a coarser frequency (RFC 5545 3.3.10).
_EXPANDS = (
    ("BYHOUR", ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")),
    ("BYMINUTE", ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")),
    ("BYSECOND", ("MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")),
)


def _repeats_per_day(rule: Mapping[str, list[object]]) -> float:
    """About how many times a day an RRULE repeats at most (weekly and coarser count as daily)."""
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    try:
        interval = max(int(str((rule.get("INTERVAL") or [1])[0])), 1)
    except ValueError:
        interval = 1
    per_day = _PER_DAY.get(freq, 1) / interval
    for part, coarser in _EXPANDS:
        if freq in coarser:
            per_day *= max(len(rule.get(part) or []), 1)
    return per_day


def _check_rules(calendar: Calendar) -> None:
    """Refuse a feed whose rules repeat faster than busy time ever does."""
    for event in calendar.walk("VEVENT"):
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
            if _repeats_per_day(rule) > MAX_REPEATS_PER_DAY:
                raise BusyCalendarError(
                    _TOO_LARGE.format(reason="an event repeats more often than every 15 minutes")
                )


def _occurrences(
    calendar: Calendar, start: datetime, end: datetime, budget: WorkBudget
) -> Iterator[Component]:
    """Each occurrence in [start, end), series by series, expanded lazily under the caps."""
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    skip = tuple(query.suppressed_errors)
    count = 0
    for series in query.series:
        budget.cap(MAX_WORK_BETWEEN_OCCURRENCES)
        try:
            for occurrence in series.between(start, end):
                count += 1
                if count > MAX_OCCURRENCES:
                    raise BusyCalendarError(
                        _TOO_LARGE.format(
                            reason=f"it has more than {MAX_OCCURRENCES:,} events in the booking horizon"
                        )
                    )
                yield occurrence.as_component(False)
                budget.cap(MAX_WORK_BETWEEN_OCCURRENCES)
        except skip:  # one broken series is skipped, as recurring-ical-events does
            continue
    budget.uncap()


def busy_intervals(
    data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime, all_day: bool = True
) -> list[tuple[datetime, datetime]]:
    """Busy time in [start, end) from iCalendar data: merged, sorted, aware UTC.

    Parsing and expansion run under the caps above; BusyCalendarError says which one a
    feed broke. ``all_day=False`` leaves all-day events out (the coach's choice for CalDAV).
    """
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        raise BusyCalendarError(
            "This address did not return a calendar. Use the calendar's secret address in iCal format."
        )
    try:
        intervals = _read(stripped, zone=zone, start=start, end=end, all_day=all_day)
    except WorkBudgetExceeded as exc:
        raise BusyCalendarError(
            _TOO_LARGE.format(reason="its events, or the way they repeat, take too long to work out")
        ) from exc
    return merged(intervals)


def _read(
    data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime, all_day: bool = True
) -> list[tuple[datetime, datetime]]:
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and others for broken data
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.") from exc
    if not isinstance(calendar, Calendar):
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.")
    _check_rules(calendar)
    intervals: list[tuple[datetime, datetime]] = []
    try:
        # Entered here, not in the generator: leaving this block always unhooks the budget.
        with work_budget(MAX_WORK) as budget:
            for event in _occurrences(calendar, start, end, budget):
                if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
                    continue
                if str(event.get("STATUS", "")).upper() == "CANCELLED":
                    continue
                # Outlook and Exchange mark "free" time this way, with or without TRANSP.
                if str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE":
                    continue
                try:
                    raw_start, raw_end = event.start, event.end
                except WorkBudgetExceeded:
                    raise
                except Exception:  # noqa: S112 - an event without a usable start is no busy time
                    continue
                if not all_day and not isinstance(raw_start, datetime):
                    continue
                busy_start, busy_end = _occurrence_bounds(raw_start, raw_end, zone)
                busy_start, busy_end = max(busy_start, start), min(busy_end, end)
                if busy_end > busy_start:
                    intervals.append((busy_start, busy_end))
    except (BusyCalendarError, WorkBudgetExceeded):
        raise
    except Exception as exc:  # a bad rule or time zone anywhere in the feed
        raise BusyCalendarError("The calendar's repeating events could not be read.") from exc
    return intervals


def merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Intervals sorted, touching and overlapping ones joined."""
    joined: list[tuple[datetime, datetime]] = []
    for busy_start, busy_end in sorted(intervals):
        if joined and busy_start <= joined[-1][1]:
            if busy_end > joined[-1][1]:
                joined[-1] = (joined[-1][0], busy_end)
        else:
            joined.append((busy_start, busy_end))
    return joined
