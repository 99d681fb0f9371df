"""Which booked calls a change of weekly hours or date overrides would leave outside the hours.

Coaching sits below booking, so it cannot read bookings itself: booking registers a source
(``register_booking_source``, from its ``AppConfig.ready``) that returns the coach's active
future calls as plain ``BookedCall`` values. ``booking_clashes`` loads the coach's current
rules, applies the proposed change, and asks the slot engine (coaching/availability.py) for
the open windows of each booked call's local date(s) before and after.

A call clashes when its local date's rules change and, after the change, ``[start, end)`` is
not inside the open hours (touching windows joined). Calls on dates the change leaves alone
are not listed, even if an earlier "save anyway" left them outside: the warning is about
this change. Three queries whatever the number of calls (weekly hours, overrides, calls).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from coaching.availability import Availability, open_windows
from coaching.models import Coach, DateOverride, WeeklyHours
from coaching.selectors import build_availability

__all__ = [
    "LISTED_CLASHES",
    "BookedCall",
    "Clashes",
    "booking_clashes",
    "clashing_calls",
    "register_booking_source",
]

# How many clashing calls the warning lists; the rest are counted ("and 7 more").
LISTED_CLASHES = 20

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)

Window = tuple[time, time]


@dataclass(frozen=True, slots=True)
class BookedCall:
    """One active booked call, as coaching needs to see it (no booking model here)."""

    reference: str
    client_name: str
    offering_title: str
    start: datetime  # aware
    end: datetime  # aware


# A source answers the coach's active calls that start after ``now``.
BookingSource = Callable[[Coach, datetime], Iterable[BookedCall]]

_SOURCES: dict[str, BookingSource] = {}


def register_booking_source(fn: BookingSource) -> None:
    """Add a source of booked calls (booking registers one in its ``ready``); idempotent."""
    _SOURCES[f"{fn.__module__}.{fn.__qualname__}"] = fn


@dataclass(frozen=True)
class Clashes:
    """The calls a change would leave outside the hours: the first ``LISTED_CLASHES``, and how many."""

    listed: list[BookedCall] = field(default_factory=list)
    total: int = 0
    # Names this change and these calls: "save anyway" carries it back, so a form edited after
    # the warning, or a call booked meanwhile, is checked (and warned about) again.
    token: str = ""

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def more(self) -> int:
        return self.total - len(self.listed)

    def confirmed_by(self, value: str | None) -> bool:
        """Whether ``value`` (the posted confirm flag) is this warning's token."""
        return bool(self.token) and value == self.token


def booking_clashes(
    *,
    coach: Coach,
    now: datetime,
    weekly: Mapping[int, Sequence[Window]] | None = None,
    overrides: Mapping[date, Sequence[Window] | None] | None = None,
    limit: int = LISTED_CLASHES,
) -> Clashes:
    """The coach's active future calls that the proposed rules would leave outside the hours.

    ``weekly`` replaces the whole week (weekday -> windows); ``overrides`` maps a date to
    the windows that will replace its hours (empty: the day off) or to None (its override
    removed, the weekly hours apply). Nothing given: nothing changes, nothing clashes.
    Three queries (weekly hours, overrides, calls); none when no source is registered.
    """
    if not _SOURCES or (weekly is None and not overrides):
        return Clashes()
    zone = coach.zone
    weekly_rows = list(WeeklyHours.objects.filter(coach=coach).values_list("weekday", "start", "end"))
    since = now.astimezone(zone).date() - _DAY
    override_rows = list(
        DateOverride.objects.filter(coach=coach, date__gte=since).values_list("date", "start", "end")
    )
    before = build_availability(zone=zone, weekly_rows=weekly_rows, override_rows=override_rows)

    new_weekly_rows: Iterable[tuple[int, time, time]] = weekly_rows
    if weekly is not None:
        new_weekly_rows = [(day, s, e) for day, windows in weekly.items() for s, e in windows]
    new_override_rows: list[tuple[date, time | None, time | None]] = list(override_rows)
    if overrides:
        new_override_rows = [row for row in override_rows if row[0] not in overrides]
        for day, windows in overrides.items():
            if windows is None:
                continue  # removed: the weekly hours apply
            if not windows:
                new_override_rows.append((day, None, None))
            else:
                new_override_rows.extend((day, s, e) for s, e in windows)
    after = build_availability(zone=zone, weekly_rows=new_weekly_rows, override_rows=new_override_rows)

    calls = [call for source in _SOURCES.values() for call in source(coach, now) if call.start > now]
    clashing = clashing_calls(before=before, after=after, calls=calls)
    if not clashing:
        return Clashes()
    change = (
        sorted((day, tuple(windows)) for day, windows in weekly.items()) if weekly is not None else None,
        sorted((day, None if w is None else tuple(w)) for day, w in (overrides or {}).items()),
    )
    digest = hashlib.sha256(repr((change, [call.reference for call in clashing])).encode()).hexdigest()
    return Clashes(listed=clashing[:limit], total=len(clashing), token=digest[:32])


def clashing_calls(
    *, before: Availability, after: Availability, calls: Iterable[BookedCall]
) -> list[BookedCall]:
    """The ``calls`` on a local date whose rules differ between ``before`` and ``after`` that do
    not fit inside ``after``'s open hours; sorted by start. Pure: no queries."""
    zone = after.zone
    day_windows: dict[date, list[tuple[datetime, datetime]]] = {}

    def windows_on(day: date) -> list[tuple[datetime, datetime]]:
        if day not in day_windows:
            day_windows[day] = open_windows(after, day, day)
        return day_windows[day]

    out = []
    for call in sorted(calls, key=lambda c: (c.start, c.reference)):
        first_day = call.start.astimezone(zone).date()
        last_day = max(first_day, (call.end - _TICK).astimezone(zone).date())
        days = [first_day + _DAY * n for n in range((last_day - first_day).days + 1)]
        if all(_rule_of(before, day) == _rule_of(after, day) for day in days):
            continue  # this change leaves the call's date(s) alone
        windows = [window for day in days for window in windows_on(day)]
        if not _inside(call.start, call.end, windows):
            out.append(call)
    return out


def _rule_of(availability: Availability, day: date) -> tuple[Window, ...]:
    """The wall-clock windows that apply on ``day``: its override's, else its weekday's."""
    if day in availability.overrides:
        return tuple(sorted(availability.overrides[day]))
    return tuple(sorted(availability.weekly.get(day.weekday(), ())))


def _inside(start: datetime, end: datetime, windows: list[tuple[datetime, datetime]]) -> bool:
    """Whether ``[start, end)`` lies inside the union of ``windows`` (touching ones joined)."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    for window_start, window_end in sorted(windows):
        if ends and window_start <= ends[-1]:
            ends[-1] = max(ends[-1], window_end)
        else:
            starts.append(window_start)
            ends.append(window_end)
    i = bisect_right(starts, start) - 1
    return i >= 0 and ends[i] >= end
