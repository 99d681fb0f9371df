"""Free slots: coaching's rules joined with booking's rows, then the pure engine.

One query whatever the window (weekly hours, date overrides and busy time = active bookings,
live waitlist holds and busy blocks, in one UNION ALL written by hand; plus the coach if the
offering came without it), then coaching/availability.py does the rest. The same
function answers the slot list, the re-check at booking time and "the next free times".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from booking.models import Booking, WaitlistHold
from coaching.availability import free_slots, local_day_bounds
from coaching.models import Offering
from coaching.selectors import build_availability, slot_rules_for

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
# How far ahead next_free_slots looks per round of queries.
_LOOKAHEAD_CHUNK = timedelta(days=14)


def offering_free_slots(
    *,
    offering: Offering,
    start: date,
    end: date,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
) -> list[datetime]:
    """Free slot starts (aware UTC, sorted) of ``offering`` on the dates ``start``..``end``.

    The dates are in ``tz`` (the coach's zone by default), ``end`` included: the
    window is [``start`` 00:00, ``end`` + 1 day 00:00) in ``tz``, clamped to now and
    the horizon. One query whatever the window, 2 if the offering's coach is not loaded yet.
    """
    if end < start:
        return []
    zone = tz if tz is not None else offering.coach.zone
    window_start = local_day_bounds(zone, start)[0]
    window_end = local_day_bounds(zone, end)[1]
    return _free_slots(offering=offering, window_start=window_start, window_end=window_end, now=now)


def offering_slot_is_free(
    *,
    offering: Offering,
    start: datetime,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    exclude_hold_id: int | None = None,
) -> bool:
    """Whether a call of ``offering`` can start at ``start`` (aware) right now.

    The re-check at booking time: the same rules and queries as the slot list.
    ``exclude_booking_id`` leaves one booking out (its own time, when rescheduling);
    ``exclude_hold_id`` one waitlist hold (the holder taking their held time).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    slots = _free_slots(
        offering=offering,
        window_start=start,
        window_end=start + _TICK,
        now=now,
        exclude_booking_id=exclude_booking_id,
        exclude_hold_id=exclude_hold_id,
    )
    return slots == [start]


def offering_free_between(
    *, offering: Offering, start: datetime, end: datetime, now: datetime | None = None
) -> list[datetime]:
    """Free slot starts of ``offering`` in [``start``, ``end``) (aware instants): a waitlist
    entry's range."""
    return _free_slots(
        offering=offering, window_start=start.astimezone(UTC), window_end=end.astimezone(UTC), now=now
    )


def offering_free_among(
    *, offering: Offering, starts: list[datetime], now: datetime | None = None
) -> set[datetime]:
    """Which of ``starts`` (aware) a call of ``offering`` can start at right now: a series'
    occurrences, checked in one load (one query) over the span they cover."""
    if not starts:
        return set()
    wanted = {start.astimezone(UTC) for start in starts}
    slots = _free_slots(offering=offering, window_start=min(wanted), window_end=max(wanted) + _TICK, now=now)
    return wanted.intersection(slots)


def next_free_slots(
    *, offering: Offering, after: datetime, limit: int = 3, now: datetime | None = None
) -> list[datetime]:
    """Up to ``limit`` free slot starts strictly after ``after``, up to the horizon.

    For "this time was just taken; these are the next free times". Looks ahead in
    chunks, so the usual case costs one round of queries.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")
    frozen_now = now if now is not None else timezone.now()
    if limit <= 0:
        return []
    found: list[datetime] = []
    horizon_end = frozen_now + timedelta(days=offering.horizon_days)
    chunk_start = max(after + _TICK, frozen_now).astimezone(UTC)
    while chunk_start <= horizon_end and len(found) < limit:
        chunk_end = chunk_start + _LOOKAHEAD_CHUNK
        found.extend(
            _free_slots(offering=offering, window_start=chunk_start, window_end=chunk_end, now=frozen_now)
        )
        chunk_start = chunk_end
    return found[:limit]


def _free_slots(
    *,
    offering: Offering,
    window_start: datetime,
    window_end: datetime,
    now: datetime | None,
    exclude_booking_id: int | None = None,
    exclude_hold_id: int | None = None,
) -> list[datetime]:
    frozen_now = (now if now is not None else timezone.now()).astimezone(UTC)
    rules = slot_rules_for(offering)
    # Nothing starts before now or after the horizon: clamp first so that a huge
    # window costs no more than the horizon.
    window_start = max(window_start, frozen_now)
    window_end = min(window_end, frozen_now + timedelta(days=offering.horizon_days) + _DAY)
    if window_start >= window_end:
        return []

    coach = offering.coach
    zone = coach.zone
    # Whole coach-local days with a day of margin: the engine expands rules per local
    # date, and the per-day cap counts every booking of a day, not only those in the window.
    first_day = window_start.astimezone(zone).date() - _DAY
    last_day = window_end.astimezone(zone).date() + _DAY
    load_start = local_day_bounds(zone, first_day)[0] - rules.buffer_before
    load_end = local_day_bounds(zone, last_day)[1] + rules.buffer_after

    rows = _load(
        coach_id=coach.pk,
        first_day=first_day,
        last_day=last_day,
        load_start=load_start,
        load_end=load_end,
        now=frozen_now,
        exclude_booking_id=exclude_booking_id,
        exclude_hold_id=exclude_hold_id,
    )
    weekly_rows = [
        (weekday, start, end) for kind, weekday, _, start, end, _, _, _, _ in rows if kind == _WEEKLY
    ]
    override_rows = [(day, start, end) for kind, _, day, start, end, _, _, _, _ in rows if kind == _OVERRIDE]
    busy = [(row[5], row[6]) for row in rows if row[0] >= _BOOKED]
    booked_per_day: dict[date, int] = {}
    if offering.daily_cap is not None:
        for kind, *_, offering_id, start in rows:
            if kind == _BOOKED and offering_id == offering.pk:
                day = start.astimezone(zone).date()
                booked_per_day[day] = booked_per_day.get(day, 0) + 1

    return free_slots(
        availability=build_availability(zone=zone, weekly_rows=weekly_rows, override_rows=override_rows),
        rules=rules,
        busy=busy,
        now=frozen_now,
        window_start=window_start,
        window_end=window_end,
        booked_per_day=booked_per_day,
    )


# ---------------------------------------------------------------------------
# The one query: everything the engine needs about a coach, in one round trip
# ---------------------------------------------------------------------------
_WEEKLY, _OVERRIDE, _BOOKED, _BLOCK = 0, 1, 2, 3


# The UNION ALL of weekly hours, date overrides, active bookings, live holds and busy blocks as
# rows (kind, weekday, date, start time, end time, busy start, busy end, offering id, call start).
# Written by hand: building it through the ORM cost more than running it. Instants come as text,
# parsed by datetime.fromisoformat: Django's PostgreSQL loader for timestamptz (a Python method
# per value) cost four times as much for a coach with a few hundred busy intervals. The NULLs are
# cast so that PostgreSQL types each column alike in every branch (SQLite takes any type name); the
# exclusions compare with -1, an id no row has, when unused. A waitlist hold blocks like a
# booking until it expires (the sweep then marks it lapsed).
_SQL = """
SELECT 0, "weekday", CAST(NULL AS date), "start", "end", CAST(NULL AS text),
       CAST(NULL AS text), CAST(NULL AS bigint), CAST(NULL AS text)
  FROM "coaching_weeklyhours" WHERE "coach_id" = %s
UNION ALL
SELECT 1, CAST(NULL AS bigint), "date", "start", "end", CAST(NULL AS text),
       CAST(NULL AS text), CAST(NULL AS bigint), CAST(NULL AS text)
  FROM "coaching_dateoverride" WHERE "coach_id" = %s AND "date" >= %s AND "date" <= %s
UNION ALL
SELECT 2, CAST(NULL AS bigint), CAST(NULL AS date), CAST(NULL AS time), CAST(NULL AS time),
       CAST("blocked_start" AS text), CAST("blocked_end" AS text), "offering_id", CAST("start" AS text)
  FROM "booking_booking" WHERE "coach_id" = %s AND "status" IN (%s, %s)
   AND "blocked_start" < %s AND "blocked_end" > %s AND "id" <> %s
UNION ALL
SELECT 2, CAST(NULL AS bigint), CAST(NULL AS date), CAST(NULL AS time), CAST(NULL AS time),
       CAST("blocked_start" AS text), CAST("blocked_end" AS text), "offering_id", CAST("start" AS text)
  FROM "booking_waitlisthold" WHERE "coach_id" = %s AND "status" = %s AND "expires_at" > %s
   AND "blocked_start" < %s AND "blocked_end" > %s AND "id" <> %s
UNION ALL
SELECT 3, CAST(NULL AS bigint), CAST(NULL AS date), CAST(NULL AS time), CAST(NULL AS time),
       CAST("start" AS text), CAST("end" AS text), CAST(NULL AS bigint), CAST(NULL AS text)
  FROM "coaching_busyblock" WHERE "coach_id" = %s AND "start" < %s AND "end" > %s
"""
if len(Booking.ACTIVE_STATUSES) != 2:  # the two placeholders of the IN above
    raise RuntimeError("booking/slots.py: update _SQL for Booking.ACTIVE_STATUSES")


def _load(
    *,
    coach_id: int,
    first_day: date,
    last_day: date,
    load_start: datetime,
    load_end: datetime,
    now: datetime,
    exclude_booking_id: int | None,
    exclude_hold_id: int | None,
) -> list[tuple[Any, ...]]:
    ops = connection.ops
    begin, finish = ops.adapt_datetimefield_value(load_start), ops.adapt_datetimefield_value(load_end)
    params = [
        coach_id,
        coach_id,
        ops.adapt_datefield_value(first_day),
        ops.adapt_datefield_value(last_day),
        coach_id,
        *Booking.ACTIVE_STATUSES,
        finish,
        begin,
        -1 if exclude_booking_id is None else exclude_booking_id,
        coach_id,
        WaitlistHold.Status.HELD,
        ops.adapt_datetimefield_value(now),
        finish,
        begin,
        -1 if exclude_hold_id is None else exclude_hold_id,
        coach_id,
        finish,
        begin,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [str(p) if isinstance(p, str) else p for p in params])
        rows = cursor.fetchall()
    return [_typed_row(row) for row in rows]


def _typed_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Instants from their text (PostgreSQL's ISO form with an offset, or SQLite's UTC without);
    SQLite hands back text for some dates and times too (the columns whose first branch declares a
    type come converted)."""
    kind, weekday, day, start, end, busy_start, busy_end, offering_id, call_start = row
    if kind >= _BOOKED:
        return (kind, None, None, None, None, _utc(busy_start), _utc(busy_end), offering_id, _utc(call_start))
    return (kind, weekday, _typed(date, day), _typed(time, start), _typed(time, end), None, None, None, None)


def _typed(kind: type[date] | type[time], value: Any) -> Any:
    return kind.fromisoformat(value) if isinstance(value, str) else value


def _utc(value: Any) -> Any:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if isinstance(moment, datetime) and moment.tzinfo is None else moment
