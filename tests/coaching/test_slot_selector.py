"""The slot selector on the database: what removes slots, what does not, and how many queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Booking
from booking.slots import next_free_slots, offering_free_slots, offering_slot_is_free
from coaching.models import Coach, Offering
from tests.factories import (
    BookingFactory,
    BusyBlockFactory,
    DateOverrideFactory,
    OfferingFactory,
    WeeklyHoursFactory,
)

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)  # New York is UTC-4 in June: 09:00 local is 13:00 UTC
TUESDAY = MONDAY + timedelta(days=1)
SATURDAY = MONDAY + timedelta(days=5)
NOW = datetime(2026, 5, 25, tzinfo=UTC)


def local(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    """A New York wall time, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


def monday_slots(offering: Offering) -> list[datetime]:
    return offering_free_slots(offering=offering, start=MONDAY, end=MONDAY, now=NOW)


def every_half_hour(first: datetime, last: datetime) -> list[datetime]:
    count = (last - first) // timedelta(minutes=30) + 1
    return [first + timedelta(minutes=30 * i) for i in range(count)]


def test_it_lists_a_days_slots_as_utc_instants(offering: Offering) -> None:
    """Mon 09:00-17:00 New York with 30-minute calls: 13:00Z to 20:30Z."""
    result = monday_slots(offering)
    assert result == every_half_hour(local(9), local(16, 30))
    assert result[0] == datetime(2026, 6, 1, 13, tzinfo=UTC)
    assert all(s.tzinfo is UTC for s in result)


def test_it_reads_the_dates_in_the_coaches_zone_by_default(offering: Offering) -> None:
    """start=end=Monday without tz is the coach's Monday; in Tokyo, Monday holds Sunday night's nothing."""
    assert monday_slots(offering)
    tokyo = offering_free_slots(
        offering=offering, start=MONDAY, end=MONDAY, tz=ZoneInfo("Asia/Tokyo"), now=NOW
    )
    # Tokyo's Monday is Sunday 11:00 - Monday 11:00 New York: only Monday 09:00-10:30.
    assert tokyo == every_half_hour(local(9), local(10, 30))


def test_it_removes_slots_taken_by_a_booking_and_allows_back_to_back(offering: Offering) -> None:
    """A booking 10:00-10:30 removes that slot only: 09:30 and 10:30 stay."""
    BookingFactory(offering=offering, start=local(10))
    result = monday_slots(offering)
    assert local(10) not in result
    assert local(9, 30) in result
    assert local(10, 30) in result
    assert len(result) == 15


def test_it_keeps_buffers_around_bookings(coach: Coach) -> None:
    """With 15 minutes before and after, a 10:00 booking (blocked 09:45-10:45) keeps 09:00 and 11:00 only."""
    offering = OfferingFactory(coach=coach, buffer_before_minutes=15, buffer_after_minutes=15)
    BookingFactory(offering=offering, start=local(10))
    result = monday_slots(offering)
    assert local(9) in result
    assert local(11) in result
    for taken in (local(9, 30), local(10), local(10, 30)):
        assert taken not in result


def test_it_applies_the_new_calls_buffers_to_another_offerings_booking(
    coach: Coach, offering: Offering
) -> None:
    """A plain booking 10:00-10:30; a call with 30 minutes after cannot start at 09:30 (it ends 10:00 + 30)."""
    buffered = OfferingFactory(coach=coach, buffer_after_minutes=30)
    BookingFactory(offering=offering, start=local(10))
    result = monday_slots(buffered)
    assert local(9) in result
    assert local(9, 30) not in result
    assert local(10, 30) in result


def test_it_removes_slots_under_a_busy_block(offering: Offering) -> None:
    """Busy 12:00-13:00 removes 12:00 and 12:30; 11:30 and 13:00 touch it and stay."""
    BusyBlockFactory(coach=offering.coach, start=local(12), end=local(13))
    result = monday_slots(offering)
    assert local(12) not in result
    assert local(12, 30) not in result
    assert local(11, 30) in result
    assert local(13) in result


@pytest.mark.parametrize(
    "status",
    [Booking.Status.CANCELLED, Booking.Status.DECLINED, Booking.Status.COMPLETED, Booking.Status.NO_SHOW],
)
def test_it_ignores_bookings_that_no_longer_hold_the_time(offering: Offering, status: str) -> None:
    BookingFactory(offering=offering, start=local(10), status=status)
    assert local(10) in monday_slots(offering)


def test_it_counts_a_pending_booking_as_taken(offering: Offering) -> None:
    BookingFactory(offering=offering, start=local(10), status=Booking.Status.PENDING)
    assert local(10) not in monday_slots(offering)


def test_it_ignores_other_coaches_time(offering: Offering) -> None:
    other = OfferingFactory()
    BookingFactory(offering=other, start=local(10))
    BusyBlockFactory(coach=other.coach, start=local(11), end=local(12))
    assert len(monday_slots(offering)) == 16


def test_it_closes_a_date_with_an_unavailable_override(offering: Offering) -> None:
    DateOverrideFactory(coach=offering.coach, date=MONDAY)
    assert monday_slots(offering) == []
    assert offering_free_slots(offering=offering, start=TUESDAY, end=TUESDAY, now=NOW)


def test_it_opens_a_saturday_with_extra_hours(offering: Offering) -> None:
    """Saturday has no weekly hours; an override 10:00-12:00 gives four slots."""
    DateOverrideFactory(coach=offering.coach, date=SATURDAY, start=time(10), end=time(12))
    result = offering_free_slots(offering=offering, start=SATURDAY, end=SATURDAY + timedelta(days=1), now=NOW)
    assert result == every_half_hour(local(10, day=SATURDAY), local(11, 30, day=SATURDAY))


def test_it_lets_override_windows_replace_the_weekly_hours(offering: Offering) -> None:
    DateOverrideFactory(coach=offering.coach, date=MONDAY, start=time(8), end=time(9))
    DateOverrideFactory(coach=offering.coach, date=MONDAY, start=time(18), end=time(19))
    assert monday_slots(offering) == [local(8), local(8, 30), local(18), local(18, 30)]


def test_it_lets_unavailable_win_over_windows_on_the_same_date(offering: Offering) -> None:
    DateOverrideFactory(coach=offering.coach, date=MONDAY, start=time(8), end=time(9))
    DateOverrideFactory(coach=offering.coach, date=MONDAY)
    assert monday_slots(offering) == []


def test_it_stops_offering_a_day_at_the_cap(coach: Coach) -> None:
    """Cap 2: two active bookings of this offering close Monday; others do not count."""
    capped = OfferingFactory(coach=coach, daily_cap=2)
    other = OfferingFactory(coach=coach)
    BookingFactory(offering=capped, start=local(9))
    BookingFactory(offering=capped, start=local(10), status=Booking.Status.CANCELLED)
    BookingFactory(offering=other, start=local(11))
    assert len(monday_slots(capped)) == 14  # one booked, one cancelled, one of another offering

    BookingFactory(offering=capped, start=local(16, 30))  # the last slot of the day
    assert monday_slots(capped) == []
    assert offering_free_slots(offering=capped, start=TUESDAY, end=TUESDAY, now=NOW)


def test_it_counts_the_cap_on_the_coaches_date_not_the_utc_date(coach: Coach) -> None:
    """An evening window 19:00-21:00 New York is after midnight UTC; its bookings count for Monday."""
    WeeklyHoursFactory(coach=coach, weekday=0, start=time(19), end=time(21))
    capped = OfferingFactory(coach=coach, daily_cap=1)
    BookingFactory(offering=capped, start=local(20, 30))  # 00:30 UTC on Tuesday
    assert monday_slots(capped) == []
    assert offering_free_slots(offering=capped, start=TUESDAY, end=TUESDAY, now=NOW)


def test_it_applies_minimum_notice_from_now(coach: Coach) -> None:
    """Two hours' notice at 09:10 New York: the first slot is 11:30."""
    offering = OfferingFactory(coach=coach, min_notice_minutes=120)
    result = offering_free_slots(offering=offering, start=MONDAY, end=MONDAY, now=local(9, 10))
    assert result[0] == local(11, 30)


@pytest.mark.time_machine(datetime(2026, 6, 1, 13, 10, tzinfo=UTC))
def test_it_reads_the_clock_when_now_is_not_given(offering: Offering) -> None:
    """At 09:10 New York with no notice, the first slot left today is 09:30."""
    assert offering_free_slots(offering=offering, start=MONDAY, end=MONDAY)[0] == local(9, 30)


def test_it_stops_at_the_horizon(coach: Coach) -> None:
    """A 7-day horizon from Monday 00:00 UTC: nothing after the next Monday 00:00 UTC."""
    offering = OfferingFactory(coach=coach, horizon_days=7)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    result = offering_free_slots(offering=offering, start=MONDAY, end=MONDAY + timedelta(days=365), now=now)
    assert result[-1] == local(16, 30, day=MONDAY + timedelta(days=4))
    assert len(result) == 5 * 16


def test_it_returns_nothing_for_a_window_in_the_past_or_reversed(offering: Offering) -> None:
    assert offering_free_slots(offering=offering, start=MONDAY, end=MONDAY, now=local(18)) == []
    assert offering_free_slots(offering=offering, start=TUESDAY, end=MONDAY, now=NOW) == []


@pytest.mark.parametrize("days", [1, 30, 365])
def test_it_uses_the_same_few_queries_whatever_the_window(
    offering: Offering, days: int, django_assert_max_num_queries: object
) -> None:
    """At most 6 queries for 1, 30 or 365 days; in fact 2: the coach, then weekly hours, overrides
    and busy time in one UNION."""
    for i in range(10):
        BookingFactory(offering=offering, start=local(10, day=MONDAY + timedelta(days=i)))
        BusyBlockFactory(coach=offering.coach, start=local(12, day=MONDAY + timedelta(days=i)))
        DateOverrideFactory(coach=offering.coach, date=MONDAY + timedelta(days=20 + i))
    fresh = Offering.objects.get(pk=offering.pk)  # the coach not loaded yet
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:  # type: ignore[operator]
        result = offering_free_slots(
            offering=fresh, start=MONDAY, end=MONDAY + timedelta(days=days - 1), now=NOW
        )
    assert result
    assert len(queries) == 2


def test_it_needs_one_query_less_when_the_coach_is_loaded(offering: Offering) -> None:
    fresh = Offering.objects.select_related("coach").get(pk=offering.pk)
    for days in (1, 30, 365):
        with CaptureQueriesContext(connection) as queries:
            offering_free_slots(offering=fresh, start=MONDAY, end=MONDAY + timedelta(days=days), now=NOW)
        assert len(queries) == 1


def test_it_rechecks_a_single_free_slot(offering: Offering) -> None:
    assert offering_slot_is_free(offering=offering, start=local(10), now=NOW)
    assert offering_slot_is_free(offering=offering, start=local(10).astimezone(NY), now=NOW)


def test_it_refuses_a_slot_taken_a_moment_ago(offering: Offering) -> None:
    BookingFactory(offering=offering, start=local(10))
    assert not offering_slot_is_free(offering=offering, start=local(10), now=NOW)
    assert offering_slot_is_free(offering=offering, start=local(10, 30), now=NOW)


@pytest.mark.parametrize(
    "start",
    [
        local(10, 15),  # not on the step
        local(8),  # before the day's hours
        local(16, 45),  # would end after 17:00
        local(10, day=SATURDAY),  # no hours on Saturday
        local(10, day=MONDAY - timedelta(days=14)),  # in the past
        local(10, day=MONDAY + timedelta(days=70)),  # past the 60-day horizon
    ],
    ids=["off-step", "before-hours", "runs-past-hours", "saturday", "past", "past-horizon"],
)
def test_it_refuses_a_slot_outside_the_rules(offering: Offering, start: datetime) -> None:
    assert not offering_slot_is_free(offering=offering, start=start, now=NOW)


def test_it_ignores_the_booking_being_rescheduled(coach: Coach) -> None:
    """Moving a 10:00 call (15-minute buffers) by 30 minutes is free once its own time is left out."""
    offering = OfferingFactory(coach=coach, buffer_before_minutes=15, buffer_after_minutes=15, daily_cap=1)
    booking = BookingFactory(offering=offering, start=local(10))
    assert not offering_slot_is_free(offering=offering, start=local(10, 30), now=NOW)
    assert offering_slot_is_free(
        offering=offering, start=local(10, 30), now=NOW, exclude_booking_id=booking.pk
    )


def test_it_refuses_naive_datetimes(offering: Offering) -> None:
    with pytest.raises(ValueError, match="aware"):
        offering_slot_is_free(offering=offering, start=datetime(2026, 6, 1, 10), now=NOW)
    with pytest.raises(ValueError, match="aware"):
        next_free_slots(offering=offering, after=datetime(2026, 6, 1, 10), now=NOW)


def test_it_suggests_the_next_free_times(offering: Offering) -> None:
    """After a taken 16:00 call on Friday, the next free times are 16:30 and Monday 09:00, 09:30."""
    friday = MONDAY + timedelta(days=4)
    BookingFactory(offering=offering, start=local(16, day=friday))
    result = next_free_slots(offering=offering, after=local(15, 30, day=friday), now=NOW)
    next_monday = MONDAY + timedelta(days=7)
    assert result == [local(16, 30, day=friday), local(9, day=next_monday), local(9, 30, day=next_monday)]


def test_it_looks_beyond_the_first_chunk_for_next_free_times(offering: Offering) -> None:
    """Three weeks off: the next free time is found after them."""
    for i in range(21):
        DateOverrideFactory(coach=offering.coach, date=MONDAY + timedelta(days=i))
    result = next_free_slots(offering=offering, after=local(0), limit=1, now=NOW)
    assert result == [local(9, day=MONDAY + timedelta(days=21))]


def test_it_suggests_nothing_past_the_horizon(coach: Coach) -> None:
    offering = OfferingFactory(coach=coach, horizon_days=3)
    assert next_free_slots(offering=offering, after=local(0, day=MONDAY + timedelta(days=10)), now=NOW) == []
