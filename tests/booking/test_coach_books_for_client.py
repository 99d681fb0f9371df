"""The coach's "Book for a client" page (/dashboard/bookings/new/): a call or a weekly series,
at the coach's wall-clock time, confirmed at once; taken times and DST gaps are named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.models import Booking, BookingEvent, BookingSeries
from coaching.models import Offering
from tests.support import NOW, SERIES_FIRST, SERIES_NOW, SLOT

PAGE = "/dashboard/bookings/new/"


def data(call: Offering, **overrides: str) -> dict[str, str]:
    return {
        "offering": str(call.pk),
        "day": "2026-12-02",
        "time": "10:00",  # New York: SLOT
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "time_zone": "Europe/Berlin",
        "note": "",
        "repeat": "",
        "repeat_count": "",
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_the_coach_books_a_call_for_a_client(
    coach_client, offering: Offering, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    assert "Book for a client" in coach_client.get(PAGE).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(PAGE, data(offering))
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/bookings/{booking.reference}/"
    assert (booking.start, booking.status, booking.client_time_zone) == (SLOT, "confirmed", "Europe/Berlin")
    assert booking.events.get().actor == BookingEvent.Actor.COACH
    assert "grace@example.com" in [m.to[0] for m in mailoutbox]


@pytest.mark.django_db
@pytest.mark.time_machine(SERIES_NOW, tick=False)
def test_the_coach_books_a_weekly_series_and_a_taken_date_is_named(
    coach_client, weekly: Offering, book
) -> None:
    book(SERIES_FIRST + timedelta(weeks=2, hours=-1), on=weekly)  # 10:00 in New York, after DST
    fields = data(weekly, day="2027-03-02", time="10:00", repeat="1", repeat_count="4")
    page = coach_client.post(PAGE, fields).content.decode()
    assert "Tuesday 16 March 2027" in page and not BookingSeries.objects.exists()
    response = coach_client.post(PAGE, {**fields, "skip_unavailable": "on"})
    assert response.status_code == 302
    assert BookingSeries.objects.get().occurrences.count() == 3


@pytest.mark.django_db
@pytest.mark.time_machine(SERIES_NOW, tick=False)
def test_a_time_in_the_dst_gap_is_refused(coach_client, weekly: Offering) -> None:
    weekly.coach.weekly_hours.update(start="00:00")
    page = coach_client.post(PAGE, data(weekly, day="2027-03-14", time="02:30")).content.decode()
    assert "exist that day (the clocks go forward)" in page
    assert not Booking.objects.exists()


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time": "08:00"}, "just taken"),
        ({"day": "not a day"}, "Give a date like"),
        ({"email": "x"}, "Enter a valid email address"),
        ({"offering": "999999"}, "Pick one of your calls"),
        ({"repeat": "1", "repeat_count": ""}, "How many calls in all?"),
    ],
)
def test_bad_input_re_renders_the_form(
    coach_client, offering: Offering, overrides: dict[str, str], message: str
) -> None:
    response = coach_client.post(PAGE, data(offering, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Booking.objects.exists()
