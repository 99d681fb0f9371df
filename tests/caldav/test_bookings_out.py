"""A booking written into the coach's calendar on a real Radicale: the invite's UID, no METHOD,
SCHEDULE-AGENT=CLIENT on the people (read back by two parsers), moved with If-Match, a stale
ETag refused, gone on cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
import vobject
from icalendar import Calendar

from booking.calendar_objects import calendar_object, object_name
from booking.invites import booking_uid, series_uid
from booking.services import Booker, booking_reschedule, booking_series_create
from coaching.caldav import CalDavConflict, delete_event, discover, put_event
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.support import NOW, SERIES_FIRST, SERIES_NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def stored(radicale: Radicale, name: str) -> bytes:
    calendar = radicale.client().calendar(url=f"{radicale.url}/{USER}/work/")
    return calendar.event_by_url(f"{radicale.url}/{USER}/work/{name}").data.encode()


def test_a_booking_is_written_moved_and_removed(radicale: Radicale, book) -> None:
    radicale.calendar("Work", "work")
    account, [work] = discover(radicale.url, username=USER, password=PASSWORD)
    booking = book(SLOT)
    url = work.url + object_name(booking)
    etag = put_event(account, url, calendar_object(booking, now=NOW))
    assert etag

    data = stored(radicale, object_name(booking))
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert "METHOD" not in Calendar.from_ical(data)
    assert str(event["UID"]) == booking_uid(booking)
    assert event["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"
    assert event["ORGANIZER"].params["SCHEDULE-AGENT"] == "CLIENT"
    parsed = vobject.readOne(data.decode())
    assert parsed.vevent.attendee.params["SCHEDULE-AGENT"] == ["CLIENT"]
    assert parsed.vevent.dtstart.value == SLOT

    moved = booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=2), by="coach", now=NOW)
    new_etag = put_event(account, url, calendar_object(moved, now=NOW), etag=etag)
    assert new_etag and new_etag != etag
    assert vobject.readOne(
        stored(radicale, object_name(booking)).decode()
    ).vevent.dtstart.value == SLOT + timedelta(hours=2)
    with pytest.raises(CalDavConflict):
        put_event(account, url, calendar_object(moved, now=NOW), etag=etag)  # our old version
    with pytest.raises(CalDavConflict):
        put_event(account, url, calendar_object(moved, now=NOW))  # "create" over an existing one

    assert delete_event(account, url, etag=new_etag) is True
    assert delete_event(account, url) is False


@pytest.mark.time_machine(SERIES_NOW, tick=False)
def test_a_series_is_one_object_with_its_rule(radicale: Radicale, weekly) -> None:  # type: ignore[no-untyped-def]
    radicale.calendar("Work", "work")
    account, [work] = discover(radicale.url, username=USER, password=PASSWORD)
    made = booking_series_create(
        offering=weekly,
        start=SERIES_FIRST,
        interval_weeks=1,
        count=3,
        booker=Booker(name="Grace Hopper", email="grace@example.com", time_zone="Europe/Berlin"),
        now=SERIES_NOW,
    )
    first = made.bookings[0]
    assert object_name(first) == object_name(made.bookings[2]) == f"{made.series.reference}.ics"
    put_event(account, work.url + object_name(first), calendar_object(first, now=SERIES_NOW))
    data = stored(radicale, object_name(first))
    [master] = Calendar.from_ical(data).walk("VEVENT")
    assert master["RRULE"]["COUNT"] == [3] and str(master["UID"]) == series_uid(made.series)
    assert master["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"
    assert vobject.readOne(data.decode()).vevent.rrule.value == "FREQ=WEEKLY;COUNT=3;INTERVAL=1"
