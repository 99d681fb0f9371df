"""The dashboard's week calendar: Monday to Sunday in the coach's zone, the coach's bookings
(pending ones marked, cancelled and declined left out) and busy time from connected calendars,
by day in time order, with links between weeks; bad ``?week=`` shows this week."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Booking
from coaching.models import BusyCalendar, Coach, Offering
from tests.factories import BookingFactory, BusyBlockFactory, CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

CALENDAR = "/dashboard/calendar/"


def html(response: Any) -> str:
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def days(page: str) -> dict[str, str]:
    """Each day's HTML by its ISO date, in page order."""
    found = {}
    for chunk in page.split('<li class="calendar-day')[1:]:
        match = re.search(r'id="day-([0-9-]+)"', chunk)
        assert match
        found[match.group(1)] = chunk
    return found


def refs(fragment: str) -> list[str]:
    return re.findall(r'href="/dashboard/bookings/(BK-[0-9A-Z]+)/"', fragment)


def test_it_shows_monday_to_sunday_of_this_week_in_the_coach_zone(
    coach_client: Client, offering: Offering
) -> None:
    page = html(coach_client.get(CALENDAR))
    assert list(days(page)) == [f"2026-11-{d}" for d in (30,)] + [f"2026-12-0{d}" for d in range(1, 7)]
    assert "30 November – 6 December 2026" in page
    assert "(this week)" in page
    assert 'href="/dashboard/calendar/?week=2026-11-23"' in page
    assert 'href="/dashboard/calendar/?week=2026-12-07"' in page
    assert 'aria-current="page">This week' in page


def test_it_lays_out_bookings_and_busy_time_by_day_in_time_order(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    later = BookingFactory(offering=offering, start=SLOT + timedelta(hours=3), client_name="Later Client")
    earlier = BookingFactory(offering=offering, start=SLOT, client_name="Early Client")
    pending = BookingFactory(offering=offering, start=SLOT + timedelta(days=1), status=Booking.Status.PENDING)
    work = BusyCalendar.objects.create(coach=coach, name="Work", url="https://example.com/work.ics")
    BusyBlockFactory(coach=coach, calendar=work, start=SLOT + timedelta(hours=1), source="Secret meeting")
    page = html(coach_client.get(CALENDAR))
    wednesday = days(page)["2026-12-02"]
    assert refs(wednesday) == [earlier.reference, later.reference]
    assert wednesday.index("Early Client") < wednesday.index("Busy") < wednesday.index("Later Client")
    assert "(Work)" in wednesday
    assert "Secret meeting" not in page  # the event's own text is not shown
    assert "10:00" in wednesday and "11:00" in wednesday and "13:00" in wednesday
    thursday = days(page)["2026-12-03"]
    assert refs(thursday) == [pending.reference]
    assert "calendar-status-pending" in thursday and "Waiting for approval" in thursday
    assert "Nothing booked" in days(page)["2026-11-30"]


def test_it_leaves_out_cancelled_declined_and_other_coaches_bookings(
    coach_client: Client, offering: Offering
) -> None:
    BookingFactory(offering=offering, start=SLOT, status=Booking.Status.CANCELLED)
    BookingFactory(offering=offering, start=SLOT + timedelta(hours=1), status=Booking.Status.DECLINED)
    done = BookingFactory(offering=offering, start=NOW - timedelta(days=1), status=Booking.Status.COMPLETED)
    other = CoachFactory(slug="other")
    BookingFactory(offering=OfferingFactory(coach=other), start=SLOT, client_name="Not Yours")
    BusyBlockFactory(coach=other, start=SLOT + timedelta(hours=2))
    page = html(coach_client.get(CALENDAR))
    assert refs(page.split('class="calendar-week"')[1]) == [done.reference]
    assert "Not Yours" not in page
    assert "calendar-event-busy" not in page


def test_any_day_of_a_week_shows_that_week_and_the_links_move_by_seven_days(
    coach_client: Client, offering: Offering
) -> None:
    booking = BookingFactory(offering=offering, start=SLOT + timedelta(days=14))
    page = html(coach_client.get(CALENDAR, {"week": "2026-12-17"}))  # a Thursday
    assert list(days(page))[0] == "2026-12-14"
    assert refs(page.split('class="calendar-week"')[1]) == [booking.reference]
    assert "(this week)" not in page
    assert 'href="/dashboard/calendar/?week=2026-12-07"' in page
    assert 'href="/dashboard/calendar/?week=2026-12-21"' in page


@pytest.mark.parametrize(
    "week",
    [
        "",
        "nonsense",
        "2026-13-01",
        "2026-02-30",
        "0001-01-01",
        "9999-12-31",
        "2026-12-01T00:00",
        "\x00",
        "٢٠٢٦-١٢-٠١",
    ],
)
def test_a_bad_week_shows_this_week(coach_client: Client, week: str) -> None:
    page = html(coach_client.get(CALENDAR, {"week": week}))
    assert list(days(page))[0] == "2026-11-30"


def test_another_person_cannot_open_it(client: Client, user) -> None:
    assert client.get(CALENDAR).status_code == HTTPStatus.FOUND
    client.force_login(user)
    assert client.get(CALENDAR).status_code == HTTPStatus.FORBIDDEN


# ---------------------------------------------------------------------------
# Days in the coach's zone across a DST change, and events over midnight
# ---------------------------------------------------------------------------
@time_machine.travel(datetime(2026, 10, 28, 12, tzinfo=UTC), tick=False)
def test_days_follow_the_coach_zone_across_the_fall_back_week(
    coach_client: Client, offering: Offering
) -> None:
    """Week of Mon 26 Oct - Sun 1 Nov 2026 in New York; Sunday is 25 hours long (EDT -> EST)."""
    sunday_late = BookingFactory(
        offering=offering, start=datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    )  # Sun 23:30 EST
    monday_midnight = BookingFactory(
        offering=offering, start=datetime(2026, 11, 2, 5, tzinfo=UTC)
    )  # next week
    sunday_first = BookingFactory(
        offering=offering, start=datetime(2026, 11, 1, 4, tzinfo=UTC)
    )  # Sun 00:00 EDT
    page = html(coach_client.get(CALENDAR))
    sunday = days(page)["2026-11-01"]
    assert refs(sunday) == [sunday_first.reference, sunday_late.reference]
    assert "23:30" in sunday and "00:00" in sunday
    assert monday_midnight.reference not in page
    next_week = html(coach_client.get(CALENDAR, {"week": "2026-11-02"}))
    assert refs(days(next_week)["2026-11-02"]) == [monday_midnight.reference]


def test_busy_time_over_midnight_shows_on_each_day_it_touches(coach_client: Client, coach: Coach) -> None:
    # Wednesday 22:00 to Thursday 02:00 in New York.
    BusyBlockFactory(
        coach=coach, start=datetime(2026, 12, 3, 3, tzinfo=UTC), end=datetime(2026, 12, 3, 7, tzinfo=UTC)
    )
    page = html(coach_client.get(CALENDAR))
    assert "22:00" in days(page)["2026-12-02"] and "into the next day" in days(page)["2026-12-02"]
    assert "from the day before" in days(page)["2026-12-03"] and "02:00" in days(page)["2026-12-03"]


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("count", [3, 40])
def test_it_reads_the_week_in_a_fixed_number_of_queries(
    coach_client: Client, coach: Coach, offering: Offering, django_assert_max_num_queries: Any, count: int
) -> None:
    """Session, user, coach, the week's bookings, its busy time; the layout's "is a coach" and
    the navigation's count: seven, however many bookings and offerings."""
    for n in range(count):
        extra = OfferingFactory(coach=coach) if n % 2 else offering
        BookingFactory(offering=extra, start=SLOT + timedelta(minutes=30 * n))
        BusyBlockFactory(
            coach=coach,
            start=SLOT + timedelta(days=2, minutes=30 * n),
            end=SLOT + timedelta(days=2, minutes=30 * n + 20),
        )
    with django_assert_max_num_queries(7):
        page = html(coach_client.get(CALENDAR))
    assert len(refs(page.split('class="calendar-week"')[1])) == count
