"""Where a call takes place, per offering: a video room of each booking's own, the coach's link,
a phone call (either side dialling) or an address, in the invite (read by icalendar and vobject),
every email, the confirmation, the manage page and the coach's booking page."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking import invites
from booking.location import meeting_url, place_of
from booking.models import Booking
from booking.services import booking_reschedule
from booking.tokens import manage_token
from coaching.models import Offering
from tests.booking.test_invites import assert_itip
from tests.support import NOW, SLOT, offering_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

ROOM = re.compile(r"https://meet\.jit\.si/([a-z2-9]{26})")
Kind = Offering.LocationKind


def _set(offering: Offering, kind: str, details: str = "", caller: str = "client") -> Offering:
    offering.location_kind = kind
    offering.location_details = details
    offering.phone_caller = caller
    offering.save()
    return offering


def _client_texts() -> list[str]:
    return [m.body for m in mail.outbox if m.to == ["grace@example.com"]]


def _coach_texts() -> list[str]:
    return [m.body for m in mail.outbox if m.to == ["ada@example.com"]]


def _invite_of(message) -> bytes:  # type: ignore[no-untyped-def]
    parsed = email.message_from_bytes(message.message().as_bytes())
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True)


# ---------------------------------------------------------------------------
# A room of the booking's own
# ---------------------------------------------------------------------------
def test_each_booking_gets_its_own_unguessable_room(book, offering: Offering) -> None:
    _set(offering, Kind.ROOM)
    first, second = book(), book(SLOT + timedelta(hours=1))
    links = [meeting_url(first), meeting_url(second)]
    rooms = [ROOM.fullmatch(link) for link in links]
    assert all(rooms), links
    assert links[0] != links[1]
    # 26 characters from 32: 130 bits, not derived from the reference or the id.
    assert first.reference.lower() not in links[0] and str(first.pk) not in rooms[0].group(1)


def test_the_room_stays_the_same_when_the_call_moves(book, offering: Offering) -> None:
    _set(offering, Kind.ROOM)
    booking = book()
    before = meeting_url(booking)
    moved = booking_reschedule(booking=booking, new_start=SLOT + timedelta(days=1), by="client", now=NOW)
    moved.refresh_from_db()
    assert meeting_url(moved) == before
    event, vevent = assert_itip(invites.invite_bytes(moved, method="REQUEST", now=NOW), "REQUEST")
    assert str(event["URL"]) == before == vevent.url.value


def test_the_room_address_follows_the_setting(book, offering: Offering, settings) -> None:
    settings.MEETING_ROOM_URL_TEMPLATE = "https://video.example.org/rooms/{room}?lang=en"
    _set(offering, Kind.ROOM)
    booking = book()
    assert meeting_url(booking) == f"https://video.example.org/rooms/{booking.room_key}?lang=en"
    settings.MEETING_ROOM_URL_TEMPLATE = "no room placeholder"
    assert meeting_url(booking) == ""
    assert place_of(booking).location == "Video call"


def test_the_room_is_in_the_invite_and_every_email(
    book, offering: Offering, django_capture_on_commit_callbacks
) -> None:
    _set(offering, Kind.ROOM)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    link = meeting_url(booking)
    assert _client_texts() and _coach_texts()
    for message in mail.outbox:
        assert link in message.body
        html = message.alternatives[0][0]
        assert f'href="{link}"' in html
        event, vevent = assert_itip(_invite_of(message), "REQUEST")
        assert str(event["LOCATION"]) == link == vevent.location.value
        assert str(event["URL"]) == link == vevent.url.value
        assert f"Join: {link}" in str(event["DESCRIPTION"])
        assert f"Join: {link}" in vevent.description.value


# ---------------------------------------------------------------------------
# Phone calls: who calls whom
# ---------------------------------------------------------------------------
def test_the_client_calls_the_coach(book, offering: Offering, django_capture_on_commit_callbacks) -> None:
    _set(offering, Kind.PHONE, "+1 212 555 0100", caller="client")
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    assert "Call Ada Lovelace on +1 212 555 0100." in _client_texts()[0]
    assert "Grace Hopper calls you on +1 212 555 0100." in _coach_texts()[0]
    event, vevent = assert_itip(invites.invite_bytes(booking, method="REQUEST", now=NOW), "REQUEST")
    assert str(event["LOCATION"]) == "Phone: +1 212 555 0100" == vevent.location.value
    assert "URL" not in event


def test_the_coach_calls_the_number_the_client_gave(
    client: Client, offering: Offering, django_capture_on_commit_callbacks
) -> None:
    """The booking form asks for the number, the coach is told to call it, the client who calls."""
    _set(offering, Kind.PHONE, caller="coach")
    url = f"/ada/{offering.slug}/book/?" + urlencode({"start": SLOT.isoformat(), "tz": "Europe/Berlin"})
    page = client.get(url).content.decode()
    assert 'autocomplete="tel"' in page and "Your phone number" in page
    data = {
        "start": SLOT.isoformat(),
        "time_zone": "Europe/Berlin",
        "form_token": "f" * 32,
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "note": "",
    }
    refused = client.post(url, {**data, "phone": "call me maybe"})
    assert refused.status_code == HTTPStatus.OK
    assert "Enter a phone number with its country code" in refused.content.decode()
    missing = client.post(url, data)
    assert missing.status_code == HTTPStatus.OK
    assert "Give the number your coach should call you on." in missing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**data, "phone": "+49 30 1234567"})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    booking = Booking.objects.get()
    assert booking.client_phone == "+49 30 1234567"
    assert "Ada Lovelace calls you on +49 30 1234567." in _client_texts()[0]
    assert "You call Grace Hopper on +49 30 1234567." in _coach_texts()[0]
    coach_invite, _ = assert_itip(
        _invite_of([m for m in mail.outbox if m.to == ["ada@example.com"]][0]), "REQUEST"
    )
    assert "You call Grace Hopper on +49 30 1234567." in str(coach_invite["DESCRIPTION"])


def test_the_coach_sees_the_clients_number_on_the_booking_page(
    coach_client: Client, book, offering: Offering
) -> None:
    _set(offering, Kind.PHONE, caller="coach")
    booking = book(client_phone="+44 20 7946 0000")
    html = coach_client.get(f"/dashboard/bookings/{booking.reference}/").content.decode()
    assert 'href="tel:+44 20 7946 0000"' in html
    assert "You call Grace Hopper on +44 20 7946 0000." in html


def test_an_address_for_calls_in_person(book, offering: Offering) -> None:
    _set(offering, Kind.IN_PERSON, "Studio 4, 1 Main St, Springfield")
    booking = book()
    event, vevent = assert_itip(invites.invite_bytes(booking, method="REQUEST", now=NOW), "REQUEST")
    assert str(event["LOCATION"]) == "Studio 4, 1 Main St, Springfield" == vevent.location.value
    assert "Studio 4, 1 Main St, Springfield" in str(event["DESCRIPTION"])


# ---------------------------------------------------------------------------
# Pages: the link, and "Join" as the main button near the start
# ---------------------------------------------------------------------------
def test_the_confirmation_and_manage_pages_show_the_join_link(
    client: Client, book, offering: Offering
) -> None:
    _set(offering, Kind.ROOM)
    booking = book()
    link = meeting_url(booking)
    token = manage_token(booking)
    for path in (f"/b/{token}/confirmed/", f"/b/{token}/"):
        html = client.get(path).content.decode()
        assert f'href="{link}"' in html, path
        # Days ahead: a plain link, no banner.
        assert "join-banner" not in html and "join-now" not in html


def test_join_becomes_the_main_button_near_the_start(
    client: Client, coach_client: Client, book, offering: Offering
) -> None:
    _set(offering, Kind.ROOM)
    booking = book()
    link = meeting_url(booking)
    token = manage_token(booking)
    with time_machine.travel(booking.start - timedelta(minutes=10), tick=False):
        html = client.get(f"/b/{token}/").content.decode()
        assert "The call starts soon." in html
        assert re.search(rf'<a class="button" href="{re.escape(link)}"', html)
        coach_html = coach_client.get(f"/dashboard/bookings/{booking.reference}/").content.decode()
        assert "join-banner" in coach_html and f'href="{link}"' in coach_html
    with time_machine.travel(booking.start + timedelta(minutes=5), tick=False):
        assert "The call has started." in client.get(f"/b/{token}/").content.decode()
    with time_machine.travel(booking.end + timedelta(minutes=1), tick=False):
        assert "join-banner" not in client.get(f"/b/{token}/").content.decode()


def test_a_cancelled_booking_shows_no_join_link(client: Client, book, offering: Offering) -> None:
    from booking.services import booking_cancel

    _set(offering, Kind.ROOM)
    booking = book()
    link = meeting_url(booking)
    booking_cancel(booking=booking, by="client", now=NOW)
    assert link not in client.get(f"/b/{manage_token(booking)}/").content.decode()


# ---------------------------------------------------------------------------
# The offering form asks for what each kind needs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "details", "caller", "error"),
    [
        ("video", "", "client", "Give the meeting link"),
        ("video", "zoom dot com", "client", "Give the meeting link in full"),
        ("phone", "", "client", "Give the number the client should call."),
        ("in_person", "", "client", "Give the address where you meet."),
    ],
)
def test_the_offering_form_asks_for_what_the_place_needs(
    coach_client: Client, kind: str, details: str, caller: str, error: str
) -> None:
    data = offering_data(location_kind=kind, location_details=details, phone_caller=caller)
    response = coach_client.post("/dashboard/offerings/new/", data)
    assert response.status_code == HTTPStatus.OK
    assert error in response.content.decode()
    assert not Offering.objects.filter(slug="deep-dive").exists()


@pytest.mark.parametrize(
    ("kind", "details", "caller"),
    [("room", "", "client"), ("phone", "", "coach"), ("video", "https://zoom.example.com/j/1", "client")],
)
def test_the_offering_form_saves_each_place(
    coach_client: Client, kind: str, details: str, caller: str
) -> None:
    data = offering_data(location_kind=kind, location_details=details, phone_caller=caller)
    response = coach_client.post("/dashboard/offerings/new/", data)
    assert response.status_code == HTTPStatus.FOUND
    saved = Offering.objects.get(slug="deep-dive")
    assert (saved.location_kind, saved.location_details, saved.phone_caller) == (kind, details, caller)


def test_a_new_offering_starts_with_a_room_per_booking(coach_client: Client) -> None:
    html = coach_client.get("/dashboard/offerings/new/").content.decode()
    assert re.search(r'<option value="room" selected>Video call: a new room for each booking</option>', html)
