"""The slot engine: a coach's wall-clock rules in, free slot starts (aware UTC) out.

Pure and typed: plain values in (rules, overrides, busy intervals, ``now``, a window), a
list of instants out; no ORM, no settings, no formatting (booking/slots.py loads the data).
How DST gaps and folds are handled, and why it is n log n: docs/architecture.md, "The slot engine".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
    buffers, busy blocks as they are. ``booked_per_day`` counts this offering's
    bookings per coach-local date for ``rules.daily_cap``.
    """
    _check_aware(now, "now")
    _check_aware(window_start, "window_start")
    _check_aware(window_end, "window_end")
    _check_rules(rules)

    duration, step = rules.duration, rules.step
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
    windows, overlapping = _expand(
        availability,
        first_day=first_start.astimezone(zone).date() - _DAY,
        last_day=last_start.astimezone(zone).date() + _DAY,
        blocked_days=blocked_days,
        daily_cap_zero=rules.daily_cap == 0,
    )
    if not windows:
        return []

    busy_starts, busy_ends = _merged_busy(
        busy,
        after=first_start - rules.buffer_before,
        before=last_start + duration + rules.buffer_after,
        widen_before=rules.buffer_after,
        widen_after=rules.buffer_before,
    )
    out = _sweep(windows, busy_starts, busy_ends, duration, step, first_start, last_start)
    if overlapping:
        out = sorted(set(out))
    return out


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


def _prepare(windows: Sequence[tuple[time, time]]) -> list[tuple[timedelta, timedelta]]:
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
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


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


def open_windows(
    availability: Availability, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """The open windows (aware UTC, sorted) of the local dates ``first_day``..``last_day``: the
    weekly hours, with overrides replacing a date's hours or closing it; no bookings, caps or
    busy time (coaching/clashes.py checks calls against these)."""
    return _expand(
        availability, first_day=first_day, last_day=last_day, blocked_days=frozenset(), daily_cap_zero=False
    )[0]


def _expand(
    availability: Availability,
    *,
    first_day: date,
    last_day: date,
    blocked_days: frozenset[date],
    daily_cap_zero: bool,
) -> tuple[list[tuple[datetime, datetime]], bool]:
    """Availability windows (aware UTC, sorted by start) for the local dates given.

    Returns the windows and whether any two of them overlap (only overlapping
    override rows can do that; the caller then removes duplicate starts).
    """
    if daily_cap_zero:
        return [], False
    zone = availability.zone
    weekly = {weekday: _prepare(windows) for weekday, windows in availability.weekly.items()}
    overrides = availability.overrides
    windows: list[tuple[datetime, datetime]] = []
    append = windows.append
    overlapping = False

    day = first_day
    off = zone.utcoffset(datetime.combine(day, _MIDNIGHT))
    while day <= last_day:
        next_day = day + _DAY
        off_next = zone.utcoffset(datetime.combine(next_day, _MIDNIGHT))
        rule = _prepare(overrides[day]) if day in overrides else weekly.get(day.weekday())
        if rule and day not in blocked_days:
            midnight = datetime.combine(day, _MIDNIGHT, tzinfo=UTC)
            transition = None if off == off_next else _day_transition(zone, day, off, off_next)
            count_before = len(windows)
            if transition is None:
                shift = midnight - off
                for start, end in rule:
                    append((shift + start, shift + end))
            else:
                instant, before, after = transition
                fold_end = instant + (before - after) if after < before else None
                for start, end in rule:
                    first = _map_wall(midnight + start, transition)
                    last = _map_wall(midnight + end, transition)
                    if fold_end is not None and first < fold_end and last > instant:
                        # The repeated wall times [instant, fold_end) are dropped: up to two pieces.
                        if first < instant:
                            append((first, instant))
                        if last > fold_end:
                            append((max(first, fold_end), last))
                    elif first < last:
                        append((first, last))
            if not overlapping:
                for i in range(max(count_before, 1), len(windows)):
                    if windows[i][0] < windows[i - 1][1]:
                        overlapping = True
                        break
        day, off = next_day, off_next
    if overlapping:
        windows.sort()
    return windows, overlapping


def _merged_busy(
    busy: Iterable[tuple[datetime, datetime]],
    *,
    after: datetime,
    before: datetime,
    widen_before: timedelta,
    widen_after: timedelta,
) -> tuple[list[datetime], list[datetime]]:
    """Busy intervals that end after ``after`` and start before ``before``, widened, merged.

    Returns parallel lists of starts and ends: sorted, disjoint and not touching.
    """
    try:
        relevant = [(start, end) for start, end in busy if end > after and start < before and start < end]
    except TypeError as exc:  # naive datetimes (or no datetimes at all) do not compare with aware ones
        raise ValueError("busy intervals must be pairs of aware datetimes") from exc
    relevant.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    current_end: datetime | None = None
    for start, end in relevant:
        start -= widen_before
        end += widen_after
        if current_end is not None and start <= current_end:
            if end > current_end:
                ends[-1] = current_end = end
        else:
            starts.append(start)
            ends.append(end)
            current_end = end
    return starts, ends


def _sweep(
    windows: list[tuple[datetime, datetime]],
    busy_starts: list[datetime],
    busy_ends: list[datetime],
    duration: timedelta,
    step: timedelta,
    first_start: datetime,
    last_start: datetime,
) -> list[datetime]:
    """Walk windows and merged busy intervals together and emit the aligned free starts."""
    out: list[datetime] = []
    extend = out.extend
    offsets = [_ZERO]  # offsets[i] == i * step, grown on demand
    n_busy = len(busy_starts)
    first_busy = 0  # no busy interval before this one ends after the current window's start
    for anchor, end in windows:
        stop = min(end - duration, last_start)  # the last allowed start in this window
        if stop < first_start or stop < anchor:
            continue
        while first_busy < n_busy and busy_ends[first_busy] <= anchor:
            first_busy += 1
        current = anchor if anchor >= first_start else anchor - ((anchor - first_start) // step) * step
        k = first_busy
        while current <= stop:
            while k < n_busy and busy_ends[k] <= current:
                k += 1
            if k < n_busy and busy_starts[k] < current + duration:
                # The call at `current` would run into busy interval k: jump past it.
                current = anchor - ((anchor - busy_ends[k]) // step) * step
                k += 1
                continue
            free_until = stop if k == n_busy else min(stop, busy_starts[k] - duration)
            count = (free_until - current) // step + 1
            if count > len(offsets):
                offsets = [step * i for i in range(max(count, 2 * len(offsets)))]
            extend(map(current.__add__, offsets[:count]))
            if k == n_busy or busy_starts[k] >= end:
                break
            current = anchor - ((anchor - busy_ends[k]) // step) * step
            k += 1
    return out
