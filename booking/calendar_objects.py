"""A booking as the coach's own CalDAV calendar stores it (issue 17, bookings out; the writing
itself is coaching/caldav.py's ``put_event`` / ``delete_event``).

The same UID, SEQUENCE and event as the booking's invite (a series: its master and overrides
in one object), so calendars that also got the invite by email see one event, not two. It is a
stored object, not an iTIP message: no METHOD. ``SCHEDULE-AGENT=CLIENT`` on the organizer and
the attendee (RFC 6638) tells the server to send no invitations of its own: we send them.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar

from booking.invites import invite_calendar, series_calendar, series_calls
from booking.models import Booking

__all__ = ["calendar_object", "object_name"]


def object_name(booking: Booking) -> str:
    """The resource's name in the calendar: the booking's (or its series') reference."""
    reference = booking.series.reference if booking.series_id is not None else booking.reference
    return f"{reference}.ics"


def calendar_object(booking: Booking, *, now: datetime) -> bytes:
    """The booking (or its whole series, as it stands) for the coach's calendar."""
    if booking.series_id is not None:
        calendar = series_calendar(booking.series, series_calls(booking.series), now=now, audience="coach")
    else:
        calendar = invite_calendar(booking, method="REQUEST", now=now, audience="coach")
    return _stored(calendar).to_ical()


def _stored(calendar: Calendar) -> Calendar:
    calendar.pop("METHOD", None)
    for event in calendar.walk("VEVENT"):
        for name in ("ORGANIZER", "ATTENDEE"):
            people = event.get(name)
            for person in people if isinstance(people, list) else [people] if people is not None else []:
                person.params["SCHEDULE-AGENT"] = "CLIENT"
    return calendar
