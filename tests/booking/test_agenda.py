"""The dashboard's home, the agenda: today's calls and the next seven days in the coach's zone,
bookings waiting for approval (with their count in the navigation), calls that need an outcome,
and a useful empty page for a brand-new coach."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from booking.models import Booking
from coaching.models import Coach, Offering
from tests.factories import BookingFactory, CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db

AGENDA = "/dashboard/"
# NOW is Tuesday 1 December 2026, 07:00 in New York; SLOT Wednesday 2 December 10:00 there.
TODAY_10AM = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def html(response: Any) -> str:
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def section(page: str, title_id: str) -> str:
    """The HTML of the agenda's section headed by ``title_id``."""
    match = re.search(rf'<section[^>]*aria-labelledby="{title_id}"[^>]*>(.*?)</section>', page, re.S)
    assert match, title_id
    return match.group(1)


def refs(fragment: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/dashboard/bookings/(BK-[0-9A-Z]+)/"', fragment)))


@pytest.fixture
def video_call(coach: Coach) -> Offering:
    return OfferingFactory(
        coach=coach,
        slug="video",
        title="Video session",
        location_kind=Offering.LocationKind.VIDEO,
        location_details="https://meet.example.com/ada",
    )


@time_machine.travel(NOW, tick=False)
def test_it_lists_todays_calls_with_client_time_offering_join_link_and_answers(
    coach_client: Client, video_call: Offering
) -> None:
    booking = BookingFactory(
        offering=video_call,
        start=TODAY_10AM,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        answers={"What would you like to talk about?": "Leading a new team"},
    )
    today = section(html(coach_client.get(AGENDA)), "today-title")
    assert refs(today) == [booking.reference]
    assert "10:00–10:30" in today
    assert "Video session" in today
    assert "grace@example.com" in today
    assert 'href="https://meet.example.com/ada"' in today
    assert ">Join<" in today
    assert "<details" in today and "What would you like to talk about?" in today
    assert "Leading a new team" in today
    # The client is in Berlin: their own time shows too.
    assert "16:00 for them (Europe/Berlin)" in today


@time_machine.travel(NOW, tick=False)
def test_it_shows_no_join_link_for_a_call_without_one(coach_client: Client, offering: Offering) -> None:
    offering.location_kind = Offering.LocationKind.PHONE
    offering.save()
    BookingFactory(offering=offering, start=TODAY_10AM)
    assert ">Join<" not in section(html(coach_client.get(AGENDA)), "today-title")


@time_machine.travel(NOW, tick=False)
def test_it_lists_the_next_seven_days_by_day_and_nothing_after(
    coach_client: Client, offering: Offering
) -> None:
    tomorrow = BookingFactory(offering=offering, start=SLOT)
    day_seven = BookingFactory(offering=offering, start=TODAY_10AM + timedelta(days=7))
    BookingFactory(offering=offering, start=TODAY_10AM + timedelta(days=8))
    week = section(html(coach_client.get(AGENDA)), "week-title")
    assert refs(week) == [tomorrow.reference, day_seven.reference]
    assert "Tomorrow, Wednesday 2 December" in week
    assert "Tuesday 8 December" in week
    assert "Wednesday 9 December" not in week


@time_machine.travel(NOW, tick=False)
def test_it_leaves_out_cancelled_and_declined_calls_and_other_coaches(
    coach_client: Client, offering: Offering
) -> None:
    BookingFactory(offering=offering, start=TODAY_10AM, status=Booking.Status.CANCELLED)
    BookingFactory(offering=offering, start=SLOT, status=Booking.Status.DECLINED)
    stranger = OfferingFactory(coach=CoachFactory(slug="other"))
    BookingFactory(offering=stranger, start=TODAY_10AM, client_name="Not Yours")
    BookingFactory(offering=stranger, start=SLOT, status=Booking.Status.PENDING, client_name="Not Yours")
    BookingFactory(offering=stranger, start=NOW - timedelta(days=1), client_name="Not Yours")
    page = html(coach_client.get(AGENDA))
    assert "Not Yours" not in page
    assert refs(section(page, "today-title")) == []
    assert "No calls today." in page
    assert "No calls in the next seven days" in page
    assert "Nothing waiting for your approval." in page
    assert "No past calls waiting for an outcome." in page


@time_machine.travel(NOW, tick=False)
def test_it_lists_pending_bookings_with_approve_and_decline_and_counts_them_in_the_navigation(
    coach_client: Client, offering: Offering
) -> None:
    first = BookingFactory(offering=offering, start=SLOT, status=Booking.Status.PENDING)
    second = BookingFactory(offering=offering, start=SLOT + timedelta(days=1), status=Booking.Status.PENDING)
    # Its time has passed: it can't be approved any more, so it neither waits nor counts.
    BookingFactory(offering=offering, start=NOW - timedelta(hours=2), status=Booking.Status.PENDING)
    page = html(coach_client.get(AGENDA))
    pending = section(page, "pending-title")
    assert refs(pending) == [first.reference, second.reference]
    for booking in (first, second):
        for action in ("approve", "decline"):
            assert reverse("dashboard_booking_action", args=[booking.reference, action]) in pending
    nav = page.split('aria-label="Dashboard"')[1].split("</nav>")[0]
    assert re.search(
        r'Bookings <span class="badge[^"]*">2<span class="visually-hidden"> waiting for approval', nav
    )
    # Every dashboard page shows it.
    assert '2<span class="visually-hidden"> waiting for approval' in html(
        coach_client.get("/dashboard/hours/")
    )


@time_machine.travel(NOW, tick=False)
def test_it_shows_no_count_when_nothing_waits(coach_client: Client, offering: Offering) -> None:
    BookingFactory(offering=offering, start=SLOT)
    assert "waiting for approval</span>" not in html(coach_client.get(AGENDA)).split("</nav>")[0]


@time_machine.travel(NOW, tick=False)
def test_it_asks_for_the_outcome_of_confirmed_calls_that_ended(
    coach_client: Client, offering: Offering
) -> None:
    ended = BookingFactory(offering=offering, start=NOW - timedelta(days=1))
    BookingFactory(offering=offering, start=NOW - timedelta(days=2), status=Booking.Status.COMPLETED)
    BookingFactory(offering=offering, start=NOW - timedelta(days=3), status=Booking.Status.NO_SHOW)
    BookingFactory(offering=offering, start=NOW - timedelta(days=4), status=Booking.Status.CANCELLED)
    # Still running at NOW: not over yet, so no outcome is asked.
    BookingFactory(offering=offering, start=NOW - timedelta(minutes=10))
    outcome = section(html(coach_client.get(AGENDA)), "outcome-title")
    assert refs(outcome) == [ended.reference]
    assert reverse("dashboard_booking_action", args=[ended.reference, "complete"]) in outcome
    assert reverse("dashboard_booking_action", args=[ended.reference, "no-show"]) in outcome
    assert "Mark completed" in outcome and "Mark no-show" in outcome


@time_machine.travel(NOW, tick=False)
def test_a_call_marked_completed_leaves_the_outcome_list(coach_client: Client, offering: Offering) -> None:
    ended = BookingFactory(offering=offering, start=NOW - timedelta(days=1))
    response = coach_client.post(reverse("dashboard_booking_action", args=[ended.reference, "complete"]))
    assert response.status_code == HTTPStatus.FOUND
    assert refs(section(html(coach_client.get(AGENDA)), "outcome-title")) == []


@time_machine.travel(NOW, tick=False)
def test_a_brand_new_coach_gets_an_empty_agenda_with_links_to_share(
    coach_client: Client, coach: Coach
) -> None:
    page = html(coach_client.get(AGENDA))
    assert "No bookings yet" in page
    assert "No calls today." in page
    assert reverse("dashboard_offering_create") in page
    assert 'href="/ada/"' in page


@time_machine.travel(NOW, tick=False)
def test_a_coach_with_an_offering_gets_its_address_to_share(coach_client: Client, offering: Offering) -> None:
    page = section(html(coach_client.get(AGENDA)), "start-title")
    assert 'href="/ada/intro-call/"' in page
    assert reverse("dashboard_preview") in page


@time_machine.travel(NOW, tick=False)
def test_the_start_panel_goes_once_there_is_a_booking(coach_client: Client, offering: Offering) -> None:
    BookingFactory(offering=offering, start=SLOT)
    assert "No bookings yet" not in html(coach_client.get(AGENDA))


# ---------------------------------------------------------------------------
# Days in the coach's zone, across a DST change
# ---------------------------------------------------------------------------
# Sunday 1 November 2026 is the day New York falls back: 00:00 EDT is 04:00 UTC and the next
# midnight (EST) is 05:00 UTC, a 25-hour day.
FALL_BACK_MORNING = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST


@time_machine.travel(FALL_BACK_MORNING, tick=False)
def test_today_runs_from_midnight_to_midnight_in_the_coach_zone_on_a_dst_day(
    coach_client: Client, offering: Offering
) -> None:
    late_tonight = BookingFactory(
        offering=offering, start=datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    )  # 23:30 EST
    first_thing = BookingFactory(
        offering=offering, start=datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    )  # 00:00 EDT
    next_midnight = BookingFactory(
        offering=offering, start=datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    )  # Mon 00:00
    last_night = BookingFactory(
        offering=offering, start=datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    )  # Sat 23:30
    page = html(coach_client.get(AGENDA))
    today = section(page, "today-title")
    assert refs(today) == [first_thing.reference, late_tonight.reference]
    assert "00:00–00:30" in today and "23:30–00:00" in today
    week = section(page, "week-title")
    assert refs(week)[0] == next_midnight.reference
    assert "Tomorrow, Monday 2 November" in week
    assert last_night.reference not in refs(today) + refs(week)
    # Both calls of before dawn are over: each asks for its outcome, latest first.
    assert refs(section(page, "outcome-title")) == [first_thing.reference, last_night.reference]


@time_machine.travel(datetime(2026, 12, 1, 4, 30, tzinfo=UTC), tick=False)  # Mon 30 Nov 23:30 in New York
def test_the_coach_zone_decides_which_day_is_today(coach_client: Client, offering: Offering) -> None:
    """At 04:30 UTC on Tuesday it is still Monday in New York: a Tuesday call is tomorrow's."""
    tuesday = BookingFactory(offering=offering, start=TODAY_10AM)
    page = html(coach_client.get(AGENDA))
    assert "Monday 30 November" in section(page, "today-title")
    assert refs(section(page, "today-title")) == []
    assert refs(section(page, "week-title")) == [tuesday.reference]


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------
def _fill(offering: Offering, count: int) -> None:
    """``count`` bookings of each kind the agenda shows: today and this week, pending, ended."""
    for n in range(count):
        BookingFactory(
            offering=offering, start=TODAY_10AM + timedelta(minutes=30 * n), answers={"Q": f"A{n}"}
        )
        BookingFactory(offering=offering, start=SLOT + timedelta(days=2, minutes=30 * n))
        BookingFactory(
            offering=offering, start=SLOT + timedelta(minutes=30 * n), status=Booking.Status.PENDING
        )
        BookingFactory(offering=offering, start=NOW - timedelta(days=1, minutes=30 * n))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("count", [3, 40])
def test_it_reads_the_agenda_in_a_fixed_number_of_queries(
    coach_client: Client, offering: Offering, django_assert_max_num_queries: Any, count: int
) -> None:
    """Session, user, coach; calls in the window, pending, ended, offerings; the layout's
    "is a coach" and the navigation's count: nine, however many bookings."""
    _fill(offering, count)
    # +1: passes about to expire (practice.selectors.passes_expiring).
    with django_assert_max_num_queries(10):
        page = html(coach_client.get(AGENDA))
    # Today's run from 10:00 every 30 minutes: 28 of them fit before midnight.
    assert len(refs(section(page, "today-title"))) == min(count, 28)
    assert len(refs(section(page, "pending-title"))) == min(count, 10)
