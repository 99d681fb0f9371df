"""Standing weekly sessions: where each occurrence of a series falls (pure, no database).

Every occurrence is at the first one's wall-clock time in the coach's zone, so its UTC
instant moves with the coach's DST, as an ``RRULE`` with ``DTSTART;TZID=<coach zone>`` does
in every calendar. Two edges, resolved as RFC 5545 (3.3.5) and the calendars resolve them:
- a time that happens twice (the autumn fold) is its first instance (``fold=0``);
- a time that does not exist that day (the spring gap, 30 minutes at Lord Howe) has no
  occurrence: ``start`` is None and the booking treats the date as unavailable (the coach's
  hours have no such time either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_OCCURRENCES = 52
MAX_INTERVAL_WEEKS = 4


@dataclass(frozen=True)
class Occurrence:
    """One date of a series: ``local`` is its wall-clock time in the coach's zone (naive, as
    ``RECURRENCE-ID;TZID=...`` names it); ``start`` the instant, None in a DST gap."""

    index: int
    local: datetime
    start: datetime | None

    @property
    def day(self) -> date:
        return self.local.date()


def wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of an aware ``instant`` in ``zone`` (what a TZID-local
    iCalendar value holds)."""
    local = instant.astimezone(zone)
    return datetime.combine(local.date(), local.time())


def occurrence_local(first_start: datetime, *, zone: ZoneInfo, interval_weeks: int, index: int) -> datetime:
    """Occurrence ``index``'s wall-clock time: the first one's, ``index`` steps later."""
    return wall_clock(first_start, zone) + timedelta(weeks=interval_weeks * index)


def resolve_local(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a naive wall-clock time in ``zone``: the first of two in a fold,
    None when the time does not exist (a gap)."""
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if wall_clock(instant, zone) != local:
        return None
    return instant


def occurrences(
    first_start: datetime, *, zone: ZoneInfo, interval_weeks: int, count: int
) -> list[Occurrence]:
    """The ``count`` occurrences every ``interval_weeks`` weeks from ``first_start`` (aware)."""
    if first_start.tzinfo is None:
        raise ValueError("first_start must be aware")
    if not 1 <= interval_weeks <= MAX_INTERVAL_WEEKS:
        raise ValueError(f"interval_weeks must be 1 to {MAX_INTERVAL_WEEKS}")
    if not 1 <= count <= MAX_OCCURRENCES:
        raise ValueError(f"count must be 1 to {MAX_OCCURRENCES}")
    result = []
    for index in range(count):
        local = occurrence_local(first_start, zone=zone, interval_weeks=interval_weeks, index=index)
        result.append(Occurrence(index=index, local=local, start=resolve_local(local, zone)))
    return result


def other_time_for_client(series: list[Occurrence], client_zone: ZoneInfo) -> list[Occurrence]:
    """The occurrences that fall at another wall-clock time for the client than the first one
    does: where the client's zone and the coach's change DST on different dates."""
    held = [(occurrence, occurrence.start) for occurrence in series if occurrence.start is not None]
    if not held:
        return []
    first = _time_in(held[0][1], client_zone)
    return [occurrence for occurrence, start in held if _time_in(start, client_zone) != first]


def _time_in(instant: datetime, zone: ZoneInfo) -> time:
    return instant.astimezone(zone).time()
