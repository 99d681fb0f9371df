"""When the picked time was just taken, the form comes back with everything typed in and the
next free times to pick from; picking one books it (issue 13, 4). Every booking records the
client's locale from Accept-Language, from the page and the API alike (issue 13, 5).

NOW is Tuesday 1 December 2026, 07:00 in New York; SLOT is Wednesday 2 December 16:00 Berlin.
"""

from __future__ import annotations

import html as html_lib
import re
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking
from coaching.models import Offering
from tests.support import NOW, SLOT, booking_body, booking_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

FORM = "/ada/intro-call/book/"


@pytest.fixture
def asking(offering: Offering) -> Offering:
    offering.intake_questions = [
        {"label": "What do you want to talk about?", "type": "long_text", "required": True},
        {"label": "First call with me?", "type": "yes_no", "required": True},
    ]
    offering.save()
    offering.coach.community_enabled = True
    offering.coach.save()
    return offering


def typed(**overrides: str) -> dict[str, str]:
    return booking_form_data(
        name="Grace Hopper",
        email="grace@example.com",
        note="I'll call from the train",
        q1="A new job & <a raise>",
        q2="yes",
        join_community="on",
        **overrides,
    )


def test_it_keeps_everything_typed_and_offers_the_next_free_times(
    client: Client, asking: Offering, book
) -> None:
    book(SLOT)  # someone else is quicker
    response = client.post(FORM, typed())
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.content.decode()
    assert "This time was just taken." in body
    assert 'name="name" value="Grace Hopper"' in body
    assert 'name="email" value="grace@example.com"' in body
    assert "I&#x27;ll call from the train</textarea>" in body
    assert "A new job &amp; &lt;a raise&gt;</textarea>" in body
    assert re.search(r'<input type="radio" name="q2" value="yes"[^>]*checked', body)
    assert re.search(r'<input type="checkbox" name="join_community"[^>]*checked', body)
    # The next free times are choices in the same form, the nearest picked; the taken one is gone.
    choices = re.findall(r'<input type="radio" name="start" id="alt-start-\d" value="([^"]+)"', body)
    assert choices == ["2026-12-02T15:30:00Z", "2026-12-02T16:00:00Z", "2026-12-02T16:30:00Z"]
    assert 'name="start" value="2026-12-02T15:00:00Z"' not in body
    assert "Wednesday 2 December, 16:30" in body
    assert Booking.objects.count() == 1


def test_picking_an_alternative_books_it_with_the_typed_details(
    client: Client, asking: Offering, book
) -> None:
    book(SLOT)
    body = client.post(FORM, typed()).content.decode()
    # Send the re-rendered form back as a browser would: its fields and the choice picked.
    fields = {
        name: html_lib.unescape(value)
        for name, value in re.findall(
            r'<input type="(?:hidden|text|email)" name="([^"]+)" value="([^"]*)"', body
        )
    }
    fields.pop("csrfmiddlewaretoken", None)
    assert fields["form_token"] != "t" * 24  # a new one-time token: the first try booked nothing
    fields.update(
        start="2026-12-02T16:00:00Z",
        note=html_lib.unescape(re.search(r'name="note"[^>]*>\n?(.*?)</textarea>', body, re.S).group(1)),
        q1=html_lib.unescape(re.search(r'name="q1"[^>]*>\n?(.*?)</textarea>', body, re.S).group(1)),
        q2="yes",
        join_community="on",
    )
    response = client.post(FORM, fields)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()
    booking = Booking.objects.get(start=SLOT.replace(hour=16))
    assert (booking.client_name, booking.client_email, booking.note) == (
        "Grace Hopper",
        "grace@example.com",
        "I'll call from the train",
    )
    assert booking.answers == {
        "What do you want to talk about?": "A new job & <a raise>",
        "First call with me?": "yes",
    }


def test_the_booking_page_records_the_clients_locale(client: Client, offering: Offering) -> None:
    response = client.post(FORM, booking_form_data(), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9,de;q=0.8")
    assert response.status_code == HTTPStatus.FOUND
    assert Booking.objects.get().client_locale == "en-US"


def test_the_api_records_the_clients_locale(client: Client, offering: Offering) -> None:
    response = client.post(
        "/api/v1/bookings", booking_body(), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en-US"
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert Booking.objects.get().client_locale == "en-US"


def test_a_booking_without_accept_language_records_no_locale(client: Client, offering: Offering) -> None:
    client.post(FORM, booking_form_data(), HTTP_ACCEPT_LANGUAGE="*")
    assert Booking.objects.get().client_locale == ""
