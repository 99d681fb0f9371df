"""Text that would split an invite or a header, and addresses no mail can reach, are refused (issue 12)."""

from __future__ import annotations

import json
import unicodedata
from http import HTTPStatus

import icalendar
import pytest
import vobject
from django.test import Client

from booking import invites
from booking.emails import messages_for_event
from booking.models import Booking
from booking.services import feed_key_replace
from booking.tokens import client_feed_token, coach_feed_token, manage_token
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


# Rows from before names were checked: every line break str.splitlines() knows, and controls.
EVIL = "ATTENDEE:mailto:evil@example.com"
ALARM = "BEGIN:VALARM"
HOSTILE_NAME = f"Grace\u2028{EVIL}\x85{ALARM}\x0bX\x1b[31m\r\n{EVIL}\u2029{ALARM}\x1c\u200b\u202e"
HOSTILE_COACH = f"Ada\r\n{ALARM}\x0c{EVIL}\x1b\u2028{ALARM}"
HOSTILE_EMAIL = f"client@example.com\r\n{EVIL}"


def _no_injected_lines(data: bytes, *, alarms: int) -> None:
    """Split on every break splitlines() knows: no line is an injected property or component."""
    text = data.decode()
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(("ATTENDEE:mailto:evil", "ATTENDEE;CN=evil"))]
    assert sum(line.startswith(ALARM) for line in lines) == alarms
    # Nothing invisible or line-breaking is left but the format's own CRLF line ends.
    odd = {c for c in text.replace("\r\n", "") if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")}
    assert odd == set()
    calendar = icalendar.Calendar.from_ical(data)
    parsed = vobject.readOne(text, validate=True)
    for event in calendar.walk("VEVENT"):
        attendees = event.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert all("evil@example.com" not in str(a) for a in attendees)
    for vevent in parsed.contents.get("vevent", []):
        assert all("evil" not in a.value for a in vevent.contents.get("attendee", []))
        assert len(vevent.contents.get("valarm", [])) == alarms


@pytest.fixture
def hostile_booking(book, coach: Coach, offering: Offering, user) -> Booking:  # type: ignore[no-untyped-def]
    """A booking whose texts hold every splitter, written around the validators as old rows were."""
    booking = book(client=user, client_email=user.email)
    Booking.objects.filter(pk=booking.pk).update(
        client_name=HOSTILE_NAME, client_email=HOSTILE_EMAIL, note=HOSTILE_NAME
    )
    Coach.objects.filter(pk=coach.pk).update(display_name=HOSTILE_COACH)
    Offering.objects.filter(pk=offering.pk).update(
        title=f"Intro\x0bcall\u2028{ALARM}",
        location_kind=Offering.LocationKind.IN_PERSON,
        location_details=f"Room 1\u2028{EVIL}\x85{ALARM}",
    )
    return Booking.objects.select_related("coach__user", "offering").get(pk=booking.pk)


def test_it_strips_splitters_from_every_text_of_an_invite(hostile_booking: Booking) -> None:
    """Finding 9: SUMMARY, DESCRIPTION, LOCATION, CN and mailto: carry no line break a reader could act on."""
    for audience in ("client", "coach"):
        for method, alarms in (("REQUEST", 1), ("CANCEL", 0)):
            data = invites.invite_bytes(hostile_booking, method=method, now=NOW, audience=audience)
            _no_injected_lines(data, alarms=alarms)
            event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
            assert "Grace" in str(event["SUMMARY"]) or audience == "client"
            # The address ends where its first line did.
            assert str(event["ATTENDEE"]) == "mailto:client@example.com"
            assert "Room 1" in str(event["LOCATION"])


def test_it_strips_splitters_from_both_feeds(
    client: Client, hostile_booking: Booking, coach: Coach, user
) -> None:  # type: ignore[no-untyped-def]
    feed_key_replace(owner=coach)
    feed_key_replace(owner=user)
    for path in (
        f"/feeds/coach/{coach_feed_token(Coach.objects.get(pk=coach.pk))}.ics",
        f"/feeds/client/{client_feed_token(user)}.ics",
    ):
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK
        _no_injected_lines(response.content, alarms=0)


def test_it_strips_splitters_from_email_headers(hostile_booking: Booking) -> None:
    """Subject, To and Reply-To of every booking email are one line of visible text."""
    event = hostile_booking.events.get()
    messages = messages_for_event(event, now=NOW)
    assert len(messages) == 2
    for message in messages:
        for value in (message.subject, *message.to, *message.reply_to):
            assert {unicodedata.category(c) for c in value}.isdisjoint({"Cc", "Cf", "Zl", "Zp"}), value
        raw = message.message().as_string()
        headers = raw.split("\n\n", 1)[0]
        assert not [line for line in headers.splitlines() if line.startswith(("ATTENDEE", "BEGIN", "Bcc"))]
    coach_email = next(m for m in messages if m.to == ["ada@example.com"])
    assert "Grace" in coach_email.subject
