"""Where a booked call takes place, as each side is told: one definition for invites, emails,
calendar links and pages.

Pure functions of a booking (with ``offering`` and ``coach`` loaded). An offering's place is
one of: a video room of the booking's own (``MEETING_ROOM_URL_TEMPLATE`` with the booking's
``room_key``, made once at booking, so a reschedule keeps the link), the coach's own video
link, a phone call (the coach calls the client's number, or the client calls the coach's),
or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote, urlsplit

from django.conf import settings

from booking.models import Booking
from coaching.models import Offering
from common.validators import clean_address, clean_line

Audience = Literal["client", "coach"]
Kind = Offering.LocationKind
# From when the "Join" button is the page's main action: calls start on time.
JOIN_SOON = timedelta(minutes=15)
VIDEO_KINDS = frozenset({Kind.ROOM, Kind.VIDEO})


@dataclass(frozen=True)
class Place:
    """``label``: the kind in a word ("Video call"); ``join_url``: the link to join, "" when
    there is none; ``location``: one line for LOCATION and calendar links; ``detail``: the
    sentence the audience reads ("Dana calls you on +44 20 7946 0000.")."""

    kind: str
    label: str
    join_url: str
    location: str
    detail: str

    @property
    def is_video(self) -> bool:
        return self.kind in VIDEO_KINDS


def is_web_url(value: str) -> bool:
    value = value.strip()
    parts = urlsplit(value)
    # A link with a space, a control or a format character in it is not one we hand on.
    return parts.scheme in ("http", "https") and bool(parts.netloc) and clean_address(value) == value


def room_url(room_key: str) -> str:
    """The booking's own room: ``MEETING_ROOM_URL_TEMPLATE`` with ``{room}`` filled in."""
    template = settings.MEETING_ROOM_URL_TEMPLATE or ""
    if not room_key or "{room}" not in template:
        return ""
    url = template.replace("{room}", quote(room_key, safe=""))
    return url if is_web_url(url) else ""


def meeting_url(booking: Booking) -> str:
    """The link to join a video call: the booking's own room, or the offering's link, or the
    coach's default; "" for phone and in-person calls."""
    offering = booking.offering
    if offering.location_kind == Kind.ROOM:
        return room_url(booking.room_key)
    if offering.location_kind != Kind.VIDEO:
        return ""
    details = offering.location_details.strip()
    if is_web_url(details):
        return details
    default = booking.coach.default_meeting_url.strip()
    return default if is_web_url(default) else ""


def _phone(booking: Booking, audience: Audience) -> tuple[str, str]:
    offering = booking.offering
    coach = clean_line(booking.coach.display_name)
    client = clean_line(booking.client_name)
    if offering.phone_caller == Offering.PhoneCaller.CLIENT:
        number = clean_line(offering.location_details)
        if audience == "coach":
            return (
                f"Phone: {number}" if number else "Phone call",
                f"{client} calls you on {number or 'your number'}.",
            )
        return f"Phone: {number}" if number else "Phone call", (
            f"Call {coach} on {number}." if number else f"{coach} will tell you which number to call."
        )
    number = clean_line(booking.client_phone)
    if audience == "coach":
        return f"Phone: {number}" if number else "Phone call", (
            f"You call {client} on {number}." if number else f"You call {client}: ask them for their number."
        )
    return f"Phone: {number}" if number else "Phone call", (
        f"{coach} calls you on {number}." if number else f"{coach} calls you."
    )


def place_of(booking: Booking, *, audience: Audience = "client") -> Place:
    """Where the call is, told to ``audience``."""
    offering = booking.offering
    kind = offering.location_kind
    label = Offering.LocationKind(kind).label if kind in Kind.values else "Call"
    if kind in VIDEO_KINDS:
        link = meeting_url(booking)
        details = clean_line(offering.location_details)
        location = link or details or "Video call"
        detail = "Join with the link: it opens in the browser." if link else "The link comes by email."
        return Place(kind, label, link, location, detail)
    if kind == Kind.PHONE:
        location, detail = _phone(booking, audience)
        return Place(kind, label, "", location, detail)
    address = clean_line(offering.location_details)
    return Place(kind, label, "", address or "In person", f"At {address}." if address else "In person.")


def join_is_near(booking: Booking, now: datetime) -> bool:
    """From 15 minutes before the start until the end: "Join" becomes the main button."""
    return booking.is_active and booking.start - JOIN_SOON <= now < booking.end
