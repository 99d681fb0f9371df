"""Changing weekly hours or date overrides warns about booked calls left outside the hours.

The pages save nothing while calls clash: they list each call (client, offering, time in the
coach's zone) with links to open, move or cancel it, and save only after "Save anyway", which
never touches the bookings. The coach fixture works Mon-Fri 09:00-17:00 in New York; NOW is
Tue 1 Dec 2026 07:00 there and SLOT Wed 2 Dec 10:00.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Booking
from booking.services import booking_cancel, booking_create
from coaching import clashes
from coaching.models import Coach, DateOverride, Offering, WeeklyHours
from tests.factories import (
    BookingFactory,
    CoachFactory,
    DateOverrideFactory,
    OfferingFactory,
    WeeklyHoursFactory,
)
from tests.support import NOW, SLOT, week_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

WORK_WEEK = {f"day{d}-0": ("09:00", "17:00") for d in range(5)}
WEEK_ROWS = [(d, time(9), time(17)) for d in range(5)]


def html(response: Any) -> str:
    return response.content.decode()


def week(**changes: tuple[str, str]) -> dict[str, str]:
    """The fixture's Mon-Fri 09-17 as the form posts it, with ``changes`` (e.g. ``day2-0``)."""
    return week_data(**{**WORK_WEEK, **changes})


def token(response: Any) -> str:
    found = re.search(r'name="confirm" value="([0-9a-f]+)"', html(response))
    assert found, "no “Save anyway” button on the page"
    return found.group(1)


def saved_week(coach: Coach) -> list[tuple[int, time, time]]:
    return list(
        WeeklyHours.objects.filter(coach=coach)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    )


def snapshot(booking: Booking) -> tuple[Any, ...]:
    booking.refresh_from_db()
    return (booking.status, booking.start, booking.end, booking.sequence, booking.updated_at)


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
def test_it_warns_and_saves_nothing_when_new_hours_leave_a_booking_outside(
    coach_client: Client, coach: Coach, book
) -> None:
    booking = book(SLOT)  # Wed 10:00-10:30
    response = coach_client.post(reverse("dashboard_hours"), week(**{"day2-0": ("13:00", "17:00")}))

    assert response.status_code == HTTPStatus.OK
    page = html(response)
    assert "1 booked call falls outside these hours. It stays booked unless you move or cancel it." in page
    assert "Grace Hopper" in page
    assert "Intro call" in page
    assert "Wednesday 2 December 2026, 10:00–10:30" in page
    assert "(America/New_York)" in page
    ref = booking.reference
    assert f'href="{reverse("dashboard_booking", kwargs={"reference": ref})}"' in page
    assert f'href="{reverse("dashboard_booking_reschedule", kwargs={"reference": ref})}"' in page
    cancel = reverse("dashboard_booking_action", kwargs={"reference": ref, "action": "cancel"})
    assert f'href="{cancel}"' in page
    assert ">Save anyway</button>" in page
    assert "Change the hours" in page
    # The entered values are kept in the form, and "Save anyway" posts them again.
    assert 'name="day2-0-start" value="13:00"' in page
    assert '<input type="hidden" name="day2-0-start" value="13:00">' in page
    assert saved_week(coach) == WEEK_ROWS


def test_it_counts_every_clashing_call_in_the_warning(coach_client: Client, coach: Coach, book) -> None:
    for hour in (15, 16, 17):  # Wed 10:00, 11:00, 12:00 in New York
        book(SLOT.replace(hour=hour))
    book(SLOT.replace(hour=20))  # Wed 15:00: still inside
    response = coach_client.post(reverse("dashboard_hours"), week(**{"day2-0": ("13:00", "17:00")}))
    assert (
        "3 booked calls fall outside these hours. They stay booked unless you move or cancel them."
        in html(response)
    )
    assert html(response).count('class="row-item"') == 3


def test_save_anyway_saves_the_hours_and_keeps_the_booking(coach_client: Client, coach: Coach, book) -> None:
    booking = book(SLOT)
    before = snapshot(booking)
    data = week(**{"day2-0": ("13:00", "17:00")})
    warning = coach_client.post(reverse("dashboard_hours"), data)

    response = coach_client.post(reverse("dashboard_hours"), {**data, "confirm": token(warning)}, follow=True)

    page = html(response)
    assert "Weekly hours saved." in page
    assert "The booked call outside them was kept" in page
    assert (2, time(13), time(17)) in saved_week(coach)
    assert snapshot(booking) == before
    assert booking.status == Booking.Status.CONFIRMED


def test_a_forged_or_stale_confirmation_warns_again(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    data = week(**{"day2-0": ("13:00", "17:00")})
    warned = token(coach_client.post(reverse("dashboard_hours"), data))

    forged = coach_client.post(reverse("dashboard_hours"), {**data, "confirm": "x" * 5000})
    assert forged.status_code == HTTPStatus.OK
    assert "falls outside these hours" in html(forged)
    # The coach changed the hours after the warning: the new hours are checked again.
    edited = coach_client.post(
        reverse("dashboard_hours"), {**week(**{"day2-0": ("14:00", "17:00")}), "confirm": warned}
    )
    assert "falls outside these hours" in html(edited)
    assert saved_week(coach) == WEEK_ROWS


def test_it_saves_at_once_when_no_booking_clashes(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)  # Wed 10:00-10:30 stays inside 09:00-12:00
    response = coach_client.post(
        reverse("dashboard_hours"), week(**{"day2-0": ("09:00", "12:00")}), follow=True
    )
    page = html(response)
    assert "Weekly hours saved." in page
    assert "kept" not in page
    assert (2, time(9), time(12)) in saved_week(coach)


def test_touching_windows_hold_a_call_across_their_seam(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)  # Wed 10:00-10:30
    data = week(**{"day2-0": ("09:00", "10:15"), "day2-1": ("10:15", "17:00")})
    response = coach_client.post(reverse("dashboard_hours"), data, follow=True)
    assert "Weekly hours saved." in html(response)


def test_cancelled_and_past_bookings_never_count(coach_client: Client, coach: Coach, book) -> None:
    cancelled = book(SLOT)
    booking_cancel(booking=cancelled, by="coach", now=NOW)
    book(SLOT.replace(hour=16))  # Wed 11:00: over by the time the coach changes the hours
    with time_machine.travel(SLOT.replace(hour=17), tick=False):
        response = coach_client.post(
            reverse("dashboard_hours"), week(**{"day2-0": ("13:00", "17:00")}), follow=True
        )
    assert "Weekly hours saved." in html(response)
    assert (2, time(13), time(17)) in saved_week(coach)


def test_a_booking_waiting_for_approval_counts(coach_client: Client, coach: Coach, book) -> None:
    approval = OfferingFactory(coach=coach, slug="deep", title="Deep dive", requires_approval=True)
    pending = book(SLOT, on=approval)
    assert pending.status == Booking.Status.PENDING
    response = coach_client.post(reverse("dashboard_hours"), week(**{"day2-0": ("13:00", "17:00")}))
    assert "Deep dive" in html(response)


def test_another_coachs_bookings_never_count(coach_client: Client, coach: Coach) -> None:
    other = CoachFactory(slug="grace", time_zone="America/New_York")
    WeeklyHoursFactory(coach=other, weekday=2, start=time(9), end=time(17))
    theirs = OfferingFactory(coach=other, slug="their-call", title="Their call")
    booking_create(
        offering=theirs,
        start=SLOT,
        client_name="Someone Else",
        client_email="else@example.com",
        client_time_zone="UTC",
        now=NOW,
    )
    response = coach_client.post(
        reverse("dashboard_hours"), week(**{"day2-0": ("13:00", "17:00")}), follow=True
    )
    page = html(response)
    assert "Weekly hours saved." in page
    assert "Someone Else" not in page


def test_it_judges_a_call_by_its_date_in_the_coachs_zone(coach_client: Client, coach: Coach, book) -> None:
    """Tue 19:00 in New York is Wednesday in UTC: Tuesday's hours decide, not Wednesday's."""
    WeeklyHours.objects.filter(coach=coach, weekday=1).update(end=time(21))
    evening = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # Tue 1 Dec 19:00 in New York
    book(evening)
    tuesday_late = {"day1-0": ("09:00", "21:00")}

    wednesday_off = coach_client.post(
        reverse("dashboard_hours"), week(**tuesday_late, **{"day2-0": ("", "")}), follow=True
    )
    assert "Weekly hours saved." in html(wednesday_off)

    tuesday_short = coach_client.post(
        reverse("dashboard_hours"), week(**{"day1-0": ("09:00", "17:00"), "day2-0": ("", "")})
    )
    assert "1 booked call falls outside these hours" in html(tuesday_short)
    assert "Tuesday 1 December 2026, 19:00–19:30" in html(tuesday_short)


def test_a_call_across_the_coachs_midnight_is_checked_with_both_dates(
    coach_client: Client, coach: Coach
) -> None:
    long_call = OfferingFactory(coach=coach, slug="long", title="Long call", duration_minutes=60)
    BookingFactory(offering=long_call, start=datetime(2026, 12, 2, 4, 30, tzinfo=UTC))  # Tue 23:30-Wed 00:30

    thursday = coach_client.post(
        reverse("dashboard_hours"), week(**{"day3-0": ("10:00", "17:00")}), follow=True
    )
    assert "Weekly hours saved." in html(thursday)  # neither of its dates changed

    wednesday = coach_client.post(reverse("dashboard_hours"), week(**{"day2-0": ("10:00", "17:00")}))
    assert "Long call" in html(wednesday)
    assert "Tuesday 1 December 2026, 23:30–00:30" in html(wednesday)


@pytest.mark.parametrize(
    ("now", "call_start", "kept_hours", "clashing_hours"),
    [
        # Spring forward: Sun 29 March 2026, 10:00 in Berlin is 08:00 UTC (CEST, +2).
        (datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 3, 29, 8, tzinfo=UTC), "10:00", "10:15"),
        # Fall back: Sun 25 October 2026, 10:00 in Berlin is 09:00 UTC (CET, +1).
        (datetime(2026, 10, 23, 12, tzinfo=UTC), datetime(2026, 10, 25, 9, tzinfo=UTC), "10:00", "10:15"),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_it_reads_hours_on_a_dst_day_in_the_coachs_zone(
    client: Client, now: datetime, call_start: datetime, kept_hours: str, clashing_hours: str
) -> None:
    berlin = CoachFactory(slug="berlin", time_zone="Europe/Berlin")
    WeeklyHoursFactory(coach=berlin, weekday=6, start=time(9), end=time(17))
    offering = OfferingFactory(coach=berlin, slug="sunday-call", title="Sunday call")
    booking_create(
        offering=offering,
        start=call_start,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        now=now,
    )
    client.force_login(berlin.user)
    with time_machine.travel(now, tick=False):
        clash = client.post(reverse("dashboard_hours"), week_data(**{"day6-0": (clashing_hours, "17:00")}))
        assert "1 booked call falls outside these hours" in html(clash)
        assert "10:00–10:30" in html(clash)
        kept = client.post(
            reverse("dashboard_hours"), week_data(**{"day6-0": (kept_hours, "17:00")}), follow=True
        )
        assert "Weekly hours saved." in html(kept)


def test_bad_weekly_hours_get_form_errors_not_a_warning(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    for data in (
        week(**{"day2-0": ("25:99", "17:00")}),
        week(**{"day2-0": ("13:00", "")}),
        {**week(**{"day2-0": ("13:00", "17:00")}), "day2-0-end": ["10:00", "x"], "day2-999999999-start": "1"},
    ):
        response = coach_client.post(reverse("dashboard_hours"), data)
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        assert "Please fix the problem" in html(response)
        assert "falls outside" not in html(response)
    assert saved_week(coach) == WEEK_ROWS


def test_it_lists_at_most_twenty_calls_and_counts_the_rest(coach_client: Client, coach: Coach, book) -> None:
    for n in range(23):
        day, slot = divmod(n, 8)
        book(datetime(2026, 12, 2 + day, 14, tzinfo=UTC) + timedelta(minutes=30 * slot))
    response = coach_client.post(reverse("dashboard_hours"), week_data())
    page = html(response)
    assert "23 booked calls fall outside these hours" in page
    assert page.count('class="row-item"') == clashes.LISTED_CLASHES
    assert "And 3 more" in page


def test_the_warning_costs_the_same_queries_whatever_the_number_of_calls(
    coach_client: Client, coach: Coach, book, django_assert_max_num_queries
) -> None:
    book(SLOT)
    with CaptureQueriesContext(connection) as one:
        assert "1 booked call" in html(coach_client.post(reverse("dashboard_hours"), week_data()))
    for n in range(1, 16):
        day, slot = divmod(n, 8)  # 13:00-17:00 in New York, clear of SLOT
        book(datetime(2026, 12, 2 + day, 18, tzinfo=UTC) + timedelta(minutes=30 * slot))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert "16 booked calls" in html(coach_client.post(reverse("dashboard_hours"), week_data()))


def test_without_a_booking_source_nothing_clashes(
    coach_client: Client, coach: Coach, book, monkeypatch
) -> None:
    book(SLOT)
    monkeypatch.setattr(clashes, "_SOURCES", {})
    response = coach_client.post(reverse("dashboard_hours"), week_data(), follow=True)
    assert "Weekly hours saved." in html(response)


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
def test_a_day_off_on_a_booked_date_warns_and_saves_nothing(coach_client: Client, coach: Coach, book) -> None:
    booking = book(SLOT)
    data = {"date": "2026-12-02", "unavailable": "on", "note": "Dentist"}
    response = coach_client.post(reverse("dashboard_override_create"), data)

    page = html(response)
    assert response.status_code == HTTPStatus.OK
    assert "1 booked call falls outside these hours" in page
    assert reverse("dashboard_booking", kwargs={"reference": booking.reference}) in page
    assert 'value="Dentist"' in page
    assert not DateOverride.objects.filter(coach=coach).exists()

    before = snapshot(booking)
    saved = coach_client.post(
        reverse("dashboard_override_create"), {**data, "confirm": token(response)}, follow=True
    )
    assert "Override for Wed 2 Dec saved. The booked call outside them was kept" in html(saved)
    assert DateOverride.objects.filter(coach=coach, date=date(2026, 12, 2), start=None).exists()
    assert snapshot(booking) == before


def test_custom_hours_that_still_hold_the_booking_save_at_once(
    coach_client: Client, coach: Coach, book
) -> None:
    book(SLOT)  # Wed 10:00-10:30
    data = {"date": "2026-12-02", "window-0-start": "10:00", "window-0-end": "11:00"}
    response = coach_client.post(reverse("dashboard_override_create"), data, follow=True)
    assert "Override for Wed 2 Dec saved." in html(response)
    assert DateOverride.objects.filter(coach=coach, date=date(2026, 12, 2), start=time(10)).exists()


def test_custom_hours_that_miss_the_booking_warn(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    data = {"date": "2026-12-02", "window-0-start": "10:15", "window-0-end": "12:00"}
    response = coach_client.post(reverse("dashboard_override_create"), data)
    assert "1 booked call falls outside these hours" in html(response)
    assert 'name="window-0-start" value="10:15"' in html(response)
    assert not DateOverride.objects.exists()


def test_an_override_on_another_date_ignores_the_booking(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    response = coach_client.post(
        reverse("dashboard_override_create"), {"date": "2026-12-03", "unavailable": "on"}, follow=True
    )
    assert "Override for Thu 3 Dec saved." in html(response)


def test_bad_override_data_gets_form_errors(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    for data in (
        {"date": "2026-13-45", "unavailable": "on"},
        {"date": "", "window-0-start": "10:00", "window-0-end": "09:00"},
        {"date": "2026-12-02", "unavailable": "on", "window-0-start": "10:00", "window-0-end": "11:00"},
        {"date": "2026-12-02"},
    ):
        response = coach_client.post(reverse("dashboard_override_create"), data)
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        assert "Please fix the problem" in html(response)
        assert "falls outside" not in html(response)
    assert not DateOverride.objects.exists()


def test_removing_an_override_that_added_hours_warns_first(coach_client: Client, coach: Coach, book) -> None:
    saturday = DateOverrideFactory(coach=coach, date=date(2026, 12, 5), start=time(10), end=time(12))
    booking = book(datetime(2026, 12, 5, 15, tzinfo=UTC))  # Sat 10:00: no weekly hours on Saturdays
    url = reverse("dashboard_override_delete", args=[saturday.pk])

    response = coach_client.post(url)
    page = html(response)
    assert response.status_code == HTTPStatus.OK
    assert "1 booked call falls outside your weekly hours once this override is removed" in page
    assert ">Remove anyway</button>" in page
    assert DateOverride.objects.filter(pk=saturday.pk).exists()

    before = snapshot(booking)
    removed = coach_client.post(url, {"confirm": token(response)}, follow=True)
    assert "Override for Sat 5 Dec removed" in html(removed)
    assert "kept" in html(removed)
    assert not DateOverride.objects.filter(coach=coach).exists()
    assert snapshot(booking) == before


def test_removing_a_day_off_never_warns(coach_client: Client, coach: Coach, book) -> None:
    book(SLOT)
    day_off = DateOverrideFactory(coach=coach, date=date(2026, 12, 3))
    response = coach_client.post(reverse("dashboard_override_delete", args=[day_off.pk]), follow=True)
    assert "Override for Thu 3 Dec removed" in html(response)


def test_the_override_pages_cost_the_same_queries_whatever_the_number_of_calls(
    coach_client: Client, coach: Coach, book, offering: Offering, django_assert_max_num_queries
) -> None:
    book(SLOT)
    data = {"date": "2026-12-02", "unavailable": "on"}
    with CaptureQueriesContext(connection) as one:
        assert "1 booked call" in html(coach_client.post(reverse("dashboard_override_create"), data))
    for n in range(1, 12):
        book(SLOT + timedelta(minutes=30 * n))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert "12 booked calls" in html(coach_client.post(reverse("dashboard_override_create"), data))
