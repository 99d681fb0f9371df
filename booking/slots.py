"""Free slots: coaching's rules joined with booking's rows, then the pure engine.

One load, a fixed number of queries whatever the window (weekly hours, date overrides,
busy time = active bookings, live waitlist holds and busy blocks in one UNION ALL; plus the
coach if the offering came without it), then coaching/availability.py does the rest. The same
function answers the slot list, the re-check at booking time and "the next free times".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import BigIntegerField, DateTimeField, Value
from django.utils import timezone

from booking.models import Booking, WaitlistHold
from coaching.availability import free_slots, local_day_bounds
from coaching.models import BusyBlock, DateOverride, Offering, WeeklyHours
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
    the horizon. 3 queries whatever the window, 4 if the offering's coach is not loaded yet.
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
    occurrences, checked in one load (3 queries) over the span they cover."""
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

    # .order_by(): the models' default orderings join the coach table; the engine sorts anyway.
    weekly_rows = (
        WeeklyHours.objects.filter(coach_id=coach.pk).order_by().values_list("weekday", "start", "end")
    )
    override_rows = (
        DateOverride.objects.filter(coach_id=coach.pk, date__gte=first_day, date__lte=last_day)
        .order_by()
        .values_list("date", "start", "end")
    )
    bookings = Booking.objects.filter(
        coach_id=coach.pk,
        status__in=Booking.ACTIVE_STATUSES,
        blocked_start__lt=load_end,
        blocked_end__gt=load_start,
    ).order_by()
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    # A waitlist hold blocks like a booking until it expires (the sweep then marks it lapsed).
    holds = WaitlistHold.objects.filter(
        coach_id=coach.pk,
        status=WaitlistHold.Status.HELD,
        expires_at__gt=frozen_now,
        blocked_start__lt=load_end,
        blocked_end__gt=load_start,
    ).order_by()
    if exclude_hold_id is not None:
        holds = holds.exclude(pk=exclude_hold_id)
    blocks = BusyBlock.objects.filter(coach_id=coach.pk, start__lt=load_end, end__gt=load_start).order_by()
    # One round trip for all busy time: (blocked start, blocked end, offering id, call start)
    # for bookings and holds, (start, end, NULL, NULL) for busy blocks.
    columns = ("blocked_start", "blocked_end", "offering_id", "start")
    busy_rows = list(
        bookings.values_list(*columns).union(
            holds.values_list(*columns),
            blocks.values_list(
                "start",
                "end",
                Value(None, output_field=BigIntegerField()),
                Value(None, output_field=DateTimeField()),
            ),
            all=True,
        )
    )
    busy = [(row[0], row[1]) for row in busy_rows]
    booked_per_day: dict[date, int] = {}
    if offering.daily_cap is not None:
        for _, _, offering_id, start in busy_rows:
            if offering_id == offering.pk:
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
