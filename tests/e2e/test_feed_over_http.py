"""A calendar client subscribes to the coach's feed over real HTTP and polls it cheaply."""

from __future__ import annotations

import urllib.error
import urllib.request

import icalendar
import pytest
import vobject

from booking.invites import booking_uid
from booking.services import feed_key_replace
from booking.tokens import coach_feed_token


@pytest.mark.django_db(transaction=True)
def test_it_serves_a_feed_that_a_polling_calendar_client_can_use(live_server, coach, book) -> None:
    """200 text/calendar parsed by two parsers, then 304 for a conditional GET, 404 once replaced."""
    booking = book()
    feed_key_replace(owner=coach)
    coach.refresh_from_db()
    url = f"{live_server.url}/feeds/coach/{coach_feed_token(coach)}.ics"

    with urllib.request.urlopen(url) as response:  # noqa: S310 - the live server on loopback
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        etag = response.headers["ETag"]
        last_modified = response.headers["Last-Modified"]
        body = response.read()
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [booking_uid(booking)]
    assert vobject.readOne(body.decode()).vevent.dtstart.value is not None

    headers = {"If-None-Match": etag, "If-Modified-Since": last_modified}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request)  # noqa: S310
    assert not_modified.value.code == 304

    feed_key_replace(owner=coach)
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(url)  # noqa: S310
    assert gone.value.code == 404
