"""Add-to-calendar links for web calendars that do not open .ics files from a page.

Google Calendar and Outlook on the web each take an event in the query string of a
"compose" page. The event they create is the client's own copy (it does not follow
later changes the way the emailed invite does), so the details carry the manage link.
Times are UTC in both.
"""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlencode

from booking.invites import event_description, event_summary, location_text
from booking.models import Booking

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
OUTLOOK_LIVE = "https://outlook.live.com/calendar/0/deeplink/compose"
OUTLOOK_OFFICE = "https://outlook.office.com/calendar/0/deeplink/compose"


def google_calendar_url(booking: Booking) -> str:
    """Google Calendar's "create event" page, filled in with the client's view of the booking."""
    start = booking.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = booking.end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    query = {
        "action": "TEMPLATE",
        "text": event_summary(booking, audience="client"),
        "dates": f"{start}/{end}",
        "details": event_description(booking, audience="client"),
        "location": location_text(booking),
    }
    return f"{GOOGLE_CALENDAR}?{urlencode(query)}"


def _outlook_query(booking: Booking) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event_summary(booking, audience="client"),
        "startdt": booking.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": booking.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": event_description(booking, audience="client"),
        "location": location_text(booking),
    }
    return urlencode(query)


def outlook_calendar_url(booking: Booking) -> str:
    """Outlook.com (personal Microsoft accounts): the "new event" page, filled in."""
    return f"{OUTLOOK_LIVE}?{_outlook_query(booking)}"


def office365_calendar_url(booking: Booking) -> str:
    """Outlook on the web for work and school accounts (Microsoft 365): the same, filled in."""
    return f"{OUTLOOK_OFFICE}?{_outlook_query(booking)}"


def calendar_links(booking: Booking) -> dict[str, str]:
    """All three, for a template: ``{"google": ..., "outlook": ..., "office365": ...}``."""
    return {
        "google": google_calendar_url(booking),
        "outlook": outlook_calendar_url(booking),
        "office365": office365_calendar_url(booking),
    }
