"""``POST /api/v1/me/bookings``: the coach books a call, or a weekly series, for a client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.models import Booking, BookingEvent, BookingSeries
from coaching.models import Offering
from tests.api.conftest import post
from tests.support import NOW, SERIES_FIRST, SERIES_NOW, SLOT

URL = "/api/v1/me/bookings"


def body(**overrides: object) -> dict[str, object]:
    return {
        "offering": "intro-call",
        "start": SLOT.isoformat(),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "timezone": "Europe/Berlin",
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_the_coach_books_a_call_for_a_client_confirmed_at_once(
    client, offering: Offering, write_key: str, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    offering.requires_approval = True
    offering.save(update_fields=["requires_approval"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, URL, write_key, body())
    assert response.status_code == 201, response.content
    booking = Booking.objects.get()
    assert response.json()["reference"] == booking.reference
    assert (booking.status, booking.client_email, booking.start) == ("confirmed", "grace@example.com", SLOT)
    assert booking.events.get().actor == BookingEvent.Actor.COACH
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "grace@example.com"]


@pytest.mark.django_db
@pytest.mark.time_machine(SERIES_NOW, tick=False)
def test_the_coach_books_a_weekly_series(client, weekly: Offering, write_key: str) -> None:
    response = post(
        client, URL, write_key, body(start=SERIES_FIRST.isoformat(), repeat={"interval_weeks": 1, "count": 4})
    )
    assert response.status_code == 201, response.content
    series = BookingSeries.objects.get()
    assert response.json()["series"] == {"reference": series.reference, "index": 0}
    starts = list(series.occurrences.order_by("start").values_list("start", flat=True))
    # 10:00 in New York every Tuesday, across New York's DST change on 14 March.
    assert [s.astimezone(weekly.coach.zone).hour for s in starts] == [10, 10, 10, 10]
    assert starts[2] - starts[1] == timedelta(weeks=1, hours=-1)


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_a_taken_time_is_a_409_and_a_read_key_a_403(
    client, offering: Offering, write_key: str, read_key: str, book
) -> None:
    book(SLOT)
    assert post(client, URL, write_key, body()).status_code == 409
    assert post(client, URL, read_key, body(start=(SLOT + timedelta(hours=1)).isoformat())).status_code == 403
    assert Booking.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.time_machine(SERIES_NOW, tick=False)
def test_a_series_with_a_taken_date_lists_it(client, weekly: Offering, write_key: str, book) -> None:
    book(SERIES_FIRST + timedelta(weeks=1), on=weekly)
    response = post(
        client, URL, write_key, body(start=SERIES_FIRST.isoformat(), repeat={"interval_weeks": 1, "count": 3})
    )
    assert response.status_code == 409
    assert response.json()["unavailable"] == ["2027-03-09"]
    response = post(
        client,
        URL,
        write_key,
        body(start=SERIES_FIRST.isoformat(), repeat={"interval_weeks": 1, "count": 3}, skip_unavailable=True),
    )
    assert response.status_code == 201
    assert BookingSeries.objects.get().occurrences.count() == 2


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"offering": "not-mine"}, "offering"),
        ({"email": "nope"}, "email"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"repeat": {"interval_weeks": 1, "count": 99}}, "count"),
        ({"start": "2026-12-02T15:00:00"}, "start"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client, offering: Offering, write_key: str, overrides: dict[str, object], field: str
) -> None:
    response = post(client, URL, write_key, body(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][-1] == field
