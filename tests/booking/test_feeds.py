"""Calendar feeds: secret, revocable, cheap to poll, and cancellations that calendars see."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import icalendar
import pytest
import vobject
from django.test import Client
from django.utils.http import http_date

from accounts.models import User
from booking.display import coach_feed_url, webcal_url
from booking.models import Booking
from booking.services import booking_cancel, booking_reschedule, feed_key_replace
from booking.tokens import client_feed_token, coach_feed_token
from coaching.models import Coach
from tests.factories import CoachFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


@pytest.fixture
def feed_coach(coach: Coach) -> Coach:
    feed_key_replace(owner=coach)
    return coach


def coach_path(coach: Coach) -> str:
    return f"/feeds/coach/{coach_feed_token(coach)}.ics"


def move_to_past(booking: Booking, *, days: int, updated_days_ago: int | None = None) -> None:
    """Put a booking ``days`` in the past (and its last change ``updated_days_ago``), bypassing services."""
    shift = timedelta(days=days) + (booking.start - NOW)
    fields = {
        "start": booking.start - shift,
        "end": booking.end - shift,
        "blocked_start": booking.blocked_start - shift,
        "blocked_end": booking.blocked_end - shift,
    }
    if updated_days_ago is not None:
        fields["updated_at"] = NOW - timedelta(days=updated_days_ago)
    Booking.objects.filter(pk=booking.pk).update(**fields)


def events_by_uid(data: bytes) -> dict[str, icalendar.Event]:
    """The feed read by both parsers; icalendar's events by UID."""
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    parsed = vobject.readOne(data.decode(), validate=True)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert {vevent.uid.value for vevent in parsed.contents.get("vevent", [])} == set(events)
    return events


def uid(booking: Booking) -> str:
    return f"{booking.reference.lower()}@127.0.0.1"


def test_it_lists_the_coachs_bookings_and_recent_cancellations(client: Client, book, feed_coach) -> None:
    """Upcoming and recent bookings appear; recent cancellations as CANCELLED; older ones drop out."""
    upcoming = book()
    pending_later = book(SLOT + timedelta(hours=2))
    recent_past = book(SLOT + timedelta(hours=3))
    move_to_past(recent_past, days=10)
    old_past = book(SLOT + timedelta(hours=4))
    move_to_past(old_past, days=40)
    cancelled_recently = book(SLOT + timedelta(hours=5))
    booking_cancel(booking=cancelled_recently, by="client", now=NOW)
    cancelled_long_ago = book(SLOT + timedelta(hours=6))
    booking_cancel(booking=cancelled_long_ago, by="client", now=NOW)
    Booking.objects.filter(pk=cancelled_long_ago.pk).update(updated_at=NOW - timedelta(days=31))
    Booking.objects.filter(pk=pending_later.pk).update(status=Booking.Status.PENDING)
    someone_elses = book(on=None, start=SLOT + timedelta(hours=1))
    Booking.objects.filter(pk=someone_elses.pk).update(coach=CoachFactory())

    response = client.get(coach_path(feed_coach))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_by_uid(response.content)
    assert set(events) == {uid(upcoming), uid(pending_later), uid(recent_past), uid(cancelled_recently)}
    assert str(events[uid(upcoming)]["STATUS"]) == "CONFIRMED"
    assert str(events[uid(pending_later)]["STATUS"]) == "TENTATIVE"
    assert str(events[uid(cancelled_recently)]["STATUS"]) == "CANCELLED"
    assert int(events[uid(cancelled_recently)]["SEQUENCE"]) == 1
    assert str(events[uid(upcoming)]["SUMMARY"]) == "Intro call with Grace Hopper"
    # A subscribed calendar shows events; it does not offer to answer them or ring.
    assert "ATTENDEE" not in events[uid(upcoming)]
    assert events[uid(upcoming)].walk("VALARM") == []
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Ada Lovelace: bookings"
    # Calendar apps come back every 15 minutes (RFC 7986, and Outlook's X-PUBLISHED-TTL).
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in response.content
    assert b"X-PUBLISHED-TTL:PT15M\r\n" in response.content


def test_it_answers_304_to_a_conditional_get_until_something_changes(
    client: Client, book, feed_coach
) -> None:
    """ETag and Last-Modified come with every answer; an unchanged feed answers 304."""
    booking = book()
    path = coach_path(feed_coach)
    first = client.get(path)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified == http_date(booking.updated_at.timestamp())

    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["ETag"] == etag
    assert again.content == b""
    # Offerings keep no change time, so Last-Modified cannot vouch for a whole feed: only the ETag does.
    since = client.get(path, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert since.status_code == HTTPStatus.OK

    booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by="coach", now=NOW)
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == HTTPStatus.OK
    assert changed["ETag"] != etag
    [event] = events_by_uid(changed.content).values()
    assert event.decoded("DTSTART") == SLOT + timedelta(hours=1)


def test_it_costs_the_same_few_queries_whatever_the_number_of_bookings(
    client: Client, book, feed_coach, django_assert_num_queries
) -> None:
    """Three queries for a full answer (owner, validators, bookings), two for a 304."""
    book()
    path = coach_path(feed_coach)
    with django_assert_num_queries(3):
        etag = client.get(path)["ETag"]
    for hour in range(1, 7):
        book(SLOT + timedelta(hours=hour) - timedelta(minutes=30 * (hour % 2)))
    with django_assert_num_queries(3):
        response = client.get(path)
    assert len(events_by_uid(response.content)) == 7
    with django_assert_num_queries(2):
        assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == HTTPStatus.NOT_MODIFIED
    assert etag != response["ETag"]


def test_it_refuses_bad_missing_and_revoked_tokens(client: Client, feed_coach) -> None:
    """Tampered, foreign, malformed and replaced links are all 404s."""
    path = coach_path(feed_coach)
    assert client.get(path).status_code == HTTPStatus.OK
    token = coach_feed_token(feed_coach)
    other = CoachFactory()
    feed_key_replace(owner=other)
    foreign = f"{other.pk}.{token.split('.', 1)[1]}"
    for bad in (
        token + "x",
        token[:-1],
        foreign,
        "garbage",
        "1.",
        ".abc",
        "99999.abc",
        token.replace(".", ""),
    ):
        assert client.get(f"/feeds/coach/{bad}.ics").status_code == HTTPStatus.NOT_FOUND, bad
    # The client feed's MAC never opens the coach feed of the same id.
    user = feed_coach.user
    feed_key_replace(owner=user)
    assert client.get(f"/feeds/coach/{client_feed_token(user)}.ics").status_code == HTTPStatus.NOT_FOUND

    feed_key_replace(owner=feed_coach)
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    assert client.get(coach_path(feed_coach)).status_code == HTTPStatus.OK


def test_it_has_no_feed_until_the_owner_asks_for_one(client: Client, coach: Coach) -> None:
    assert coach.feed_key == ""
    assert coach_feed_token(coach) == ""
    assert client.get(f"/feeds/coach/{coach.pk}.abc.ics").status_code == HTTPStatus.NOT_FOUND


def test_it_serves_a_signed_in_clients_own_bookings_only(client: Client, book, user: User) -> None:
    """The client feed lists the bookings linked to the account, with every coach, and nobody else's."""
    mine = book(client=user, client_email=user.email)
    book(SLOT + timedelta(hours=1), client_email="someone@example.com")
    feed_key_replace(owner=user)
    response = client.get(f"/feeds/client/{client_feed_token(user)}.ics")
    assert response.status_code == HTTPStatus.OK
    events = events_by_uid(response.content)
    assert set(events) == {uid(mine)}
    assert str(events[uid(mine)]["SUMMARY"]) == "Intro call with Ada Lovelace"
    assert "/b/" in str(events[uid(mine)]["DESCRIPTION"])


def test_it_gives_the_coach_a_webcal_link_and_a_confirmed_replace(coach_client: Client, coach: Coach) -> None:
    page = coach_client.get("/dashboard/calendars/")
    assert page.status_code == HTTPStatus.OK
    assert "Create my feed link" in page.content.decode()

    assert coach_client.post("/dashboard/calendars/feed/").status_code == HTTPStatus.FOUND
    coach.refresh_from_db()
    url = coach_feed_url(coach)
    page = coach_client.get("/dashboard/calendars/").content.decode()
    assert url in page
    assert f'href="{webcal_url(url)}"' in page
    assert webcal_url(url).startswith("webcal://")

    confirm = coach_client.get("/dashboard/calendars/feed/")
    assert "Replace your feed link?" in confirm.content.decode()
    coach.refresh_from_db()
    assert coach_feed_url(coach) == url  # a GET changes nothing
    coach_client.post("/dashboard/calendars/feed/")
    coach.refresh_from_db()
    assert coach_feed_url(coach) != url
    assert Client().get(url.removeprefix("http://127.0.0.1:8000")).status_code == HTTPStatus.NOT_FOUND


def test_it_gives_a_signed_in_client_a_feed_page(
    client: Client, client_user_client: Client, user: User
) -> None:
    assert "Create my feed link" in client_user_client.get("/my/calendar/").content.decode()
    client_user_client.post("/my/calendar/replace/")
    user.refresh_from_db()
    assert user.feed_key
    page = client_user_client.get("/my/calendar/").content.decode()
    assert f"/feeds/client/{client_feed_token(user)}.ics" in page
    assert "webcal://" in page
    token = client_feed_token(user)
    assert "Replace your feed link?" in client_user_client.get("/my/calendar/replace/").content.decode()
    client_user_client.post("/my/calendar/replace/")
    user.refresh_from_db()
    assert client_feed_token(user) != token
    assert client.get(f"/feeds/client/{token}.ics").status_code == HTTPStatus.NOT_FOUND

    anonymous = Client().get("/my/calendar/")
    assert anonymous.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in anonymous["Location"]


def test_it_keeps_the_feed_pages_to_coaches(client_user_client: Client) -> None:
    assert client_user_client.get("/dashboard/calendars/").status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("location_details", "https://meet.example.com/new-room"),
        ("title", "Discovery call"),
        ("location_kind", "phone"),
    ],
)
def test_the_coach_feeds_etag_changes_with_the_offering(
    client: Client, book, feed_coach, offering, field: str, value: str
) -> None:
    """A new meeting link, title or kind of call is a new feed, though no booking changed (issue 12, finding 10)."""
    book()
    path = coach_path(feed_coach)
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == HTTPStatus.NOT_MODIFIED

    setattr(offering, field, value)
    offering.save()
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == HTTPStatus.OK
    assert changed["ETag"] != etag
    assert value.encode() in changed.content or field == "location_kind"
    assert client.get(path, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == HTTPStatus.NOT_MODIFIED


def test_the_client_feeds_etag_changes_with_the_offering_and_the_coach(
    client: Client, book, user: User, offering, coach: Coach
) -> None:
    """The client feed's version covers every coach and offering it shows, not an empty string."""
    book(client=user, client_email=user.email)
    feed_key_replace(owner=user)
    path = f"/feeds/client/{client_feed_token(user)}.ics"
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == HTTPStatus.NOT_MODIFIED

    offering.location_details = "https://meet.example.com/new-room"
    offering.save()
    moved = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert moved.status_code == HTTPStatus.OK
    assert b"https://meet.example.com/new-room" in moved.content

    coach.display_name = "Ada King"
    coach.save()
    renamed = client.get(path, HTTP_IF_NONE_MATCH=moved["ETag"])
    assert renamed.status_code == HTTPStatus.OK
    assert str(events_by_uid(renamed.content).popitem()[1]["SUMMARY"]) == "Intro call with Ada King"

    coach.default_meeting_url = "https://video.example.com/ada"
    coach.save()
    offering.location_details = ""
    offering.save()
    relinked = client.get(path, HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert relinked.status_code == HTTPStatus.OK
    assert b"https://video.example.com/ada" in relinked.content


def test_the_coach_feed_changes_when_a_client_deletes_their_account(
    client: Client, book, feed_coach, user: User
) -> None:
    """The anonymised name is in SUMMARY of a past call too, which deletion does not cancel."""
    from accounts.services import user_delete

    past = book(client=user, client_email=user.email)
    move_to_past(past, days=3, updated_days_ago=3)
    path = coach_path(feed_coach)
    etag = client.get(path)["ETag"]
    user_delete(user=user, now=NOW)
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == HTTPStatus.OK
    assert b"Grace Hopper" not in changed.content
