"""Out-of-range dates and NUL bytes answer 422 naming the field, never a 500 (issue 12, finding 5)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import NOW, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

SLOTS = "/api/v1/coaches/ada/offerings/intro-call/slots"


def post(client: Client, url: str, body: object):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def field_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    return response.json()["detail"][0]["loc"][-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "9999-12-30", "end": "9999-12-31"}, "start"),
        ({"start": "0001-01-01", "end": "0001-01-02", "tz": "Asia/Tokyo"}, "start"),
        ({"start": "2026-12-01", "end": "9999-12-31", "tz": "Pacific/Kiritimati"}, "end"),
    ],
)
def test_it_refuses_slot_dates_out_of_range(client: Client, offering: Offering, params, field: str) -> None:
    assert field_of(client.get(SLOTS, params)) == field


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_it_refuses_a_booking_at_the_edge_of_time(client: Client, offering: Offering, start: str) -> None:
    assert field_of(post(client, "/api/v1/bookings", booking_body(start=start))) == "start"
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field", ["name", "note"])
def test_it_refuses_a_nul_byte_in_a_booking(client: Client, offering: Offering, field: str) -> None:
    body = booking_body(**{field: "Grace\x00 Hopper"})
    assert field_of(post(client, "/api/v1/bookings", body)) == field
    assert not Booking.objects.exists()


def test_it_refuses_a_nul_byte_in_a_cancel_reason_and_a_reschedule_at_the_edge_of_time(
    client: Client, offering: Offering, book
) -> None:
    token = manage_token(book())
    assert field_of(post(client, f"/api/v1/bookings/{token}/cancel", {"reason": "ill\x00"})) == "reason"
    moved = post(client, f"/api/v1/bookings/{token}/reschedule", {"start": "9999-12-31T23:59:59-12:00"})
    assert field_of(moved) == "start"
    assert Booking.objects.get().status == Booking.Status.CONFIRMED


def test_it_refuses_a_nul_byte_in_an_intake_answer(client: Client, offering: Offering) -> None:
    offering.intake_questions = [{"label": "What brings you here?", "type": "text", "required": True}]
    offering.save(update_fields=["intake_questions"])
    body = booking_body(answers={"q1": "work\x00"})
    assert field_of(post(client, "/api/v1/bookings", body)) == "answers.q1"
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/coaches/a%00b",
        "/api/v1/coaches/ada/offerings/x%00/slots?start=2026-12-01&end=2026-12-02",
        "/api/v1/bookings/BK-%00.abc",
        "/b/BK-%00.abc/",
        "/feeds/coach/1%00.x.ics",
    ],
)
def test_it_answers_404_for_a_nul_byte_in_an_address(client: Client, offering: Offering, url: str) -> None:
    """PostgreSQL refuses NUL in any text: a path with one is "not found", never a 500."""
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_it_refuses_a_cookie_signed_booking_without_the_csrf_token(offering: Offering, user) -> None:
    """Another site can't book as a signed-in client: the session cookie alone is not enough (issue 12, 4)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    forged = browser.post(
        "/api/v1/bookings",
        data=json.dumps(booking_body(email="attacker@example.com")),
        content_type="text/plain",
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF" in forged.json()["detail"]
    assert not Booking.objects.exists()


def test_it_books_a_signed_in_client_with_the_csrf_token_under_their_account(
    offering: Offering, user
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/ada/intro-call/")  # the page sets the CSRF cookie, as for the site's own scripts
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/api/v1/bookings",
        data=json.dumps(booking_body(email="someone-else@example.com")),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    booking = Booking.objects.get()
    assert (booking.client_id, booking.client_email) == (user.pk, "client@example.com")


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        (
            "/api/v1/coaches/ada/offerings/intro-call/slots",
            "start=2026-12-02&end=2026-12-03&tz=UTC&tz=Asia/Tokyo",
            "tz",
        ),
        ("/api/v1/me/passes", "client=a@example.com&client=b@example.com", "client"),
        ("/api/v1/me/bookings", "status=confirmed&status=cancelled", "status"),
    ],
)
def test_a_query_parameter_given_twice_is_a_422_naming_it(
    client: Client, offering: Offering, read_key: str, url: str, query: str, field: str
) -> None:
    response = client.get(f"{url}?{query}", headers={"Authorization": f"Bearer {read_key}"})
    assert field_of(response) == field
    assert f"Give `{field}` once." in response.json()["detail"][0]["msg"]
