"""Busy calendars read over real HTTP on loopback: real-world-shaped feeds, failures that keep old blocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from booking.slots import offering_free_slots
from coaching import busy_calendars
from coaching.busy_calendars import BusyCalendarError, check_address, normalize_url
from coaching.models import BusyBlock, BusyCalendar, Coach, Offering
from coaching.services import busy_calendar_refresh
from coaching.tasks import refresh_all_busy_calendars
from tests.factories import CoachFactory

# Tuesday 1 December 2026, 07:00 in New York (EST, UTC-5).
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of December 2026 given as New York wall time (EST = UTC-5)."""
    return utc(2026, 12, day, hour + 5, minute)


# Google Calendar's shape: VTIMEZONE, TZID parameters, a daily series with an EXDATE
# and a moved occurrence (RECURRENCE-ID), an all-day event, a free event, a
# cancelled event and one in the past.
GOOGLE_FEED = """BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:Work
X-WR-TIMEZONE:America/New_York
BEGIN:VTIMEZONE
TZID:America/New_York
X-LIC-LOCATION:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
DTSTART;TZID=America/New_York:20261130T110000
DTEND;TZID=America/New_York:20261130T120000
RRULE:FREQ=DAILY;COUNT=10
EXDATE;TZID=America/New_York:20261203T110000
DTSTAMP:20261120T000000Z
UID:standup@google.com
SUMMARY:Standup
STATUS:CONFIRMED
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=America/New_York:20261204T140000
DTEND;TZID=America/New_York:20261204T150000
RECURRENCE-ID;TZID=America/New_York:20261204T110000
DTSTAMP:20261120T000000Z
UID:standup@google.com
SUMMARY:Standup (moved)
SEQUENCE:1
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20261207
DTEND;VALUE=DATE:20261208
DTSTAMP:20261120T000000Z
UID:offsite@google.com
SUMMARY:Team offsite
END:VEVENT
BEGIN:VEVENT
DTSTART:20261208T180000Z
DTEND:20261208T190000Z
DTSTAMP:20261120T000000Z
UID:lunch@google.com
SUMMARY:Lunch (free)
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
DTSTART:20261209T200000Z
DTEND:20261209T210000Z
DTSTAMP:20261120T000000Z
UID:dentist@google.com
SUMMARY:Dentist (cancelled)
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
DTSTART:20261120T150000Z
DTEND:20261120T160000Z
DTSTAMP:20261120T000000Z
UID:past@google.com
SUMMARY:Already over
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")

# Outlook/Apple exports: floating times with the zone named only in X-WR-TIMEZONE.
X_WR_FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 14.0//EN
X-WR-CALNAME:Privat
X-WR-TIMEZONE:Europe/Berlin
BEGIN:VEVENT
UID:yoga@example.com
DTSTAMP:20261120T000000Z
DTSTART:20261202T170000
DTEND:20261202T180000
SUMMARY:Yoga
END:VEVENT
END:VCALENDAR
"""

ONE_EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:one@example.com
DTSTAMP:20261120T000000Z
DTSTART:20261202T160000Z
DTEND:20261202T170000Z
SUMMARY:Busy
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def _allow_loopback(settings) -> None:
    """Tests fetch from a server on 127.0.0.1, which production refuses."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """A threaded server on IPv4 loopback: a handler held by one test never blocks another request."""
    instance = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    instance.start()
    yield instance
    instance.clear()
    instance.stop()


@pytest.fixture
def feed_server(server: HTTPServer) -> HTTPServer:
    server.clear()
    return server


@pytest.fixture
def calendar(coach: Coach, feed_server: HTTPServer) -> BusyCalendar:
    return BusyCalendar.objects.create(coach=coach, name="Work", url=feed_server.url_for("/work.ics"))


def blocks(calendar: BusyCalendar) -> list[tuple[datetime, datetime]]:
    return list(BusyBlock.objects.filter(calendar=calendar).order_by("start").values_list("start", "end"))


def serve(server: HTTPServer, body: str | bytes, path: str = "/work.ics", **kwargs: object) -> None:
    server.expect_request(path).respond_with_data(body, content_type="text/calendar; charset=utf-8", **kwargs)


def test_it_expands_a_google_feed_with_exceptions_all_day_and_free_events(
    calendar: BusyCalendar, feed_server: HTTPServer
) -> None:
    """EXDATE removes a day, RECURRENCE-ID moves one; all-day blocks the local day; free, cancelled and past events don't count."""
    serve(feed_server, GOOGLE_FEED)
    assert busy_calendar_refresh(calendar=calendar) is True
    assert blocks(calendar) == [
        (ny(1, 11), ny(1, 12)),
        (ny(2, 11), ny(2, 12)),
        # 3 December is excluded (EXDATE); 4 December moved to 14:00.
        (ny(4, 14), ny(4, 15)),
        (ny(5, 11), ny(5, 12)),
        (ny(6, 11), ny(6, 12)),
        # Monday 7 December: the whole day in New York, the standup inside it merged.
        (ny(7, 0), ny(8, 0)),
        (ny(8, 11), ny(8, 12)),
        (ny(9, 11), ny(9, 12)),
    ]
    calendar.refresh_from_db()
    assert calendar.last_fetched_at == NOW or abs(calendar.last_fetched_at - NOW) < timedelta(minutes=1)
    assert calendar.last_error == ""
    assert all(
        block.source == "Work" and block.coach_id == calendar.coach_id for block in BusyBlock.objects.all()
    )


def test_it_reads_floating_times_in_the_x_wr_timezone(
    calendar: BusyCalendar, feed_server: HTTPServer
) -> None:
    """17:00 floating with X-WR-TIMEZONE Europe/Berlin is 16:00 UTC, not 17:00 in New York."""
    serve(feed_server, X_WR_FEED)
    busy_calendar_refresh(calendar=calendar)
    assert blocks(calendar) == [(utc(2026, 12, 2, 16), utc(2026, 12, 2, 17))]


def test_it_reads_floating_times_without_a_zone_in_the_coachs_zone(
    calendar: BusyCalendar, feed_server: HTTPServer
) -> None:
    serve(feed_server, X_WR_FEED.replace("X-WR-TIMEZONE:Europe/Berlin\n", ""))
    busy_calendar_refresh(calendar=calendar)
    assert blocks(calendar) == [(ny(2, 17), ny(2, 18))]


def test_it_blocks_a_short_all_day_on_the_spring_forward_day(
    calendar: BusyCalendar, feed_server: HTTPServer, offering: Offering
) -> None:
    """14 March 2027 has 23 hours in New York: the block is 05:00 to 04:00 UTC."""
    offering.horizon_days = 120
    offering.save()
    serve(
        feed_server,
        ONE_EVENT.replace("DTSTART:20261202T160000Z", "DTSTART;VALUE=DATE:20270314").replace(
            "DTEND:20261202T170000Z", "DTEND;VALUE=DATE:20270315"
        ),
    )
    busy_calendar_refresh(calendar=calendar)
    assert blocks(calendar) == [(utc(2027, 3, 14, 5), utc(2027, 3, 15, 4))]


def test_it_removes_busy_times_from_the_free_slots_after_a_refresh(
    calendar: BusyCalendar, feed_server: HTTPServer, offering: Offering
) -> None:
    """A busy event from 11:00 to 12:00 takes the 11:00 and 11:30 slots away, and only those."""
    day = date(2026, 12, 2)
    before = offering_free_slots(offering=offering, start=day, end=day, now=NOW)
    assert ny(2, 11) in before and ny(2, 11, 30) in before
    serve(feed_server, ONE_EVENT)
    busy_calendar_refresh(calendar=calendar)
    after = offering_free_slots(offering=offering, start=day, end=day, now=NOW)
    assert set(before) - set(after) == {ny(2, 11), ny(2, 11, 30)}


def test_it_keeps_the_old_blocks_and_records_the_error_when_a_feed_breaks(
    calendar: BusyCalendar, feed_server: HTTPServer
) -> None:
    """A login page instead of a calendar, broken data, a 500 and a 404: old blocks stay, errors shown."""
    serve(feed_server, ONE_EVENT)
    busy_calendar_refresh(calendar=calendar)
    good = blocks(calendar)
    assert good

    failures = [
        ("<html><body>Please sign in</body></html>", 200, "did not return a calendar"),
        (
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\nthis is not a content line\r\n",
            200,
            "could not be read",
        ),
        ("oops", 500, "answered 500"),
        ("gone", 404, "answered 404 NOT FOUND. Check that the address is still valid."),
    ]
    for body, status, message in failures:
        feed_server.clear()
        serve(feed_server, body, status=status)
        assert busy_calendar_refresh(calendar=calendar) is False
        calendar.refresh_from_db()
        assert message in calendar.last_error, (status, calendar.last_error)
        assert calendar.last_error_at is not None
        assert calendar.url not in calendar.last_error
        assert blocks(calendar) == good

    feed_server.clear()
    serve(feed_server, ONE_EVENT)
    assert busy_calendar_refresh(calendar=calendar) is True
    calendar.refresh_from_db()
    assert (calendar.last_error, calendar.last_error_at) == ("", None)


def test_it_gives_up_on_a_slow_feed_after_the_timeout(
    calendar: BusyCalendar, feed_server: HTTPServer, settings
) -> None:
    """A server that does not answer within the timeout: error recorded, old blocks kept."""
    settings.BUSY_CALENDAR_TIMEOUT = 0.3
    BusyBlock.objects.create(coach=calendar.coach, calendar=calendar, start=ny(3, 9), end=ny(3, 10))
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(30)  # far longer than the timeout; released when the test ends
        return Response(ONE_EVENT, content_type="text/calendar")

    feed_server.expect_request("/work.ics").respond_with_handler(stall)
    try:
        assert busy_calendar_refresh(calendar=calendar) is False
    finally:
        release.set()
    calendar.refresh_from_db()
    assert calendar.last_error == "The calendar server did not answer within 0.3 seconds."
    assert blocks(calendar) == [(ny(3, 9), ny(3, 10))]


class Stream:
    """A 50 MB calendar made on the fly, counting how much of it the server got to send."""

    size = 50 * 1024 * 1024
    chunk = b"X-FILLER:" + b"x" * (64 * 1024 - 11) + b"\r\n"

    def __init__(self) -> None:
        self.sent = 0
        self.finished = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//big//EN\r\n"
            while self.sent < self.size:
                self.sent += len(self.chunk)
                yield self.chunk
            yield b"END:VCALENDAR\r\n"
        finally:
            self.finished.set()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_it_refuses_a_50_mb_feed_without_reading_it_all(
    calendar: BusyCalendar, feed_server: HTTPServer, settings, declared: bool
) -> None:
    """Over the size limit: refused at the Content-Length, or as soon as the limit is passed."""
    settings.BUSY_CALENDAR_MAX_BYTES = 2 * 1024 * 1024
    stream = Stream()
    headers = {"Content-Length": str(Stream.size + 100)} if declared else {}
    feed_server.expect_request("/work.ics").respond_with_response(
        Response(iter(stream), content_type="text/calendar", headers=headers, direct_passthrough=True)
    )
    assert busy_calendar_refresh(calendar=calendar) is False
    calendar.refresh_from_db()
    assert calendar.last_error == "The calendar is larger than 2 MB."
    # Once we hang up, the server's next write fails and it stops making the feed.
    deadline = time.monotonic() + 30
    while not stream.finished.is_set() and time.monotonic() < deadline:
        stream.finished.wait(0.05)
    assert stream.finished.is_set()
    assert stream.sent < Stream.size // 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/cal.ics", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("http:///cal.ics", "no host name"),
        ("https://user:secret@example.com/cal.ics", "user name or password"),
        ("http://10.1.2.3/cal.ics", "private or local network"),
        ("http://192.168.0.10:8080/cal.ics", "private or local network"),
        ("http://169.254.169.254/latest/meta-data/", "private or local network"),
        ("http://[fd00::1]/cal.ics", "private or local network"),
        ("http://[::ffff:10.0.0.1]/cal.ics", "private or local network"),
        ("http://0.0.0.0/cal.ics", "private or local network"),
        ("http://127.0.0.1/cal.ics", "private or local network"),
        ("http://localhost/cal.ics", "private or local network"),
        ("http://[::1]/cal.ics", "private or local network"),
    ],
)
def test_it_refuses_other_schemes_and_private_addresses(settings, url: str, message: str) -> None:
    """Checked after DNS resolution; loopback too unless the test setting allows it."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(BusyCalendarError, match=message):
        check_address(url)
    with pytest.raises(BusyCalendarError, match=message):
        busy_calendars.fetch(url)


def test_it_refuses_a_redirect_to_a_private_address(calendar: BusyCalendar, feed_server: HTTPServer) -> None:
    """Every hop is checked again: a public address cannot bounce us into the private network."""
    feed_server.expect_request("/work.ics").respond_with_data(
        "", status=302, headers={"Location": "http://10.0.0.7/metadata"}
    )
    assert busy_calendar_refresh(calendar=calendar) is False
    calendar.refresh_from_db()
    assert "private or local network" in calendar.last_error


def test_it_follows_a_redirect_to_an_allowed_address(calendar: BusyCalendar, feed_server: HTTPServer) -> None:
    feed_server.expect_request("/work.ics").respond_with_data(
        "", status=301, headers={"Location": "/v2/work.ics"}
    )
    serve(feed_server, ONE_EVENT, path="/v2/work.ics")
    assert busy_calendar_refresh(calendar=calendar) is True
    assert blocks(calendar) == [(utc(2026, 12, 2, 16), utc(2026, 12, 2, 17))]


def test_it_reads_webcal_addresses_as_https() -> None:
    assert normalize_url("  webcal://p01-caldav.icloud.com/published/2/abc ") == (
        "https://p01-caldav.icloud.com/published/2/abc"
    )
    assert normalize_url("WEBCALS://example.com/x.ics") == "https://example.com/x.ics"


def test_it_asks_only_for_changes_while_the_blocks_cover_the_horizon(
    calendar: BusyCalendar, feed_server: HTTPServer
) -> None:
    """The second fetch is conditional; a 304 keeps the blocks and counts as a good read."""
    serve(feed_server, ONE_EVENT, headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"})
    busy_calendar_refresh(calendar=calendar)
    calendar.refresh_from_db()
    assert calendar.etag == '"v1"'
    good = blocks(calendar)

    feed_server.clear()
    feed_server.expect_request("/work.ics", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    later = NOW + timedelta(minutes=10)
    assert busy_calendar_refresh(calendar=calendar, now=later) is True
    calendar.refresh_from_db()
    assert calendar.last_fetched_at == later
    assert blocks(calendar) == good


def test_it_replaces_only_that_calendars_blocks(coach: Coach, feed_server: HTTPServer) -> None:
    work = BusyCalendar.objects.create(coach=coach, name="Work", url=feed_server.url_for("/work.ics"))
    home = BusyCalendar.objects.create(coach=coach, name="Home", url=feed_server.url_for("/home.ics"))
    manual = BusyBlock.objects.create(coach=coach, start=ny(10, 9), end=ny(10, 10), source="by hand")
    serve(feed_server, ONE_EVENT, path="/work.ics")
    serve(feed_server, X_WR_FEED, path="/home.ics")
    refresh_all_busy_calendars.delay()  # the beat task: one refresh per calendar (eager here)
    assert len(blocks(work)) == 1
    assert len(blocks(home)) == 1
    feed_server.clear()
    serve(feed_server, GOOGLE_FEED, path="/work.ics")
    busy_calendar_refresh(calendar=work)
    assert len(blocks(work)) == 8
    assert len(blocks(home)) == 1
    assert BusyBlock.objects.filter(pk=manual.pk).exists()


def test_it_schedules_the_refresh_every_ten_minutes() -> None:
    from config.celery import app

    [entry] = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "coaching.tasks.refresh_all_busy_calendars"
    ]
    assert entry["schedule"] == 600.0


# --- the dashboard ----------------------------------------------------------------


def test_it_lets_a_coach_connect_refresh_and_remove_a_calendar(
    coach_client: Client, coach: Coach, feed_server: HTTPServer, django_capture_on_commit_callbacks
) -> None:
    serve(feed_server, ONE_EVENT)
    url = feed_server.url_for("/work.ics")
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post("/dashboard/calendars/", {"name": " Work  calendar ", "url": url})
    assert response.status_code == HTTPStatus.FOUND
    calendar = BusyCalendar.objects.get(coach=coach)
    assert (calendar.name, calendar.url) == ("Work calendar", url)
    assert len(blocks(calendar)) == 1  # read right away, on commit

    page = coach_client.get("/dashboard/calendars/").content.decode()
    assert "Work calendar" in page
    assert "1 busy period ahead" in page
    assert "/work.ics" not in page  # the secret part of the address is never shown

    feed_server.clear()
    serve(feed_server, "nope", status=403)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            coach_client.post(f"/dashboard/calendars/{calendar.pk}/refresh/").status_code == HTTPStatus.FOUND
        )
    page = coach_client.get("/dashboard/calendars/").content.decode()
    assert "Could not read it" in page and "answered 403" in page
    assert "Busy times from the last good read still apply" in page

    assert coach_client.get(f"/dashboard/calendars/{calendar.pk}/refresh/").status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )
    assert (
        "Disconnect “Work calendar”?"
        in coach_client.get(f"/dashboard/calendars/{calendar.pk}/remove/").content.decode()
    )
    coach_client.post(f"/dashboard/calendars/{calendar.pk}/remove/")
    assert not BusyCalendar.objects.exists()
    assert not BusyBlock.objects.exists()


def test_it_explains_a_bad_address_in_the_form(coach_client: Client, settings) -> None:
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    for url, message in [
        ("ftp://example.com/x.ics", "Only http:// and https://"),
        ("http://127.0.0.1:9/x.ics", "private or local network"),
        ("", "This field is required"),
    ]:
        response = coach_client.post("/dashboard/calendars/", {"name": "Work", "url": url})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in response.content.decode()
    assert not BusyCalendar.objects.exists()


def test_it_keeps_each_coachs_calendars_to_themselves(coach_client: Client, feed_server: HTTPServer) -> None:
    other = BusyCalendar.objects.create(
        coach=CoachFactory(), name="Theirs", url=feed_server.url_for("/x.ics")
    )
    assert coach_client.get(f"/dashboard/calendars/{other.pk}/remove/").status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post(f"/dashboard/calendars/{other.pk}/remove/").status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post(f"/dashboard/calendars/{other.pk}/refresh/").status_code == HTTPStatus.NOT_FOUND
    assert "Theirs" not in coach_client.get("/dashboard/calendars/").content.decode()
    assert BusyCalendar.objects.filter(pk=other.pk).exists()


def test_refresh_now_is_throttled_per_calendar(
    coach_client: Client,
    coach: Coach,
    feed_server: HTTPServer,
    django_capture_on_commit_callbacks,
    monkeypatch,
) -> None:
    """Holding "Refresh now" down asks the coach's server once a minute, per calendar."""
    first = BusyCalendar.objects.create(coach=coach, name="Work", url=feed_server.url_for("/work.ics"))
    second = BusyCalendar.objects.create(coach=coach, name="Home", url=feed_server.url_for("/home.ics"))
    queued: list[tuple[tuple[object, ...], object]] = []
    monkeypatch.setattr(
        "coaching.tasks.refresh_busy_calendar.apply_async",
        lambda args, expires=None: queued.append((tuple(args), expires)),
    )
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                response = coach_client.post(f"/dashboard/calendars/{first.pk}/refresh/", follow=True)
        assert "was refreshed moments ago" in response.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            coach_client.post(f"/dashboard/calendars/{second.pk}/refresh/")
    # One message per calendar, each expiring with the next beat tick.
    assert queued == [((first.pk,), 600), ((second.pk,), 600)]
    with (
        time_machine.travel(NOW + timedelta(seconds=61), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        coach_client.post(f"/dashboard/calendars/{first.pk}/refresh/")
    assert len(queued) == 3


def test_refreshes_go_to_the_outbound_queue() -> None:
    from config.celery import app

    route = app.amqp.router.route({}, "coaching.tasks.refresh_busy_calendar")
    assert route["queue"].name == "outbound"
    assert app.amqp.router.route({}, "booking.tasks.send_booking_email")["queue"].name == "celery"


def test_the_operator_command_prints_the_busy_intervals(feed_server: HTTPServer) -> None:
    from io import StringIO

    from django.core.management import call_command

    serve(feed_server, ONE_EVENT)
    out = StringIO()
    call_command(
        "check_busy_calendar", feed_server.url_for("/work.ics"), "--time-zone", "America/New_York", stdout=out
    )
    text = out.getvalue()
    assert "1 busy interval(s) in the next 60 days (America/New_York)" in text
    assert "/work.ics" not in text  # the secret part of the address is not printed


def test_the_operator_command_exits_non_zero_with_the_coachs_message(feed_server: HTTPServer) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    serve(
        feed_server,
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261201T000000Z\r\n"
        "DURATION:PT1S\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    with pytest.raises(CommandError, match="Refused: The calendar is too large to read") as refused:
        call_command("check_busy_calendar", feed_server.url_for("/work.ics"))
    assert refused.value.returncode == 1
