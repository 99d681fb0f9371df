"""``{% booking_place booking "client" as place %}``: where a call is, for the pages that show a
booking (booking/location.py holds the rules; this only brings them to templates)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from booking.location import Place, join_is_near, place_of
from booking.models import Booking

register = template.Library()


@register.simple_tag
def booking_place(booking: Booking, audience: str = "client") -> Place:
    return place_of(booking, audience="coach" if audience == "coach" else "client")


@register.simple_tag
def join_near(booking: Booking) -> str:
    """ "soon" from 15 minutes before the start, "started" until the end, else "": then "Join"
    becomes the page's main button."""
    now = timezone.now()
    if not join_is_near(booking, now):
        return ""
    return "started" if booking.start <= now else "soon"
