"""Booking emails: which emails an event causes, and each message built from templates.

Building is pure apart from one small query (was a new booking pending?); the task in
booking/tasks.py only sends. Each booking event goes to the client and to the coach,
each in their own time zone, and every message carries the invite (booking/invites.py):
whoever got a REQUEST must get every later REQUEST and the CANCEL too, or the call
stays in their calendar after it moved or was cancelled. That includes the coach's
own actions, for the copy of the event in the coach's calendar.

Templates come in threes per kind and recipient:
``emails/<kind>-<recipient>-subject.txt``, ``-body.txt`` and ``-body.html``.

Reminders and the follow-up (``build_reminder_message``) are plain
multipart/alternative emails without an invite: the booking's invite already sits
in the recipient's calendar, and a REQUEST attached to a reminder would only show
"accept / decline" buttons again. Each carries a Message-ID of its own (the row and
its generation), so a resend after a worker crash is recognisably the same email.

The MIME tree of every message (built explicitly by ``InviteEmail``)::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; charset=utf-8; method=REQUEST|CANCEL
      application/ics; name=invite.ics   (Content-Disposition: attachment)

The ``method=`` parameter always equals the METHOD inside the calendar data: Outlook
and Gmail act on the text/calendar part, Apple Mail and others on the attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import encoders
from email.mime.base import MIMEBase
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from booking import invites, reminders
from booking.invites import dashboard_url, location_text, manage_url, meeting_url
from booking.models import Booking, BookingEvent, EmailDelivery, Reminder

__all__ = [
    "KIND_LABELS",
    "InviteEmail",
    "build_message",
    "build_reminder_message",
    "deliveries_for_event",
    "is_superseded",
    "manage_url",
    "messages_for_event",
    "reminder_message_id",
]

RECEIVED = "booking-received"
CONFIRMED = "booking-confirmed"
RESCHEDULED = "booking-rescheduled"
CANCELLED = "booking-cancelled"
DECLINED = "booking-declined"
NEW_LINK = "booking-link"

KINDS = (RECEIVED, CONFIRMED, RESCHEDULED, CANCELLED, DECLINED, NEW_LINK)
# How the dashboard names each email.
KIND_LABELS = {
    RECEIVED: "“Request received” email",
    CONFIRMED: "Confirmation email",
    RESCHEDULED: "“Call moved” email",
    CANCELLED: "Cancellation email",
    DECLINED: "“Request declined” email",
    NEW_LINK: "“Your new link” email",
}
# Emails whose invite is a REQUEST: pointless once the booking is off.
REQUEST_KINDS = frozenset({RECEIVED, CONFIRMED, RESCHEDULED})

Kind = BookingEvent.Kind
Recipient = EmailDelivery.Recipient


# ---------------------------------------------------------------------------
# Which emails
# ---------------------------------------------------------------------------
def _kind_for_event(event: BookingEvent) -> str | None:
    booking = event.booking
    if event.kind == Kind.CREATED:
        # Pending at creation? Still pending, or approved/declined since.
        was_pending = (
            booking.status == Booking.Status.PENDING
            or booking.events.filter(kind__in=(Kind.APPROVED, Kind.DECLINED)).exists()
        )
        return RECEIVED if was_pending else CONFIRMED
    return {
        Kind.APPROVED: CONFIRMED,
        Kind.RESCHEDULED: RESCHEDULED,
        Kind.CANCELLED: CANCELLED,
        Kind.DECLINED: DECLINED,
        Kind.LINK_RESET: NEW_LINK,
    }.get(event.kind)


def is_superseded(kind: str, booking: Booking) -> bool:
    """A "booked" or "moved" email for a booking that is off by now: the cancellation's email says it all."""
    return kind in REQUEST_KINDS and booking.status in invites.CANCELLED_STATUSES


# Set on the bookings of a client who deleted their account (accounts/services.py).
ANONYMISED_EMAIL = "deleted@invalid.invalid"


def deliveries_for_event(event: BookingEvent) -> list[tuple[str, str]]:
    """``(recipient, kind)`` for each email ``event`` causes; none for completed and no-show."""
    kind = _kind_for_event(event)
    if kind is None or is_superseded(kind, event.booking):
        return []
    if kind == NEW_LINK:
        # Only the client holds a manage link; an anonymised booking has nobody to tell.
        return [] if event.booking.client_email == ANONYMISED_EMAIL else [(Recipient.CLIENT, kind)]
    if event.booking.client_email == ANONYMISED_EMAIL:
        # The client closed their account: only the coach hears about it.
        return [(Recipient.COACH, kind)]
    return [(Recipient.CLIENT, kind), (Recipient.COACH, kind)]


# ---------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------
class InviteEmail(EmailMultiAlternatives):
    """An email with text, HTML and the invite, in the MIME tree calendars expect (see the module)."""

    def __init__(self, *args: Any, ics: bytes, method: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ics = ics
        self.method = method
        attachment = MIMEBase("application", "ics", name="invite.ics")
        attachment.set_payload(ics)
        encoders.encode_base64(attachment)
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        self.attach(attachment)

    def _create_alternatives(self, msg: Any) -> Any:
        # Django's alternatives take "type/subtype" only; the calendar part needs the
        # method parameter, so it is added here, after text and HTML.
        msg = super()._create_alternatives(msg)
        calendar = SafeMIMEText(self.ics.decode("utf-8"), "calendar", "utf-8")
        # Unquoted, as calendar clients write it: method=REQUEST.
        calendar.set_param("method", self.method, requote=False)
        msg.attach(calendar)
        return msg


@dataclass(frozen=True)
class When:
    """A call's time as one recipient reads it."""

    day: str  # "Wednesday 2 December 2026"
    start: str  # "16:00"
    end: str  # "16:30"
    zone: str  # "Europe/Berlin"

    @classmethod
    def of(cls, start: datetime, end: datetime | None, zone_name: str) -> When:
        zone = ZoneInfo(zone_name)
        local = start.astimezone(zone)
        return cls(
            day=f"{local:%A} {local.day} {local:%B %Y}",
            start=f"{local:%H:%M}",
            end=f"{end.astimezone(zone):%H:%M}" if end is not None else "",
            zone=zone_name,
        )

    @property
    def short(self) -> str:
        """``Wed 2 Dec, 16:00`` for subjects."""
        day_name, day, month = self.day.split(" ")[:3]
        return f"{day_name[:3]} {day} {month[:3]}, {self.start}"


def _render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    # Subjects are one line whatever a name contains (no header injection).
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def _previous_start(event: BookingEvent) -> datetime | None:
    value = event.detail.get("from") if isinstance(event.detail, dict) else None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and timezone.is_aware(parsed) else None


def build_message(event: BookingEvent, recipient: str, kind: str, *, now: datetime) -> InviteEmail:
    """The email about ``event`` for ``recipient`` ("client" or "coach"), invite included."""
    booking = event.booking
    coach = booking.coach
    for_coach = recipient == Recipient.COACH
    zone_name = coach.time_zone if for_coach else booking.client_time_zone
    previous = _previous_start(event) if kind == RESCHEDULED else None
    method = invites.current_method(booking)
    context = {
        "kind": kind,
        "recipient": recipient,
        "event": event,
        "actor": event.actor,
        "booking": booking,
        "coach": coach,
        "offering": booking.offering,
        "when": When.of(booking.start, booking.end, zone_name),
        "previous": When.of(previous, None, zone_name) if previous else None,
        "reason": booking.cancel_reason,
        "is_pending": booking.status == Booking.Status.PENDING,
        "manage_url": manage_url(booking),
        "ics_url": manage_url(booking) + "invite.ics",
        "dashboard_url": dashboard_url(booking),
        "meeting_url": meeting_url(booking),
        "location": location_text(booking),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
    }
    subject, text, html = _render(f"{kind}-{recipient}", context)
    ics = invites.invite_bytes(booking, method=method, now=now, audience="coach" if for_coach else "client")
    to = coach.user.email if for_coach else booking.client_email
    reply_to = booking.client_email if for_coach else coach.user.email
    message = InviteEmail(
        subject,
        text,
        to=[to],
        reply_to=[reply_to],
        headers={"Auto-Submitted": "auto-generated"},
        ics=ics,
        method=method,
    )
    message.attach_alternative(html, "text/html")
    return message


def messages_for_event(event: BookingEvent, *, now: datetime | None = None) -> list[InviteEmail]:
    """Every email ``event`` causes, built now (for previews and tests; the task sends one at a time)."""
    frozen_now = now or timezone.now()
    return [
        build_message(event, recipient, kind, now=frozen_now)
        for recipient, kind in deliveries_for_event(event)
    ]


# ---------------------------------------------------------------------------
# Reminders and the follow-up
# ---------------------------------------------------------------------------
def reminder_message_id(reminder: Reminder) -> str:
    """The same for every attempt at one reminder email; a reschedule's new email gets a new one."""
    return f"<reminder-{reminder.pk}-{reminder.generation}@{settings.SITE_DOMAIN}>"


def book_again_url(booking: Booking) -> str:
    """The offering's public page, where the client books the next session."""
    path = reverse("offering_page", kwargs={"coach": booking.coach.slug, "offering": booking.offering.slug})
    return settings.SITE_URL + path


def build_reminder_message(reminder: Reminder, *, now: datetime) -> EmailMultiAlternatives:
    """The reminder (or follow-up) email for ``reminder``, in its recipient's time zone."""
    booking = reminder.booking
    coach = booking.coach
    for_coach = reminder.recipient == Recipient.COACH
    zone_name = coach.time_zone if for_coach else booking.client_time_zone
    name = "follow-up" if reminder.kind == reminders.FOLLOW_UP else "reminder"
    context = {
        "kind": name,
        "recipient": reminder.recipient,
        "booking": booking,
        "coach": coach,
        "offering": booking.offering,
        "when": When.of(booking.start, booking.end, zone_name),
        "lead": reminders.describe_lead(booking.start - now),
        "manage_url": manage_url(booking),
        "dashboard_url": dashboard_url(booking),
        "book_again_url": book_again_url(booking),
        "meeting_url": meeting_url(booking),
        "location": location_text(booking),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
    }
    subject, text, html = _render(f"{name}-{reminder.recipient}", context)
    to = coach.user.email if for_coach else booking.client_email
    reply_to = booking.client_email if for_coach else coach.user.email
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[to],
        reply_to=[reply_to],
        headers={"Message-ID": reminder_message_id(reminder), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
