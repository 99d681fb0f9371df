"""Standing series through the public API and their own link (issue 16): POST /api/v1/bookings
with ``repeat``, 409 with ``unavailable``, ``skip_unavailable``, retries; the /s/<token>/ page
lists the calls and cancels from one on; its invite is the series' RRULE.

Time is pinned at Monday 1 March 2027, 07:00 in New York; the first call is Tuesday 2 March
at 10:00 there, and New York moves its clocks on Sunday 14 March.
"""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.test import Client
from icalendar import Calendar

from booking.models import Booking, BookingSeries
from booking.services import booking_create
from coaching.models import Offering
from tests.api.conftest import auth, get
from tests.support import SERIES_FIRST, SERIES_NOW, booking_body

NOW = SERIES_NOW
FIRST = SERIES_FIRST
URL = "/api/v1/bookings"

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW), pytest.mark.usefixtures("weekly")]


def post(client: Client, body: dict[str, object], **headers: str):
    return client.post(URL, data=json.dumps(body), content_type="application/json", headers=headers)


def series_body(**overrides: object) -> dict[str, object]:
    return booking_body(
        **{"start": FIRST.isoformat(), "repeat": {"interval_weeks": 1, "count": 4}, **overrides}
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_a_repeat_books_every_call_and_answers_the_series(client: Client) -> None:
    response = post(client, series_body())
    assert response.status_code == HTTPStatus.CREATED, response.content
    data = response.json()
    series = data["series"]
    assert [o["start"] for o in series["occurrences"]] == [
        "2027-03-02T16:00:00+01:00",
        "2027-03-09T16:00:00+01:00",
        "2027-03-16T15:00:00+01:00",  # New York has moved its clocks, Berlin not yet
        "2027-03-23T15:00:00+01:00",
    ]
    assert data["reference"] == series["occurrences"][0]["reference"]
    assert series["skipped"] == [] and series["interval_weeks"] == 1
    assert Booking.objects.filter(series__reference=series["reference"]).count() == 4
    page = client.get(path_of(series["manage_url"]))
    assert page.status_code == HTTPStatus.OK
    assert page.content.decode().count("Move or cancel this call") == 4
    assert page["Cache-Control"] == "private, no-store"
    ics = client.get(path_of(series["manage_url"]) + "invite.ics")
    assert ics["Content-Type"].endswith("method=REQUEST")
    [master] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert master["RRULE"]["COUNT"] == [4]


def test_a_taken_date_is_a_409_naming_it_and_books_nothing(client: Client, weekly: Offering) -> None:
    booking_create(
        offering=weekly,
        start=FIRST + timedelta(weeks=2, hours=-1),
        client_name="Alan",
        client_email="alan@example.com",
        client_time_zone="UTC",
    )
    response = post(client, series_body())
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["unavailable"] == ["2027-03-16"]
    assert not BookingSeries.objects.exists()
    skipping = post(client, series_body(skip_unavailable=True))
    assert skipping.status_code == HTTPStatus.CREATED
    assert skipping.json()["series"]["skipped"] == ["2027-03-16"]
    assert len(skipping.json()["series"]["occurrences"]) == 3


@pytest.mark.parametrize(
    ("repeat", "field"),
    [
        ({"interval_weeks": 1, "count": 1}, "count"),
        ({"interval_weeks": 5, "count": 3}, "interval_weeks"),
        ({"interval_weeks": True, "count": 3}, "interval_weeks"),
        ({"count": 3, "every": "week"}, "every"),
    ],
)
def test_a_bad_repeat_is_a_422_naming_the_field(
    client: Client, repeat: dict[str, object], field: str
) -> None:
    response = post(client, series_body(repeat=repeat))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == field
    assert not Booking.objects.exists()


def test_an_offering_that_needs_approval_is_booked_one_call_at_a_time(
    client: Client, weekly: Offering
) -> None:
    weekly.requires_approval = True
    weekly.save(update_fields=["requires_approval"])
    response = post(client, series_body())
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "repeat" and "one call at a time" in error["msg"]


def test_a_retry_with_the_same_key_answers_the_same_series(client: Client) -> None:
    first = post(client, series_body(), **{"Idempotency-Key": "abc-123"})
    again = post(client, series_body(), **{"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert first.json()["series"]["reference"] == again.json()["series"]["reference"]
    assert BookingSeries.objects.count() == 1 and Booking.objects.count() == 4
    other = post(client, series_body(note="changed"), **{"Idempotency-Key": "abc-123"})
    assert other.status_code == HTTPStatus.CONFLICT


def test_the_series_link_cancels_from_one_call_on_after_a_confirmation(client: Client) -> None:
    series = post(client, series_body()).json()["series"]
    page = path_of(series["manage_url"])
    confirm = client.get(page + "cancel/?from=2")
    assert confirm.status_code == HTTPStatus.OK
    assert "Cancel 2 calls from" in confirm.content.decode()
    assert Booking.objects.filter(status="confirmed").count() == 4  # a GET changes nothing
    done = client.post(page + "cancel/", {"from": "2", "reason": "New job"}, follow=True)
    assert "2 calls cancelled" in done.content.decode()
    statuses = list(Booking.objects.order_by("series_index").values_list("status", flat=True))
    assert statuses == ["confirmed", "confirmed", "cancelled", "cancelled"]
    assert BookingSeries.objects.get().count == 2
    # Nothing to cancel from a call that is already off: back to the list.
    assert client.get(page + "cancel/?from=3").status_code == HTTPStatus.FOUND
    assert client.get(page + "cancel/?from=x").status_code == HTTPStatus.FOUND


def test_an_unknown_or_tampered_series_link_is_a_404(client: Client) -> None:
    series = post(client, series_body()).json()["series"]
    page = path_of(series["manage_url"])
    assert client.get(page[:-2] + "x/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/s/SR-NOTHING.abc/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/s/SR-NOTHING.abc/invite.ics").status_code == HTTPStatus.NOT_FOUND


# --- the coach's side --------------------------------------------------------------------------
def book_four(client: Client) -> dict[str, object]:
    response = post(client, series_body())
    assert response.status_code == HTTPStatus.CREATED
    return response.json()["series"]


def test_the_coach_api_names_each_call_s_series_and_cancels_the_rest(
    client: Client, read_key: str, write_key: str
) -> None:
    series = book_four(client)
    third = series["occurrences"][2]["reference"]
    shown = get(client, f"/api/v1/me/bookings/{third}", read_key).json()
    assert shown["series"] == {"reference": series["reference"], "index": 2}
    listed = get(client, "/api/v1/me/bookings", read_key).json()["items"]
    assert [row["series"]["index"] for row in listed] == [0, 1, 2, 3]
    refused = client.post(
        f"/api/v1/me/bookings/{third}/cancel-rest",
        data="{}",
        content_type="application/json",
        headers=auth(read_key),
    )
    assert refused.status_code == HTTPStatus.FORBIDDEN
    done = client.post(
        f"/api/v1/me/bookings/{third}/cancel-rest",
        data=json.dumps({"reason": "Travelling"}),
        content_type="application/json",
        headers=auth(write_key),
    )
    assert done.status_code == HTTPStatus.OK, done.content
    assert done.json()["status"] == "cancelled"
    statuses = list(Booking.objects.order_by("series_index").values_list("status", flat=True))
    assert statuses == ["confirmed", "confirmed", "cancelled", "cancelled"]
    assert BookingSeries.objects.get().count == 2


def test_cancel_rest_of_a_single_booking_is_a_409(client: Client, write_key: str, weekly: Offering) -> None:
    single = booking_create(
        offering=weekly,
        start=FIRST,
        client_name="Alan",
        client_email="alan@example.com",
        client_time_zone="UTC",
    ).booking
    response = client.post(
        f"/api/v1/me/bookings/{single.reference}/cancel-rest",
        data="{}",
        content_type="application/json",
        headers=auth(write_key),
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "not part of a series" in response.json()["detail"]


def test_the_dashboard_lists_the_series_and_cancels_from_a_call_on(client: Client, coach) -> None:
    series = book_four(client)
    second = series["occurrences"][1]["reference"]
    client.force_login(coach.user)
    page = client.get(f"/dashboard/bookings/{second}/").content.decode()
    assert "Regular calls: every week" in page and "(this call)" in page
    assert "Cancel this and later calls" in page
    confirm = client.get(f"/dashboard/bookings/{second}/cancel-rest/")
    assert confirm.status_code == HTTPStatus.OK and "later ones of the series" in confirm.content.decode()
    done = client.post(f"/dashboard/bookings/{second}/cancel-rest/", {"reason": ""}, follow=True)
    assert "Calls cancelled" in done.content.decode()
    assert Booking.objects.filter(status="confirmed").count() == 1
