"""A series' invite (issue 16): one VEVENT with an RRULE in the coach's zone and its
VTIMEZONE, EXDATEs for the dates without a call, an override per moved call. Read back by
two independent parsers (icalendar with recurring-ical-events, and vobject's rruleset), both
must expand it to exactly the series' calls, across New York's DST change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
import vobject
from icalendar import Calendar

from booking.invites import (
    current_method,
    feed_bytes,
    invite_bytes,
    series_calendar,
    series_invite,
    series_uid,
)
from booking.models import Booking, BookingSeries
from booking.selectors import feed_rows
from booking.services import (
    Booker,
    booking_cancel,
    booking_create,
    booking_reschedule,
    booking_series_cancel_from,
    booking_series_create,
)
from coaching.models import Offering
from tests.support import SERIES_FIRST, SERIES_NOW

NOW = SERIES_NOW
FIRST = SERIES_FIRST
WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


def book_series(offering: Offering, **kwargs: object):
    args = {"interval_weeks": 1, "count": 5, **kwargs}
    return booking_series_create(
        offering=offering,
        start=FIRST,
        booker=Booker(name="Grace Hopper", email="grace@example.com", time_zone="Europe/Berlin"),
        now=NOW,
        **args,  # type: ignore[arg-type]
    )


def calls(series) -> list[Booking]:
    return list(series.occurrences.select_related("coach__user", "offering").order_by("series_index"))


def expanded_by_icalendar(ics: bytes) -> list[datetime]:
    events = recurring_ical_events.of(Calendar.from_ical(ics)).between(*WINDOW)
    return sorted(event["DTSTART"].dt.astimezone(UTC) for event in events)


def expanded_by_vobject(ics: bytes) -> list[datetime]:
    """vobject's own rruleset for the master, then its overrides applied by RECURRENCE-ID."""
    calendar = vobject.readOne(ics.decode())
    events = list(calendar.vevent_list)
    master = next(e for e in events if not hasattr(e, "recurrence_id"))
    starts = {dt.astimezone(UTC) for dt in master.getrruleset(addRDate=True)}
    for override in (e for e in events if hasattr(e, "recurrence_id")):
        starts.discard(override.recurrence_id.value.astimezone(UTC))
        starts.add(override.dtstart.value.astimezone(UTC))
    return sorted(starts)


def test_one_rrule_in_the_coach_s_zone_expands_to_every_call_across_dst(weekly: Offering) -> None:
    made = book_series(weekly)
    ics = series_calendar(made.series, calls(made.series), now=NOW).to_ical()
    text = ics.decode()
    assert "DTSTART;TZID=America/New_York:20270302T100000" in text
    assert "RRULE:FREQ=WEEKLY;COUNT=5;INTERVAL=1" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:America/New_York" in text
    assert text.count("BEGIN:VEVENT") == 1
    expected = sorted(b.start for b in made.bookings)
    assert expected[2] - expected[1] == timedelta(weeks=1, hours=-1)  # the DST change is in it
    assert expanded_by_icalendar(ics) == expected
    assert expanded_by_vobject(ics) == expected
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["UID"]) == series_uid(made.series)
    assert "grace@example.com" in str(event["ATTENDEE"])


def test_a_skipped_date_is_an_exdate_for_both_parsers(weekly: Offering) -> None:
    taken = booking_create(
        offering=weekly,
        start=FIRST + timedelta(weeks=2, hours=-1),
        client_name="Alan",
        client_email="alan@example.com",
        client_time_zone="UTC",
        now=NOW,
    ).booking
    made = book_series(weekly, interval_weeks=1, count=4, skip_unavailable=True)
    ics = series_calendar(made.series, calls(made.series), now=NOW).to_ical()
    assert "EXDATE;TZID=America/New_York:20270316T100000" in ics.decode()
    expected = sorted(b.start for b in made.bookings)
    assert taken.start not in expected and len(expected) == 3
    assert expanded_by_icalendar(ics) == expected
    assert expanded_by_vobject(ics) == expected


def test_a_call_off_its_date_s_time_is_an_override_with_its_recurrence_id(weekly: Offering) -> None:
    made = book_series(weekly, count=3)
    occurrences = calls(made.series)
    moved = occurrences[1]
    moved.start += timedelta(hours=2)
    moved.end += timedelta(hours=2)
    moved.sequence = 1
    ics = series_calendar(made.series, occurrences, now=NOW).to_ical()
    text = ics.decode()
    assert "RECURRENCE-ID;TZID=America/New_York:20270309T100000" in text
    assert text.count("BEGIN:VEVENT") == 2
    expected = sorted(b.start for b in occurrences)
    assert expanded_by_icalendar(ics) == expected
    assert expanded_by_vobject(ics) == expected


def test_cancelled_calls_are_dates_without_a_call(weekly: Offering) -> None:
    made = book_series(weekly, count=3)
    occurrences = calls(made.series)
    occurrences[2].status = Booking.Status.CANCELLED
    ics = series_calendar(made.series, occurrences, now=NOW).to_ical()
    expected = [occurrences[0].start, occurrences[1].start]
    assert expanded_by_icalendar(ics) == expected
    assert expanded_by_vobject(ics) == expected
    for booking in occurrences:
        booking.status = Booking.Status.CANCELLED
    with pytest.raises(ValueError):
        series_calendar(made.series, occurrences, now=NOW)


class CalendarApp:
    """What a calendar does with the iTIP messages it receives, through one parser: a
    REQUEST with the master replaces the series; a CANCEL with a RECURRENCE-ID removes that
    date. ``calls()`` expands what it holds."""

    def __init__(self, parser: str) -> None:
        self.parser = parser
        self.request: bytes | None = None
        self.cancelled: set[datetime] = set()

    def receive(self, ics: bytes) -> None:
        if self.parser == "icalendar":
            calendar = Calendar.from_ical(ics)
            method = str(calendar["METHOD"])
            recurrence_ids = [e["RECURRENCE-ID"].dt for e in calendar.walk("VEVENT") if "RECURRENCE-ID" in e]
        else:
            calendar = vobject.readOne(ics.decode())
            method = calendar.method.value
            recurrence_ids = [
                e.recurrence_id.value for e in calendar.vevent_list if hasattr(e, "recurrence_id")
            ]
        if method == "REQUEST":
            self.request = ics
            self.cancelled = set()
        elif not recurrence_ids:
            self.request = None  # the whole series is cancelled
        else:
            [recurrence_id] = recurrence_ids
            self.cancelled.add(recurrence_id.astimezone(UTC))

    def calls(self) -> list[datetime]:
        if self.request is None:
            return []
        if self.parser == "icalendar":
            events = recurring_ical_events.of(Calendar.from_ical(self.request)).between(*WINDOW)
            kept = [e for e in events if e["RECURRENCE-ID"].dt.astimezone(UTC) not in self.cancelled]
            return sorted(e["DTSTART"].dt.astimezone(UTC) for e in kept)
        calendar = vobject.readOne(self.request.decode())
        events = list(calendar.vevent_list)
        master = next(e for e in events if not hasattr(e, "recurrence_id"))
        by_date = {dt.astimezone(UTC): dt.astimezone(UTC) for dt in master.getrruleset(addRDate=True)}
        for override in (e for e in events if hasattr(e, "recurrence_id")):
            by_date[override.recurrence_id.value.astimezone(UTC)] = override.dtstart.value.astimezone(UTC)
        return sorted(start for original, start in by_date.items() if original not in self.cancelled)


def test_the_invite_life_applied_in_order_ends_with_exactly_the_server_s_calls(weekly: Offering) -> None:
    """Create, move one, cancel one: both calendars hold exactly the calls still on, across DST."""
    apps = [CalendarApp("icalendar"), CalendarApp("vobject")]

    def send(booking: Booking) -> None:
        booking = Booking.objects.select_related("coach__user", "offering", "series").get(pk=booking.pk)
        ics = invite_bytes(booking, method=current_method(booking), now=NOW)
        for app in apps:
            app.receive(ics)

    def server_calls() -> list[datetime]:
        return sorted(Booking.objects.filter(status=Booking.Status.CONFIRMED).values_list("start", flat=True))

    made = book_series(weekly, count=4)
    send(made.bookings[0])
    assert [app.calls() for app in apps] == [server_calls()] * 2

    moved = booking_reschedule(
        booking=made.bookings[1], new_start=made.bookings[1].start + timedelta(hours=2), by="client", now=NOW
    )
    send(moved)
    assert [app.calls() for app in apps] == [server_calls()] * 2
    assert moved.start in server_calls()

    cancelled = booking_cancel(booking=made.bookings[2], by="client", now=NOW)  # 16 March, after the change
    send(cancelled)
    assert len(server_calls()) == 3
    assert [app.calls() for app in apps] == [server_calls()] * 2

    # Cancel the rest from 23 March on: the rule is shortened and sent again.
    booking_series_cancel_from(series=made.series, from_index=3, by="client", now=NOW)
    series = BookingSeries.objects.get(pk=made.series.pk)
    method, ics = series_invite(series, now=NOW)
    assert method == "REQUEST"
    for app in apps:
        app.receive(ics)
    assert len(server_calls()) == 2
    assert [app.calls() for app in apps] == [server_calls()] * 2

    # And from the first: the series' own CANCEL empties both calendars.
    booking_series_cancel_from(series=series, from_index=0, by="client", now=NOW)
    method, ics = series_invite(BookingSeries.objects.get(pk=series.pk), now=NOW)
    assert method == "CANCEL"
    for app in apps:
        app.receive(ics)
    assert server_calls() == []
    assert [app.calls() for app in apps] == [[], []]


def test_a_feed_shows_a_series_as_its_invite_does(weekly: Offering) -> None:
    """One master with its RRULE and an override for the moved call, without people or alarms."""
    made = book_series(weekly, count=4)
    booking_reschedule(
        booking=made.bookings[1], new_start=made.bookings[1].start + timedelta(hours=2), by="client", now=NOW
    )
    booking_cancel(booking=made.bookings[3], by="client", now=NOW)
    ics = feed_bytes(feed_rows(Booking.objects.all()), audience="coach", name="Ada's calls", now=NOW)
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 2 and {str(e["UID"]) for e in events} == {series_uid(made.series)}
    assert "ATTENDEE" not in ics.decode() and "VALARM" not in ics.decode()
    expected = sorted(Booking.objects.filter(status="confirmed").values_list("start", flat=True))
    assert expanded_by_icalendar(ics) == expected
    assert expanded_by_vobject(ics) == expected
