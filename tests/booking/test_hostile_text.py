"""Text that would split an invite or a header, and addresses no mail can reach, are refused (issue 12)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Coach, Offering
from tests.support import NOW, booking_body, booking_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

SPLITTERS = [
    "Grace\u2028ATTENDEE:mailto:x@example.com",
    "Grace\x0bHopper",
    "Grace\x1b[31m",
    "Grace\x85Hopper",
]


def api_booking(client: Client, **overrides: object):  # type: ignore[no-untyped-def]
    body = json.dumps(booking_body(**overrides))
    return client.post("/api/v1/bookings", data=body, content_type="application/json")


@pytest.mark.parametrize("name", SPLITTERS)
def test_it_refuses_control_characters_in_a_clients_name(
    client: Client, offering: Offering, name: str
) -> None:
    response = api_booking(client, name=name)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == "name"
    page = client.post("/ada/intro-call/book/", booking_form_data(name=name))
    assert page.status_code == HTTPStatus.OK
    assert "no line breaks or control characters" in page.content.decode()
    assert not Booking.objects.exists()


def test_it_refuses_an_address_on_an_ip_literal(client: Client, offering: Offering) -> None:
    response = api_booking(client, email="x@[127.0.0.1]")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == "email"
    page = client.post("/ada/intro-call/book/", booking_form_data(email="x@[127.0.0.1]"))
    assert "with a domain name" in page.content.decode()
    assert not Booking.objects.exists()


def test_it_refuses_a_line_break_in_the_coachs_name(coach_client: Client, coach: Coach) -> None:
    """A newline in the display name would break the header of every email the coach sends."""
    data = {"display_name": "Ada\nBcc: everyone@example.com", "time_zone": "America/New_York"}
    response = coach_client.post("/dashboard/profile/", data)
    assert "no line breaks or control characters" in response.content.decode()
    coach.refresh_from_db()
    assert coach.display_name == "Ada Lovelace"


def test_it_keeps_manage_pages_out_of_caches_and_search_engines(client: Client, book) -> None:
    token = manage_token(book())
    for path in (f"/b/{token}/", f"/b/{token}/confirmed/", f"/b/{token}/cancel/", f"/b/{token}/reschedule/"):
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK, path
        assert response["Cache-Control"] == "private, no-store", path
        assert "noindex" in response["X-Robots-Tag"], path
