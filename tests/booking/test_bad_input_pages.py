"""A battery of bad input against every booking page and form.

Whatever comes in, the answer is a 4xx or a re-rendered page that says what is wrong,
never a 500, and whatever a person typed is shown escaped.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PAGE = "/ada/intro-call/"
FORM = "/ada/intro-call/book/"
HUGE = "x" * 10_000
SCRIPT = "<script>alert('owned')</script>"

BAD_ZONES = ["", "Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd", SCRIPT, HUGE, "UTC\x00", "Europe/"]
BAD_WEEKS = ["garbage", "2026-13-45", "9999-12-31", "0001-01-01", "-1", HUGE, "2026-12-01T00:00", "\x00"]
BAD_STARTS = [
    "",
    "garbage",
    "2026-12-02T15:00:00",  # no offset
    "2026-12-02",  # a date, not an instant
    "2026-12-02T15:07:00Z",  # not on a slot
    "2026-12-02T15:00:00+25:00",
    "2026-11-02T15:00:00Z",  # in the past
    "2026-12-05T15:00:00Z",  # a Saturday: not a working day
    "2031-12-02T15:00:00Z",  # beyond the horizon
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+05:00",
    "12345",
    HUGE,
    SCRIPT,
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings) -> None:
    cache.clear()
    settings.BOOKING_CREATE_RATE = "1000/m"
    settings.MANAGE_LOOKUP_RATE = "1000/m"


def html(response: Any) -> str:
    return response.content.decode()


def assert_handled(response: Any, *, message: str | None = None) -> str:
    """A 4xx, or a 200 page; never a 500. Returns the body."""
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response.status_code
    body = html(response)
    assert "<script>alert" not in body
    if message is not None:
        assert message in body, message
    return body


def valid_form(client: Client) -> dict[str, str]:
    page = html(client.get(FORM, {"start": "2026-12-02T15:00:00Z", "tz": "Europe/Berlin"}))
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.pop("csrfmiddlewaretoken", None)
    return {**data, "name": "Grace Hopper", "email": "grace@example.com", "note": ""}


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_it_shows_the_offering_page_for_any_zone(client: Client, offering: Offering, zone: str) -> None:
    body = assert_handled(client.get(PAGE, {"tz": zone}))
    if zone.strip():
        assert "We don&#x27;t know the time zone" in body
    assert "America/New_York" in body


@pytest.mark.parametrize("week", BAD_WEEKS)
def test_it_shows_the_offering_page_for_any_week(client: Client, offering: Offering, week: str) -> None:
    response = client.get(PAGE, {"week": week, "tz": "Europe/Berlin"})
    assert response.status_code == HTTPStatus.OK
    assert_handled(response)


@pytest.mark.parametrize("start", BAD_STARTS)
def test_it_answers_a_form_link_with_a_bad_time_with_a_message(
    client: Client, offering: Offering, start: str
) -> None:
    response = client.get(FORM, {"start": start, "tz": "Europe/Berlin"})
    body = assert_handled(response)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    assert 'name="form_token"' not in body
    assert any(
        text in body
        for text in ("doesn&#x27;t name a valid time", "isn&#x27;t free any more", "already passed")
    )


@pytest.mark.parametrize("start", BAD_STARTS)
def test_it_refuses_a_bad_time_in_the_posted_form(client: Client, offering: Offering, start: str) -> None:
    response = client.post(FORM, {**valid_form(client), "start": start})
    body = assert_handled(response)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.CONFLICT)
    assert any(
        text in body
        for text in ("Pick a time first.", "isn&#x27;t a valid time", "just taken", "already passed")
    )
    assert not Booking.objects.exists()


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_it_refuses_a_bad_zone_in_the_posted_form(client: Client, offering: Offering, zone: str) -> None:
    response = client.post(FORM, {**valid_form(client), "time_zone": zone})
    assert response.status_code == HTTPStatus.OK
    body = assert_handled(response)
    assert any(
        text in body
        for text in ("Pick a time zone.", "is not a known time zone", "at most 64", "Null characters")
    )
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", HUGE, "Ensure this value has at most 120 characters"),
        ("name", "Grace\x00Hopper", "Null characters are not allowed."),
        ("email", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", HUGE + "@example.com", "Ensure this value has at most 254 characters"),
        ("email", SCRIPT, "Enter a valid email address."),
        ("note", HUGE, "Ensure this value has at most 2000 characters"),
        ("form_token", "", "This form has expired."),
        ("form_token", "short", "This form has expired."),
        ("form_token", HUGE, "at most 64 characters"),
        ("form_token", "<b>bold</b>-token-that-is-long", "This form has expired."),
    ],
)
def test_it_re_renders_the_form_with_a_message_for_bad_fields(
    client: Client, offering: Offering, field: str, value: str, message: str
) -> None:
    response = client.post(FORM, {**valid_form(client), field: value})
    assert response.status_code == HTTPStatus.OK
    assert_handled(response, message=message)
    assert not Booking.objects.exists()


def test_it_re_renders_the_form_when_every_field_is_missing(client: Client, offering: Offering) -> None:
    response = client.post(FORM, {})
    assert response.status_code == HTTPStatus.OK
    body = assert_handled(response, message="Please fix the problems below.")
    assert "Pick a time first." in body


def test_it_refuses_bad_intake_answers(client: Client, offering: Offering) -> None:
    offering.intake_questions = [
        {"label": "Goal", "type": "text", "required": True},
        {"label": "Returning?", "type": "yes_no", "required": False},
    ]
    offering.save()
    for answers, message in (
        ({"q1": HUGE}, "at most 2000 characters"),
        ({"q1": "ok", "q2": "maybe"}, "Select a valid choice."),
        ({"q1": ""}, "This question needs an answer."),
    ):
        response = client.post(FORM, {**valid_form(client), **answers})
        assert response.status_code == HTTPStatus.OK
        assert_handled(response, message=message)
    assert not Booking.objects.exists()


def test_it_escapes_html_in_names_notes_and_answers_everywhere(
    client: Client, coach_client: Client, offering: Offering
) -> None:
    """A name, note and answer full of markup are stored as typed and shown as text."""
    offering.intake_questions = [{"label": "Goal", "type": "text", "required": True}]
    offering.save()
    guest = Client()
    response = guest.post(FORM, {**valid_form(guest), "name": SCRIPT, "note": SCRIPT, "q1": SCRIPT})
    booking = Booking.objects.get()
    assert booking.client_name == SCRIPT
    token = manage_token(booking)
    for page in (
        guest.get(response["Location"]),
        guest.get(f"/b/{token}/"),
        guest.get(f"/b/{token}/cancel/"),
        coach_client.get("/dashboard/bookings/"),
        coach_client.get(f"/dashboard/bookings/{booking.reference}/"),
        coach_client.get(f"/dashboard/bookings/{booking.reference}/cancel/"),
    ):
        assert page.status_code == HTTPStatus.OK
        assert_handled(page)
    detail = html(coach_client.get(f"/dashboard/bookings/{booking.reference}/"))
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in detail


def test_it_escapes_a_bad_zone_in_the_message(client: Client, offering: Offering) -> None:
    body = html(client.get(PAGE, {"tz": SCRIPT}))
    assert "“&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;”" in body


def test_it_refuses_bad_input_on_the_manage_pages(client: Client, book) -> None:
    booking = book()
    token = manage_token(booking)
    response = client.post(f"/b/{token}/cancel/", {"reason": HUGE})
    assert response.status_code == HTTPStatus.OK
    assert_handled(response, message="Ensure this value has at most 500 characters")
    for start in BAD_STARTS:
        posted = client.post(f"/b/{token}/reschedule/", {"start": start})
        assert posted.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT), start
        assert_handled(posted)
        linked = client.get(f"/b/{token}/reschedule/", {"start": start, "tz": "Europe/Berlin"})
        assert linked.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST), start
        assert_handled(linked)
        assert "Move your call to this time?" not in html(linked)
    for zone in BAD_ZONES:
        assert_handled(client.get(f"/b/{token}/reschedule/", {"tz": zone, "week": "garbage"}))
    assert client.put(f"/b/{token}/cancel/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (Booking.Status.CONFIRMED, SLOT)


def test_it_refuses_bad_input_on_the_coachs_pages(coach_client: Client, book) -> None:
    booking = book()
    base = f"/dashboard/bookings/{booking.reference}/"
    response = coach_client.post(f"{base}cancel/", {"reason": HUGE})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert_handled(response, message="Ensure this value has at most 500 characters")
    for start in BAD_STARTS:
        posted = coach_client.post(f"{base}reschedule/", {"start": start})
        assert posted.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT), start
        assert_handled(posted)
        assert_handled(coach_client.get(f"{base}reschedule/", {"start": start}))
    for params in ({"status": SCRIPT}, {"offering": HUGE}, {"when": "\x00"}, {"page": "9" * 50}):
        assert coach_client.get("/dashboard/bookings/", params).status_code == HTTPStatus.OK
    assert coach_client.get(f"/dashboard/bookings/{HUGE}/").status_code == HTTPStatus.NOT_FOUND
    assert (
        coach_client.get(f"/dashboard/bookings/{booking.reference}/{SCRIPT}/").status_code
        == HTTPStatus.NOT_FOUND
    )
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (Booking.Status.CONFIRMED, SLOT)


def test_it_refuses_other_methods(client: Client, offering: Offering) -> None:
    assert client.post(PAGE).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.delete(FORM).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.post("/my/bookings/").status_code in (HTTPStatus.FOUND, HTTPStatus.METHOD_NOT_ALLOWED)
