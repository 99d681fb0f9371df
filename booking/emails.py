"""Email building: a pure function from a booking event to messages; the task only sends."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from booking.models import Booking, BookingEvent
from booking.tokens import manage_token

# Which events each side hears about.
CLIENT_EVENTS = frozenset(
    {
        BookingEvent.Kind.CREATED,
        BookingEvent.Kind.APPROVED,
        BookingEvent.Kind.DECLINED,
        BookingEvent.Kind.CANCELLED,
        BookingEvent.Kind.RESCHEDULED,
    }
)
COACH_EVENTS = frozenset(
    {BookingEvent.Kind.CREATED, BookingEvent.Kind.CANCELLED, BookingEvent.Kind.RESCHEDULED}
)


def manage_url(booking: Booking) -> str:
    return f"{settings.SITE_URL}/b/{manage_token(booking)}/"


def _render(name: str, context: dict[str, object]) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def messages_for_event(event: BookingEvent) -> list[EmailMultiAlternatives]:
    booking = event.booking
    context = {
        "event": event,
        "booking": booking,
        "coach": booking.coach,
        "offering": booking.offering,
        "manage_url": manage_url(booking),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
    }
    messages = []
    if event.kind in CLIENT_EVENTS:
        subject, text, html = _render("booking-client", {**context, "zone": booking.client_time_zone})
        message = EmailMultiAlternatives(subject, text, to=[booking.client_email])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    if event.kind in COACH_EVENTS and event.actor != BookingEvent.Actor.COACH:
        subject, text, html = _render("booking-coach", {**context, "zone": booking.coach.time_zone})
        message = EmailMultiAlternatives(subject, text, to=[booking.coach.user.email])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return messages
