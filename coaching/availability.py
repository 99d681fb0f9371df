"""The slot engine: a coach's wall-clock rules in, free slot starts (aware UTC) out.

Pure and typed: plain values in (rules, overrides, busy intervals, ``now``, a window), a
list of instants out; no ORM, no settings, no formatting (booking/slots.py loads the data).
How DST gaps and folds are handled, and why it is n log n: docs/architecture.md, "The slot engine".

Speed (``python -m bench bench_slot_engine``, DESIGN.md "Performance targets"): most of the
time is making the output's datetimes, so nothing else is done per slot in Python. Each
distinct set of windows becomes its slot offsets once per call, and a plain day's starts are
``shift + offset`` in one comprehension; busy time becomes ranges of blocked starts, sorted
once; a day no range reaches (one bisect) is taken whole, the others are cut with bisects
among the day's own starts. Only a day with a DST change maps wall times one by one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from zoneinfo import ZoneInfo

__all__ = [
    "Availability",
    "SlotRules",
    "free_slots",
    "local_day_bounds",
    "wall_time_to_utc",
]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)  # the resolution of datetime: "strictly before" bounds
_MIDNIGHT = time(0)
_low, _high = itemgetter(0), itemgetter(1)
# Thresholds no shift passes: a rule whose windows are all shorter than the call.
_NEVER_LOW = datetime.max.replace(tzinfo=UTC)
_NEVER_HIGH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Availability:
    """A coach's rules: wall-clock windows in ``zone``.

    ``weekly`` maps a weekday (0 = Monday) to that day's windows; ``overrides``
    maps a local date to windows that replace the weekly ones for that date (an
    empty sequence makes the date unavailable).
    """

    zone: ZoneInfo
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    overrides: Mapping[date, Sequence[tuple[time, time]]]


@dataclass(frozen=True, slots=True)
class SlotRules:
    """What one offering asks of a slot."""

    duration: timedelta
    step: timedelta
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    min_notice: timedelta = _ZERO
    horizon: timedelta | None = None  # nothing starting later than now + horizon
    daily_cap: int | None = None  # most bookings of this offering per coach-local day


# A day's single DST transition: (instant, offset before, offset after).
_Transition = tuple[datetime, timedelta, timedelta]
# Prepared wall windows: offsets from local midnight, sorted.
_Rule = list[tuple[timedelta, timedelta]]


def free_slots(
    *,
    availability: Availability,
    rules: SlotRules,
    busy: Iterable[tuple[datetime, datetime]],
    now: datetime,
    window_start: datetime,
    window_end: datetime,
    booked_per_day: Mapping[date, int] | None = None,
) -> list[datetime]:
    """Free slot starts with ``window_start <= start < window_end``, sorted, aware UTC.

    A slot ``[s, s + duration)`` is free when it lies inside one availability
    window and ``[s - buffer_before, s + duration + buffer_after)`` overlaps no
    ``busy`` interval (half-open: touching is fine, so back-to-back calls work).
    ``busy`` intervals are taken as given: bookings already widened by their own
    buffers, busy blocks as they are; in any zone, they count as instants (buffers too).
    ``booked_per_day`` counts this offering's
    bookings per coach-local date for ``rules.daily_cap``.
    """
    _check_aware(now, "now")
    _check_aware(window_start, "window_start")
    _check_aware(window_end, "window_end")
    _check_rules(rules)

    duration = rules.duration
    # The range of allowed starts, inclusive at both ends.
    first_start = max(window_start, now + rules.min_notice).astimezone(UTC)
    last_start = (window_end - _TICK).astimezone(UTC)
    if rules.horizon is not None:
        last_start = min(last_start, (now + rules.horizon).astimezone(UTC))
    if first_start > last_start:
        return []

    zone = availability.zone
    blocked_days: frozenset[date] = frozenset()
    if rules.daily_cap is not None and booked_per_day:
        cap = rules.daily_cap
        blocked_days = frozenset(day for day, count in booked_per_day.items() if count >= cap)
    if rules.daily_cap == 0:
        return []
    days, any_window, unordered = _day_starts(
        availability,
        first_day=first_start.astimezone(zone).date() - _DAY,
        last_day=last_start.astimezone(zone).date() + _DAY,
        blocked_days=blocked_days,
        duration=duration,
        step=rules.step,
        first_start=first_start,
        last_start=last_start,
    )
    if not any_window:
        return []

    lows, highs = _busy_sorted(
        busy,
        after=first_start - rules.buffer_before,
        before=last_start + duration + rules.buffer_after,
    )
    starts = _free_starts(
        days, lows, highs, lead=rules.buffer_after + duration, lag=rules.buffer_before, unordered=unordered
    )
    if unordered:
        starts = sorted(set(starts))
    del starts[bisect_right(starts, last_start) :]
    del starts[: bisect_left(starts, first_start)]
    return starts


def local_day_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The instants (aware UTC) where ``day`` starts and the next day starts in ``zone``."""
    return wall_time_to_utc(zone, day, _MIDNIGHT), wall_time_to_utc(zone, day + _DAY, _MIDNIGHT)


def wall_time_to_utc(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The first instant (aware UTC) whose wall time in ``zone`` is ``day`` ``at`` or later.

    An ordinary wall time maps to its one instant; a repeated one (DST fold) to its
    first occurrence; a missing one (DST gap) to the transition instant. The slot
    engine maps rule windows with the same function.
    """
    if at.tzinfo is not None:
        raise ValueError("wall times must be naive times of day")
    off = zone.utcoffset(datetime.combine(day, _MIDNIGHT))
    off_next = zone.utcoffset(datetime.combine(day + _DAY, _MIDNIGHT))
    wall = datetime.combine(day, at, tzinfo=UTC)  # the wall time's fields, as if UTC
    if off == off_next:
        return wall - off
    transition = _day_transition(zone, day, off, off_next)
    if transition is None:
        return wall - off
    return _map_wall(wall, transition)


# --- internals ---------------------------------------------------------------


def _check_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _check_rules(rules: SlotRules) -> None:
    if rules.duration <= _ZERO:
        raise ValueError("duration must be positive")
    if rules.step <= _ZERO:
        raise ValueError("step must be positive")
    if rules.buffer_before < _ZERO or rules.buffer_after < _ZERO:
        raise ValueError("buffers must not be negative")
    if rules.min_notice < _ZERO:
        raise ValueError("min_notice must not be negative")
    if rules.horizon is not None and rules.horizon < _ZERO:
        raise ValueError("horizon must not be negative")
    if rules.daily_cap is not None and rules.daily_cap < 0:
        raise ValueError("daily_cap must not be negative")


def _prepare(windows: Sequence[tuple[time, time]]) -> _Rule:
    """Wall windows as offsets from midnight, sorted; nonsense refused."""
    prepared = []
    for start, end in windows:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("availability windows must be naive wall-clock times")
        if end <= start:
            raise ValueError(f"an availability window must end after it starts: {start}-{end}")
        prepared.append((_since_midnight(start), _since_midnight(end)))
    prepared.sort()
    return prepared


def _since_midnight(value: time) -> timedelta:
    return timedelta(0, value.hour * 3600 + value.minute * 60 + value.second, value.microsecond)


def _offset_at(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    return offset if offset is not None else _ZERO  # a ZoneInfo always has one


def _day_transition(zone: ZoneInfo, day: date, off: timedelta, off_next: timedelta) -> _Transition | None:
    """The transition inside ``day`` whose midnights have offsets ``off`` and ``off_next``.

    Found by a binary search over whole seconds (tz database transitions are whole
    seconds) between one second before the day's first instant and the next day's
    first instant.
    """
    low = datetime.combine(day, _MIDNIGHT, tzinfo=UTC) - off - _SECOND
    high = datetime.combine(day + _DAY, _MIDNIGHT, tzinfo=UTC) - off_next
    before = _offset_at(zone, low)
    after = _offset_at(zone, high)
    if before == after:
        return None  # two transitions that cancel out: treat the day as plain
    lo, hi = 0, int((high - low) // _SECOND)  # offset(low + lo s) == before; offset(low + hi s) != before
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(zone, low + mid * _SECOND) == before:
            lo = mid
        else:
            hi = mid
    instant = low + hi * _SECOND
    return instant, before, _offset_at(zone, instant)


def _map_wall(wall: datetime, transition: _Transition) -> datetime:
    """First instant at or after a wall time (given as if UTC) on a day with ``transition``."""
    instant, before, after = transition
    candidate = wall - before
    if candidate < instant:
        return candidate  # before the change (or the first occurrence in a fold)
    return max(wall - after, instant)  # after the change; inside a gap -> the change itself


def _transition_windows(
    rule: _Rule, midnight: datetime, transition: _Transition
) -> list[tuple[datetime, datetime]]:
    """The real windows (aware UTC) of ``rule`` on a day with a DST ``transition``."""
    instant, before, after = transition
    fold_end = instant + (before - after) if after < before else None
    windows = []
    for start, end in rule:
        first = _map_wall(midnight + start, transition)
        last = _map_wall(midnight + end, transition)
        if fold_end is not None and first < fold_end and last > instant:
            # The repeated wall times [instant, fold_end) are dropped: up to two pieces.
            if first < instant:
                windows.append((first, instant))
            if last > fold_end:
                windows.append((max(first, fold_end), last))
        elif first < last:
            windows.append((first, last))
    return windows


def open_windows(
    availability: Availability, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """The open windows (aware UTC, sorted) of the local dates ``first_day``..``last_day``: the
    weekly hours, with overrides replacing a date's hours or closing it; no bookings, caps or
    busy time (coaching/clashes.py checks calls against these)."""
    zone = availability.zone
    weekly = {weekday: _prepare(windows) for weekday, windows in availability.weekly.items()}
    overrides = availability.overrides
    windows: list[tuple[datetime, datetime]] = []
    overlapping = False

    day = first_day
    off = zone.utcoffset(datetime.combine(day, _MIDNIGHT))
    while day <= last_day:
        next_day = day + _DAY
        off_next = zone.utcoffset(datetime.combine(next_day, _MIDNIGHT))
        rule = _prepare(overrides[day]) if day in overrides else weekly.get(day.weekday())
        if rule:
            midnight = datetime.combine(day, _MIDNIGHT, tzinfo=UTC)
            transition = None if off == off_next else _day_transition(zone, day, off, off_next)
            count_before = len(windows)
            if transition is None:
                shift = midnight - off
                windows.extend((shift + start, shift + end) for start, end in rule)
            else:
                windows.extend(_transition_windows(rule, midnight, transition))
            if not overlapping:
                for i in range(max(count_before, 1), len(windows)):
                    if windows[i][0] < windows[i - 1][1]:
                        overlapping = True
                        break
        day, off = next_day, off_next
    if overlapping:
        windows.sort()
    return windows


class _Steps:
    """``step * i`` for i = 0, 1, ...: the offsets of aligned starts from a window's start."""

    __slots__ = ("offsets", "step")

    def __init__(self, step: timedelta) -> None:
        self.step = step
        self.offsets = [_ZERO]

    def first(self, count: int) -> list[timedelta]:
        if count > len(self.offsets):
            step = self.step
            self.offsets = [step * i for i in range(max(count, 2 * len(self.offsets)))]
        return self.offsets[:count]


@dataclass(frozen=True, slots=True)
class _DayPlan:
    """One rule's candidate starts as offsets from the day's shift (local midnight in UTC).

    ``low <= shift <= high`` says a plain day can have a start in the allowed range; other
    plain days are skipped whole (the margin days around the window, mostly).
    """

    rule: _Rule
    offsets: list[timedelta]
    overlapping: bool  # windows of the rule overlap: its offsets may repeat or go back
    low: datetime
    high: datetime


@dataclass(frozen=True, slots=True)
class _Shape:
    """A rule's aligned starts as offsets from local midnight, for one duration and step.

    Shared between calls through ``_shape``'s cache, so never changed once made.
    """

    rule: _Rule
    offsets: list[timedelta]
    overlapping: bool  # windows of the rule overlap: its offsets may repeat or go back


@lru_cache(maxsize=4096)
def _shape(windows: tuple[tuple[time, time], ...], duration: timedelta, step: timedelta) -> _Shape:
    """The shape of ``windows`` (nonsense refused). Cached by value: a coach's weekly hours
    and overrides are the same from one request to the next, and cost as much to prepare as a
    month of plain days."""
    rule = _prepare(windows)
    offsets: list[timedelta] = []
    overlapping = False
    previous_end: timedelta | None = None
    for start, end in rule:
        if previous_end is not None and start < previous_end:
            overlapping = True
        previous_end = end
        count = (end - start - duration) // step + 1
        if count > 0:
            offsets += [start + step * i for i in range(count)]
    return _Shape(rule, offsets, overlapping)


def _day_plan(shape: _Shape, first_start: datetime, last_start: datetime) -> _DayPlan:
    """``shape`` with the shifts of the days that can have a start in the allowed range."""
    offsets = shape.offsets
    if not offsets:
        return _DayPlan(shape.rule, offsets, shape.overlapping, _NEVER_LOW, _NEVER_HIGH)
    return _DayPlan(
        shape.rule, offsets, shape.overlapping, first_start - max(offsets), last_start - min(offsets)
    )


class _Plans:
    """The day plans of one call, each distinct set of windows once.

    Weekly hours repeat from weekday to weekday (Monday to Friday alike, typically) and
    overrides repeat too; windows are keyed by value, so equal lists share the work.
    """

    __slots__ = ("_by_windows", "_duration", "_first_start", "_last_start", "_step")

    def __init__(
        self, step: timedelta, duration: timedelta, first_start: datetime, last_start: datetime
    ) -> None:
        self._step = step
        self._duration = duration
        self._first_start = first_start
        self._last_start = last_start
        self._by_windows: dict[tuple[tuple[time, time], ...], _DayPlan | None] = {}

    def check(self, windows: Sequence[tuple[time, time]]) -> None:
        """Refuse nonsense windows now (the weekly hours are checked whole, as one rule set)."""
        self._shape_of(tuple(windows))

    def plan(self, windows: Sequence[tuple[time, time]]) -> _DayPlan | None:
        """The day plan of ``windows``; None when they are no window at all."""
        key = tuple(windows)
        try:
            if key in self._by_windows:
                return self._by_windows[key]
        except TypeError:  # unhashable rows (lists, say): no sharing, same answer
            return self._make(key)
        plan = self._by_windows[key] = self._make(key)
        return plan

    def _make(self, key: tuple[tuple[time, time], ...]) -> _DayPlan | None:
        shape = self._shape_of(key)
        return _day_plan(shape, self._first_start, self._last_start) if shape.rule else None

    def _shape_of(self, key: tuple[tuple[time, time], ...]) -> _Shape:
        try:
            hash(key)
        except TypeError:  # unhashable rows: made afresh, not cached
            return _shape.__wrapped__(key, self._duration, self._step)
        return _shape(key, self._duration, self._step)


def _day_starts(
    availability: Availability,
    *,
    first_day: date,
    last_day: date,
    blocked_days: frozenset[date],
    duration: timedelta,
    step: timedelta,
    first_start: datetime,
    last_start: datetime,
) -> tuple[list[list[datetime]], bool, bool]:
    """Every aligned start that fits a window of the local dates given, busy time aside.

    Returns one sorted list of starts per local date that has any, whether there is any
    window at all, and whether those lists may be out of order from one date to the next
    (checked, not assumed: a DST change at midnight moves a date's bounds). Dates with no start in the allowed
    range are left out; starts outside it may remain on the first and last dates (the
    caller bisects). A plain day's windows are the rule shifted by one offset; only a day
    with a DST change maps each wall time (docs/architecture.md).
    """
    zone = availability.zone
    steps = _Steps(step)
    rules = _Plans(step, duration, first_start, last_start)
    weekly = availability.weekly
    for windows in weekly.values():
        rules.check(windows)
    overrides = availability.overrides
    plans: dict[int, _DayPlan | None] = {}  # by weekday
    days: list[list[datetime]] = []
    any_window = False
    unordered = False

    day = first_day
    weekday = day.weekday()
    naive = datetime.combine(day, _MIDNIGHT)  # the wall midnight, to ask the zone its offset
    off = zone.utcoffset(naive)
    shift = datetime.combine(day, _MIDNIGHT, tzinfo=UTC) - off  # local midnight's wall fields minus offset
    while day <= last_day:
        naive += _DAY
        off_next = zone.utcoffset(naive)
        if day in overrides:
            plan = rules.plan(overrides[day])
        elif weekday in plans:
            plan = plans[weekday]
        else:
            hours = weekly.get(weekday)
            plan = plans[weekday] = rules.plan(hours) if hours else None
        if plan is not None and day not in blocked_days:
            transition = None if off == off_next else _day_transition(zone, day, off, off_next)
            starts: list[datetime] = []
            if transition is None:
                any_window = True  # a prepared window is never empty on a plain day
                if plan.low <= shift <= plan.high:
                    starts = [shift + offset for offset in plan.offsets]
                    if plan.overlapping:
                        starts = sorted(set(starts))
            else:
                windows = _transition_windows(
                    plan.rule, datetime.combine(day, _MIDNIGHT, tzinfo=UTC), transition
                )
                if windows:
                    any_window = True  # (a window inside a gap or a fold is none)
                for first, last in windows:
                    count = (last - first - duration) // step + 1
                    if count > 0:
                        starts += [first + offset for offset in steps.first(count)]
                if any(windows[i][0] < windows[i - 1][1] for i in range(1, len(windows))):
                    starts = sorted(set(starts))
            if starts:
                # Dates follow one another as a rule; looked at, as the caller bisects.
                if days and starts[0] <= days[-1][-1]:
                    unordered = True
                days.append(starts)
        day += _DAY
        weekday = weekday + 1 if weekday < 6 else 0
        if off_next == off:
            shift += _DAY
        else:
            shift = datetime.combine(day, _MIDNIGHT, tzinfo=UTC) - off_next
            off = off_next
    return days, any_window, unordered


def _busy_sorted(
    busy: Iterable[tuple[datetime, datetime]], *, after: datetime, before: datetime
) -> tuple[list[datetime], list[datetime]]:
    """The busy intervals that end after ``after`` and start before ``before``, as instants:
    their starts ascending, and with each the latest end so far (so both lists are sorted).

    A start ``s`` is blocked by busy ``[b0, b1)`` when ``b0 - lead < s < b1 + lag`` (``lead`` =
    buffer after + duration, ``lag`` = buffer before); _free_starts applies the buffers to its
    bounds, not to every interval. Sorted by start, each end becomes the latest so far: interval
    k then lies inside itself and the earlier one that end came from, so the union stays, and no
    merge is needed. Empty or reversed intervals never count. Busy time in any zone counts as
    instants (booking/slots.py reads UTC from the database).
    """
    try:
        kept = [
            pair if pair[0].tzinfo is UTC and pair[1].tzinfo is UTC else _as_instants(*pair)
            # start < before first: callers load busy time from now on, often far beyond the
            # window, so that test drops most of what is dropped, in one comparison.
            for pair in busy
            if pair[0] < before and pair[1] > after and pair[0] < pair[1]
        ]
    except TypeError as exc:  # naive datetimes (or no datetimes at all) do not compare with aware ones
        raise ValueError("busy intervals must be pairs of aware datetimes") from exc
    kept.sort(key=_low)
    return list(map(_low, kept)), list(accumulate(map(_high, kept), max))


def _as_instants(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A busy interval in another zone as UTC instants (wall-time arithmetic in a zone with DST
    would move the buffers by an hour across a change). One that ends before it starts as
    instants (a fold) blocks nothing."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return (start, end) if start < end else (start, start)


def _free_starts(
    days: list[list[datetime]],
    lows: list[datetime],
    highs: list[datetime],
    *,
    lead: timedelta,
    lag: timedelta,
    unordered: bool,
) -> list[datetime]:
    """The starts of ``days`` that no busy interval ``(lows[k], highs[k])`` widened by ``lead``
    before and ``lag`` after blocks, in the days' order.

    One bisect into the sorted ends finds the first interval that can reach a day; a day no
    interval reaches is taken whole, the others are cut with bisects inside the day's few
    starts. Dates in order let that bisect start where the previous day's stopped.
    """
    out: list[datetime] = []
    n = len(lows)
    if not n:
        for starts in days:
            out += starts
        return out
    k = 0
    for starts in days:
        # Interval j reaches a start s when lows[j] - lead < s < highs[j] + lag.
        first, last = starts[0] - lag, starts[-1] + lead
        k = bisect_right(highs, first, 0 if unordered else k)  # intervals before k end by first
        if k == n or lows[k] >= last:
            out += starts
            continue
        pos = 0  # starts[:pos] are decided: kept in out or blocked
        size = len(starts)
        j = k
        while j < n and lows[j] < last:
            cut = bisect_right(starts, lows[j] - lead, pos)
            stop = bisect_left(starts, highs[j] + lag, cut)
            if stop > cut:
                out += starts[pos:cut]
                pos = stop
                if pos == size:
                    break  # the rest of the day is taken: no walk over every later interval
            j += 1
        out += starts[pos:]
    return out
