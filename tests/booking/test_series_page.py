"""Booking a standing series from the booking page (issue 16): the client picks "every week",
reviews the dates (the taken ones and the ones at another time for them marked) and books
them; the series' own page follows.

Time is pinned at Monday 1 March 2027, 07:00 in New York; the client is in Berlin, whose
clocks change two weeks after New York's.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking, BookingSeries
from booking.services import booking_create
from coaching.models import Offering
from tests.support import SERIES_FIRST, SERIES_NOW, booking_form_data

NOW = SERIES_NOW
FIRST = SERIES_FIRST
FORM = "/ada/intro-call/book/"

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW), pytest.mark.usefixtures("weekly")]


def series_data(**overrides: str) -> dict[str, str]:
    return booking_form_data(
        **{"start": FIRST.strftime("%Y-%m-%dT%H:%M:%SZ"), "repeat": "1", "repeat_count": "5", **overrides}
    )


def test_the_page_offers_a_repeat_and_reviews_the_dates_before_booking(client: Client) -> None:
    form = client.get(FORM, {"start": FIRST.isoformat(), "tz": "Europe/Berlin"}).content.decode()
    assert "Every week" in form and "Every 2 weeks" in form and "How many calls in all" in form
    review = client.post(FORM, series_data())
    assert review.status_code == HTTPStatus.OK
    page = review.content.decode()
    assert not Booking.objects.exists()  # nothing booked before the review
    assert "Your 5 calls (Europe/Berlin)" in page
    assert page.count("another time for you") == 2  # 16 and 23 March, at 15:00 in Berlin
    assert 'name="series_reviewed" value="1:5:2027-03-02T15:00:00+00:00"' in page
    booked = client.post(FORM, series_data(series_reviewed="1:5:2027-03-02T15:00:00+00:00"), follow=True)
    assert booked.status_code == HTTPStatus.OK
    assert "Booked: 5 calls" in booked.content.decode()
    assert booked.redirect_chain[-1][0].startswith("/s/SR-")
    series = BookingSeries.objects.get()
    assert series.occurrences.count() == 5 and series.client_time_zone == "Europe/Berlin"


def test_a_taken_date_is_marked_and_the_free_ones_can_be_booked(client: Client, weekly: Offering) -> None:
    booking_create(
        offering=weekly,
        start=FIRST + timedelta(weeks=1),
        client_name="Alan",
        client_email="alan@example.com",
        client_time_zone="UTC",
    )
    key = "1:5:2027-03-02T15:00:00+00:00"
    page = client.post(FORM, series_data()).content.decode()
    assert page.count("not free") == 1 and "4 of 5 are free" in page
    refused = client.post(FORM, series_data(series_reviewed=key))
    assert refused.status_code == HTTPStatus.CONFLICT
    assert not BookingSeries.objects.exists()
    booked = client.post(FORM, series_data(series_reviewed=key, skip_unavailable="on", form_token="u" * 24))
    assert booked.status_code == HTTPStatus.FOUND
    assert BookingSeries.objects.get().occurrences.count() == 4


def test_a_changed_repeat_is_reviewed_again(client: Client) -> None:
    response = client.post(
        FORM, series_data(repeat_count="3", series_reviewed="1:5:2027-03-02T15:00:00+00:00")
    )
    assert response.status_code == HTTPStatus.OK
    assert "Your 3 calls" in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("count", "words"), [("", "Say how many calls"), ("1", "at least 2"), ("60", "at most 52")]
)
def test_a_bad_count_re_renders_with_the_message(client: Client, count: str, words: str) -> None:
    response = client.post(FORM, series_data(repeat_count=count))
    assert response.status_code == HTTPStatus.OK
    assert words in response.content.decode()
    assert not Booking.objects.exists()


def test_an_offering_that_needs_approval_offers_no_repeat(client: Client, weekly: Offering) -> None:
    weekly.requires_approval = True
    weekly.save(update_fields=["requires_approval"])
    form = client.get(FORM, {"start": FIRST.isoformat(), "tz": "Europe/Berlin"}).content.decode()
    assert "Every week" not in form
