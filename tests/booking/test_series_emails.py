"""A series' emails (issue 16): one email to each side for the whole series when booked,
listing every call in the reader's zone (and which fall at another time for a client whose
clocks change on another date), with the series' invite; one when the rest is cancelled,
with the shortened rule, or a CANCEL of the series when nothing is left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from booking.emails import SERIES_BOOKED, SERIES_CANCELLED, deliveries_for_event, messages_for_event
from booking.invites import series_uid
from booking.models import Booking, BookingEvent, BookingSeries
from booking.services import (
    Booker,
    InvalidTransition,
    PolicyViolation,
    booking_series_cancel_from,
    booking_series_create,
)
from coaching.models import Offering
from tests.support import SERIES_FIRST, SERIES_NOW

NOW = SERIES_NOW
FIRST = SERIES_FIRST

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


@pytest.fixture
def series(offering: Offering) -> BookingSeries:
    offering.horizon_days = 365
    offering.save(update_fields=["horizon_days"])
    return booking_series_create(
        offering=offering,
        start=FIRST,
        interval_weeks=1,
        count=5,
        booker=Booker(name="Grace Hopper", email="grace@example.com", time_zone="Europe/Berlin"),
        now=NOW,
    ).series


def events(kind: str) -> list[BookingEvent]:
    return list(
        BookingEvent.objects.filter(kind=kind)
        .select_related("booking__coach__user", "booking__offering", "booking__series")
        .order_by("booking__series_index")
    )


def test_one_email_to_each_side_for_the_whole_series(series: BookingSeries) -> None:
    created = events(BookingEvent.Kind.CREATED)
    assert len(created) == 5
    assert [deliveries_for_event(e) for e in created] == [
        [("client", SERIES_BOOKED), ("coach", SERIES_BOOKED)]
    ] + [[]] * 4
    client_email, coach_email = messages_for_event(created[0], now=NOW)
    assert client_email.to == ["grace@example.com"]
    assert "5 calls" in client_email.subject
    text = client_email.body
    # In Berlin: 16:00 for two weeks, 15:00 while New York has changed and Berlin not yet.
    calls = [line for line in text.splitlines() if line.startswith("- Tuesday")]
    assert [("16:00-16:30" in line, "another time for you" in line) for line in calls] == [
        (True, False),
        (True, False),
        (False, True),
        (False, True),
        (True, False),
    ]
    assert text.count("/b/") == 5  # a manage link for each call
    # The policy as rules for each call, not the first call's deadlines.
    assert "Cancelling and moving, for each call:" in text
    assert "Cancel online until 1 day before the call starts." in text
    assert "Cancel online until Monday" not in text
    calendar = Calendar.from_ical(client_email.ics)
    assert client_email.method == "REQUEST" == str(calendar["METHOD"])
    [master] = calendar.walk("VEVENT")
    assert str(master["UID"]) == series_uid(series)
    assert master["RRULE"]["COUNT"] == [5]
    # The coach reads New York times, all at 10:00, and no "another time".
    assert [line for line in coach_email.body.splitlines() if line.startswith("- Tuesday")] == [
        line
        for line in coach_email.body.splitlines()
        if line.startswith("- Tuesday") and "10:00-10:30" in line
    ]
    assert len([line for line in coach_email.body.splitlines() if line.startswith("- Tuesday")]) == 5
    assert "another time" not in coach_email.body


def test_cancelling_the_rest_sends_one_email_with_the_shortened_rule(series: BookingSeries) -> None:
    cancelled = booking_series_cancel_from(series=series, from_index=2, by="client", reason="Moving", now=NOW)
    assert [b.series_index for b in cancelled] == [2, 3, 4]
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 2
    series.refresh_from_db()
    assert (series.count, series.sequence) == (2, 1)
    offs = events(BookingEvent.Kind.CANCELLED)
    assert [bool(deliveries_for_event(e)) for e in offs] == [True, False, False]
    assert deliveries_for_event(offs[0])[0][1] == SERIES_CANCELLED
    client_email, _coach_email = messages_for_event(offs[0], now=NOW)
    assert "Reason: Moving" in client_email.body
    assert "Still on:" in client_email.body
    [master] = Calendar.from_ical(client_email.ics).walk("VEVENT")
    assert client_email.method == "REQUEST"
    assert master["RRULE"]["COUNT"] == [2] and master["SEQUENCE"] == 1


def test_cancelling_from_the_first_call_cancels_the_series_uid(series: BookingSeries) -> None:
    booking_series_cancel_from(series=series, from_index=0, by="coach", now=NOW)
    [first, *_] = events(BookingEvent.Kind.CANCELLED)
    client_email, coach_email = messages_for_event(first, now=NOW)
    calendar = Calendar.from_ical(client_email.ics)
    assert client_email.method == "CANCEL" == str(calendar["METHOD"])
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == series_uid(series) and str(event["STATUS"]) == "CANCELLED"
    assert "RECURRENCE-ID" not in event
    assert "No call left" not in client_email.body and "Still on" not in client_email.body


def test_a_client_inside_one_call_s_notice_cancels_nothing(series: BookingSeries) -> None:
    late = datetime(2027, 3, 2, 0, 0, tzinfo=UTC)  # 15 hours before the first call: notice is 24
    with pytest.raises(PolicyViolation):
        booking_series_cancel_from(series=series, from_index=0, by="client", now=late)
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 5
    with pytest.raises(InvalidTransition):
        booking_series_cancel_from(series=series, from_index=5, by="client", now=NOW)
