"""Invites that calendars accept: every invite read by icalendar AND vobject, and the iTIP rules."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
import vobject
from django.conf import settings
from django.core import mail
from django.test import Client

from booking import invites
from booking.calendar_links import calendar_links
from booking.models import Booking
from booking.services import booking_approve, booking_cancel, booking_decline, booking_reschedule
from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

MEETING = "https://meet.example.com/ada-intro"
# Commas, semicolons, quotes, a caret, a line break, a backslash and three scripts.
TRICKY_NAME = 'Zoë "Z" O\'Brien, Jr.; 山田\n太郎 \\ Łukasz^2'


@pytest.fixture(autouse=True)
def _video_link(offering: Offering) -> None:
    offering.location_kind = Offering.LocationKind.VIDEO
    offering.location_details = MEETING
    offering.save()


def parse_both(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event, vobject.base.Component]:
    """The invite as icalendar and vobject read it; both must succeed."""
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    parsed = vobject.readOne(data.decode("utf-8"), validate=True)
    assert len(parsed.contents["vevent"]) == 1
    return calendar, event, parsed


def assert_itip(data: bytes, method: str) -> tuple[icalendar.Event, vobject.base.Component]:
    """RFC 5546's required properties for REQUEST and CANCEL, checked in both parsers."""
    calendar, event, parsed = parse_both(data)
    assert str(calendar["METHOD"]) == method == parsed.method.value
    assert str(calendar["VERSION"]) == "2.0" == parsed.version.value
    assert calendar["PRODID"] and parsed.prodid.value
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    vevent = parsed.vevent
    for name in ("ATTENDEE", "DTSTAMP", "DTSTART", "DTEND", "ORGANIZER", "SUMMARY", "UID", "SEQUENCE"):
        assert name in event, name
        assert name.lower() in vevent.contents, name
    assert str(event["UID"]) == vevent.uid.value
    assert int(event["SEQUENCE"]) == int(vevent.sequence.value)
    # Every instant in UTC, in both readings.
    for name in ("DTSTAMP", "DTSTART", "DTEND"):
        assert event.decoded(name).utcoffset() == timedelta(0)
        assert vevent.contents[name.lower()][0].value.utcoffset() == timedelta(0)
    assert b"TZID" not in data
    if method == "REQUEST":
        assert str(event["STATUS"]) in {"CONFIRMED", "TENTATIVE"}
        assert len(event.walk("VALARM")) == 1
        assert "valarm" in vevent.contents
    else:
        assert str(event["STATUS"]) == "CANCELLED" == vevent.status.value
        assert event.walk("VALARM") == []
        assert "valarm" not in vevent.contents
    return event, vevent


def test_it_builds_a_request_with_everything_a_calendar_needs(book) -> None:
    """REQUEST: organizer the coach, attendee the client, times in UTC, links, alarm."""
    booking = book()
    data = invites.invite_bytes(booking, method="REQUEST", now=NOW)
    event, vevent = assert_itip(data, "REQUEST")

    assert event.decoded("DTSTART") == SLOT
    assert event.decoded("DTEND") == SLOT + timedelta(minutes=30)
    assert event.decoded("DTSTAMP") == NOW
    assert b"DTSTART:20261202T150000Z" in data
    assert str(event["UID"]) == f"{booking.reference.lower()}@{settings.SITE_DOMAIN}"
    assert int(event["SEQUENCE"]) == booking.sequence == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Intro call with Ada Lovelace"
    assert str(event["LOCATION"]) == MEETING
    assert str(event["URL"]) == MEETING
    assert f"/b/{manage_token(booking)}/" in str(event["DESCRIPTION"])

    organizer, attendee = event["ORGANIZER"], event["ATTENDEE"]
    assert str(organizer) == "mailto:ada@example.com"
    assert organizer.params["CN"] == "Ada Lovelace"
    assert str(attendee) == "mailto:grace@example.com"
    assert attendee.params["CN"] == "Grace Hopper"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"
    assert vevent.organizer.value == "mailto:ada@example.com"
    assert vevent.attendee.params["CN"] == ["Grace Hopper"]

    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)
    # Lines are folded at 75 octets and end in CRLF.
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert data.endswith(b"\r\n")


def test_it_cancels_with_the_same_uid_a_higher_sequence_and_no_alarm(book) -> None:
    """CANCEL: STATUS:CANCELLED, the original UID, a higher SEQUENCE, no VALARM."""
    booking = book()
    request, _ = assert_itip(invites.invite_bytes(booking, method="REQUEST", now=NOW), "REQUEST")
    cancelled = booking_cancel(booking=booking, by="coach", reason="Ill", now=NOW)
    cancel, _ = assert_itip(invites.invite_bytes(cancelled, method="CANCEL", now=NOW), "CANCEL")
    assert str(cancel["UID"]) == str(request["UID"])
    assert int(cancel["SEQUENCE"]) > int(request["SEQUENCE"])
    assert "cancelled" in str(cancel["DESCRIPTION"])


def _client_invites() -> list[bytes]:
    """The text/calendar part of every email to the client so far, in order."""
    found = []
    for message in mail.outbox:
        if message.to != ["grace@example.com"]:
            continue
        parsed: Message = email.message_from_bytes(message.message().as_bytes())
        [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        found.append(part.get_payload(decode=True))
    return found


def test_it_keeps_the_uid_and_raises_the_sequence_through_two_moves_and_a_cancel(
    book, django_capture_on_commit_callbacks
) -> None:
    """Book, move, move again, cancel: four invites to the client, one UID, SEQUENCE strictly up."""
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_reschedule(
            booking=booking, new_start=SLOT + timedelta(hours=1), by="client", now=NOW
        )
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_reschedule(booking=booking, new_start=SLOT + timedelta(days=1), by="coach", now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="client", reason="Found a new job", now=NOW)

    sent = _client_invites()
    methods = ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert len(sent) == len(methods)
    events = [assert_itip(data, method)[0] for data, method in zip(sent, methods, strict=True)]
    assert len({str(event["UID"]) for event in events}) == 1
    sequences = [int(event["SEQUENCE"]) for event in events]
    assert sequences == sorted(set(sequences)) and len(set(sequences)) == 4
    starts = [event.decoded("DTSTART") for event in events]
    assert starts[:3] == [SLOT, SLOT + timedelta(hours=1), SLOT + timedelta(days=1)]


def test_it_holds_a_pending_booking_as_tentative_and_a_decline_cancels_it(book, offering: Offering) -> None:
    """Waiting for approval: TENTATIVE; approved: CONFIRMED, higher SEQUENCE; declined: CANCEL."""
    offering.requires_approval = True
    offering.save()
    first = book()
    pending, _ = assert_itip(invites.invite_bytes(first, method="REQUEST", now=NOW), "REQUEST")
    assert str(pending["STATUS"]) == "TENTATIVE"
    assert "Waiting for Ada Lovelace's approval" in str(pending["DESCRIPTION"])

    approved = booking_approve(booking=first, now=NOW)
    confirmed, _ = assert_itip(invites.invite_bytes(approved, method="REQUEST", now=NOW), "REQUEST")
    assert str(confirmed["STATUS"]) == "CONFIRMED"
    assert int(confirmed["SEQUENCE"]) > int(pending["SEQUENCE"])

    second = book(SLOT + timedelta(hours=2))
    declined = booking_decline(booking=second, reason="Fully booked", now=NOW)
    assert invites.current_method(declined) == "CANCEL"
    cancel, _ = assert_itip(invites.invite_bytes(declined, method="CANCEL", now=NOW), "CANCEL")
    assert int(cancel["SEQUENCE"]) == 1


def test_it_escapes_tricky_names_so_both_parsers_read_them_back(book, coach) -> None:
    """Commas, semicolons, quotes, backslashes and non-Latin names survive; CN is quoted.

    A line break in a name (a row from before names were checked) becomes a space: a name is one line.
    """
    coach.display_name = "Ada, Countess of Lovelace; 数学者"
    coach.save()
    booking = book(client_name=TRICKY_NAME)
    for audience in ("client", "coach"):
        data = invites.invite_bytes(booking, method="REQUEST", now=NOW, audience=audience)
        event, vevent = assert_itip(data, "REQUEST")
        one_line = TRICKY_NAME.replace("\n", " ")
        other = one_line if audience == "coach" else "Ada, Countess of Lovelace; 数学者"
        # Text values round-trip exactly, backslash included.
        assert str(event["SUMMARY"]) == f"Intro call with {other}" == vevent.summary.value
        assert str(event["DESCRIPTION"]) == vevent.description.value
        assert one_line in vevent.description.value or audience == "client"
        # Parameter values: quoted, and read back identically by both parsers.
        expected_cn = "Zoë 'Z' O'Brien, Jr.; 山田 太郎 \\ Łukasz 2"
        assert event["ATTENDEE"].params["CN"] == expected_cn == vevent.attendee.params["CN"][0]
        assert event["ORGANIZER"].params["CN"] == "Ada, Countess of Lovelace; 数学者"
        assert vevent.organizer.params["CN"] == ["Ada, Countess of Lovelace; 数学者"]
        unfolded = data.replace(b"\r\n ", b"")
        assert 'CN="Ada, Countess of Lovelace; 数学者"'.encode() in unfolded
        assert all(len(line) <= 75 for line in data.split(b"\r\n"))


def test_it_writes_utc_for_a_client_in_a_half_hour_zone_across_dst(book, offering: Offering) -> None:
    """The client's zone never leaks into the invite: UTC only, whatever the zones."""
    offering.horizon_days = 200
    offering.save()
    # Monday 15 March 2027, the day after New York springs forward: 09:00 EDT is 13:00 UTC
    # (14:00 UTC the week before), and 18:30 for the client in Kolkata.
    start = datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    booking = book(start, client_time_zone="Asia/Kolkata")
    data = invites.invite_bytes(booking, method="REQUEST", now=NOW)
    event, _ = assert_itip(data, "REQUEST")
    assert event.decoded("DTSTART") == start
    assert b"DTSTART:20270315T130000Z" in data
    assert b"DTEND:20270315T133000Z" in data


@pytest.mark.parametrize(
    ("kind", "details", "default", "location", "url"),
    [
        (
            Offering.LocationKind.VIDEO,
            "",
            "https://zoom.example.com/ada",
            "https://zoom.example.com/ada",
            True,
        ),
        (
            Offering.LocationKind.PHONE,
            "+1 212 555 0100",
            "https://zoom.example.com/ada",
            "Phone: +1 212 555 0100",
            False,
        ),
        (Offering.LocationKind.IN_PERSON, "1 Main St, Springfield", "", "1 Main St, Springfield", False),
    ],
)
def test_it_sets_location_and_url_from_the_offering_or_the_coach(
    book, offering: Offering, coach, kind, details, default, location, url
) -> None:
    """LOCATION says where; URL is the meeting link, only for video calls."""
    offering.location_kind = kind
    offering.location_details = details
    offering.save()
    coach.default_meeting_url = default
    coach.save()
    event, vevent = assert_itip(invites.invite_bytes(book(), method="REQUEST", now=NOW), "REQUEST")
    assert str(event["LOCATION"]) == location == vevent.location.value
    assert ("URL" in event) is url


def test_it_refuses_an_unknown_method(book) -> None:
    with pytest.raises(ValueError, match="REQUEST or CANCEL"):
        invites.invite_bytes(book(), method="PUBLISH", now=NOW)  # type: ignore[arg-type]


def test_it_serves_the_current_invite_at_the_manage_link(client: Client, book) -> None:
    """/b/<token>/invite.ics: REQUEST while active, CANCEL once cancelled, 404 for a bad token."""
    booking = book()
    url = f"/b/{manage_token(booking)}/invite.ics"
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/calendar; charset=utf-8; method=REQUEST"
    assert 'filename="invite.ics"' in response["Content-Disposition"]
    assert_itip(response.content, "REQUEST")

    booking_cancel(booking=booking, by="client", now=NOW)
    response = client.get(url)
    assert response["Content-Type"] == "text/calendar; charset=utf-8; method=CANCEL"
    assert_itip(response.content, "CANCEL")

    assert client.get(f"/b/{manage_token(booking)}x/invite.ics").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/b/BK-NOPE.abc/invite.ics").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/b/garbage/invite.ics").status_code == HTTPStatus.NOT_FOUND


def test_it_builds_invites_for_every_status_a_booking_can_have(book) -> None:
    """Whatever the status, the current invite parses and follows the rules."""
    booking = book()
    for status in Booking.Status.values:
        booking.status = status
        method = invites.current_method(booking)
        assert_itip(invites.invite_bytes(booking, method=method, now=NOW), method)


def test_it_links_to_google_and_outlook_with_the_call_filled_in(book) -> None:
    """Add-to-calendar links: UTC times, the summary, the manage link in the details."""
    booking = book()
    links = calendar_links(booking)
    google = urlsplit(links["google"])
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20261202T150000Z/20261202T153000Z"]
    assert query["text"] == ["Intro call with Ada Lovelace"]
    assert query["location"] == [MEETING]
    assert f"/b/{manage_token(booking)}/" in query["details"][0]
    for key, host in (("outlook", "outlook.live.com"), ("office365", "outlook.office.com")):
        url = urlsplit(links[key])
        assert url.netloc == host
        query = parse_qs(url.query)
        assert query["startdt"] == ["2026-12-02T15:00:00Z"]
        assert query["enddt"] == ["2026-12-02T15:30:00Z"]
        assert query["subject"] == ["Intro call with Ada Lovelace"]
        assert query["rru"] == ["addevent"]
