"""Booking emails: which emails an event causes, and each message built from templates.

Pure apart from one small query (was a new booking pending?); booking/tasks.py only sends.
Every booking email carries the invite in the MIME tree calendars expect (``InviteEmail``);
reminders carry none. Details: docs/architecture.md, "Invites and emails".
"""

from __future__ import annotations

from datetime import datetime
from email import encoders
from email.mime.base import MIMEBase
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from booking import invites, reminders
from booking.display import policy_lines
from booking.invites import dashboard_url, location_text, manage_url
from booking.location import meeting_url, place_of
from booking.models import Booking, BookingEvent, EmailDelivery, Reminder
from common.display import CallTime
from common.emails import absolute_url, mailbox, render_email
from common.hour_cycle import hour_cycle_for

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
# To the client of a package session marked a no-show: what became of its credit.
NO_SHOW = "booking-no-show"

# A standing series: one email for all its calls when booked, one when the rest is cancelled.
SERIES_BOOKED = "series-booked"
SERIES_CANCELLED = "series-cancelled"

KINDS = (
    RECEIVED,
    CONFIRMED,
    RESCHEDULED,
    CANCELLED,
    DECLINED,
    NEW_LINK,
    NO_SHOW,
    SERIES_BOOKED,
    SERIES_CANCELLED,
)
# How the dashboard names each email.
KIND_LABELS = {
    RECEIVED: "“Request received” email",
    CONFIRMED: "Confirmation email",
    RESCHEDULED: "“Call moved” email",
    CANCELLED: "Cancellation email",
    DECLINED: "“Request declined” email",
    NEW_LINK: "“Your new link” email",
    NO_SHOW: "“Missed call” email",
    SERIES_BOOKED: "“Weekly calls booked” email",
    SERIES_CANCELLED: "“Weekly calls cancelled” email",
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
    detail = event.detail if isinstance(event.detail, dict) else {}
    if detail.get("series") or detail.get("series_rest"):
        # A whole series booked, or its rest cancelled: one email, with the first call's event.
        if not detail.get("series_first"):
            return None
        return SERIES_BOOKED if event.kind == Kind.CREATED else SERIES_CANCELLED
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
        Kind.NO_SHOW: NO_SHOW,
    }.get(event.kind)


def is_superseded(kind: str, booking: Booking) -> bool:
    """A "booked" or "moved" email for a booking that is off by now: the cancellation's email says it all."""
    return kind in REQUEST_KINDS and booking.status in invites.CANCELLED_STATUSES


# Set on the bookings of a client who deleted their account (accounts/services.py).
ANONYMISED_EMAIL = "deleted@invalid.invalid"


def deliveries_for_event(event: BookingEvent) -> list[tuple[str, str]]:
    """``(recipient, kind)`` for each email ``event`` causes; none for completed, and a no-show
    only tells the client of a package session what became of its credit."""
    kind = _kind_for_event(event)
    if kind is None or is_superseded(kind, event.booking):
        return []
    if kind == NO_SHOW:
        booking = event.booking
        detail = event.detail if isinstance(event.detail, dict) else {}
        told = booking.client_pass_id and booking.client_email != ANONYMISED_EMAIL and detail.get("credit")
        return [(Recipient.CLIENT, kind)] if told else []
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


def _previous_start(event: BookingEvent) -> datetime | None:
    value = event.detail.get("from") if isinstance(event.detail, dict) else None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and timezone.is_aware(parsed) else None


def _context(booking: Booking, recipient: str, kind: str) -> dict[str, Any]:
    """What every email about a booking shows, in the recipient's zone."""
    zone_name = booking.coach.time_zone if recipient == Recipient.COACH else booking.client_time_zone
    return {
        "kind": kind,
        "recipient": recipient,
        "zone_name": zone_name,
        "booking": booking,
        "coach": booking.coach,
        "offering": booking.offering,
        "when": CallTime.of(booking.start, booking.end, zone_name),
        "manage_url": manage_url(booking),
        "dashboard_url": dashboard_url(booking),
        "meeting_url": meeting_url(booking),
        "location": location_text(booking, audience=recipient),
        "place": place_of(booking, audience=recipient),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
        # The coach decides on a request (and prepares a call) with what the client answered.
        "answers": intake_answers(booking) if recipient == Recipient.COACH else [],
        # The client's deadlines to cancel and move, in their zone and clock (emails/_policy.*).
        "policy": policy_lines(booking.offering, booking=booking, zone_name=zone_name)
        if recipient == Recipient.CLIENT
        else [],
    }


def intake_answers(booking: Booking) -> list[tuple[str, str]]:
    """The intake answers as ``(question, answer)`` pairs, in the order given.

    Rows written before answers were validated may hold anything JSON can; an email
    shows text only.
    """
    answers = booking.answers if isinstance(booking.answers, dict) else {}
    return [(str(label), "" if value is None else str(value)) for label, value in answers.items()]


def _addresses(booking: Booking, recipient: str) -> tuple[list[str], list[str]]:
    """``(to, reply_to)``: each side's email replies to the other; header-safe whatever the rows hold."""
    client_email = mailbox(booking.client_email)
    if recipient == Recipient.COACH:
        return [mailbox(booking.coach.user.email)], [client_email]
    return [client_email], [mailbox(booking.coach.reply_email)]


def recipient_locale(booking: Booking, recipient: str) -> str:
    """The language tag whose clock (12- or 24-hour) the recipient reads."""
    return booking.coach.locale if recipient == Recipient.COACH else booking.client_locale


def build_message(event: BookingEvent, recipient: str, kind: str, *, now: datetime) -> InviteEmail:
    """The email about ``event`` for ``recipient`` ("client" or "coach"), invite included."""
    with hour_cycle_for(recipient_locale(event.booking, recipient)):
        return _build_message(event, recipient, kind, now=now)


def _series_context(booking: Booking, zone_name: str) -> dict[str, Any]:
    """A series' calls for its emails, in the recipient's zone: each date with its time, and
    whether it falls at another time than the first (the two zones change DST apart)."""
    series = booking.series
    calls = [b for b in invites.series_calls(series) if b.status in Booking.ACTIVE_STATUSES]
    first = calls[0].start.astimezone(ZoneInfo(zone_name)).time() if calls else None
    return {
        "series": series,
        "series_calls": [
            {
                "when": CallTime.of(b.start, b.end, zone_name),
                "other_time": b.start.astimezone(ZoneInfo(zone_name)).time() != first,
                "manage_url": manage_url(b),
                "dashboard_url": dashboard_url(b),
            }
            for b in calls
        ],
    }


def _build_message(event: BookingEvent, recipient: str, kind: str, *, now: datetime) -> InviteEmail:
    booking = event.booking
    context = _context(booking, recipient, kind)
    previous = _previous_start(event) if kind == RESCHEDULED else None
    method = invites.current_method(booking)
    audience = "coach" if recipient == Recipient.COACH else "client"
    if kind in (SERIES_BOOKED, SERIES_CANCELLED):
        context.update(_series_context(booking, context["zone_name"]))
        # One set of deadlines would be the first call's: the rules hold for each call.
        context.update(policy=policy_lines(booking.offering), policy_each_call=True)
        method, ics = invites.series_invite(booking.series, now=now, audience=audience)
    else:
        ics = invites.invite_bytes(booking, method=method, now=now, audience=audience)
    context.update(
        event=event,
        actor=event.actor,
        previous=CallTime.of(previous, None, context["zone_name"]) if previous else None,
        reason=booking.cancel_reason,
        credit=credit_line(event, recipient),
        is_pending=booking.status == Booking.Status.PENDING,
        ics_url=context["manage_url"] + "invite.ics",
    )
    subject, text, html = render_email(f"{kind}-{recipient}", context)
    to, reply_to = _addresses(booking, recipient)
    message = InviteEmail(
        subject,
        text,
        to=to,
        reply_to=reply_to,
        headers={"Auto-Submitted": "auto-generated"},
        ics=ics,
        method=method,
    )
    message.attach_alternative(html, "text/html")
    return message


def credit_line(event: BookingEvent, recipient: str) -> str:
    """What a call-off or a no-show did to the session's credit, in the client's email ("" for
    none): read from the event's ``{"credit": "returned" | "forfeited", "late": bool}``."""
    booking = event.booking
    detail = event.detail if isinstance(event.detail, dict) else {}
    credit = detail.get("credit")
    if recipient != Recipient.CLIENT or not booking.client_pass_id or credit not in ("returned", "forfeited"):
        return ""
    package = booking.client_pass
    name, left = package.name, package.remaining
    if credit == "forfeited":
        if event.kind == Kind.NO_SHOW:
            return f"A missed call uses up its session of your package “{name}”: {left} left."
        return (
            f"This late cancellation uses up the session of your package “{name}”, "
            f"as the policy said: {left} left."
        )
    if detail.get("late") is True:
        return f"Your session goes back on your package “{name}”, marked as a late cancellation: {left} left."
    return f"Your session goes back on your package “{name}”: {left} left."


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
    return absolute_url(
        reverse("offering_page", kwargs={"coach": booking.coach.slug, "offering": booking.offering.slug})
    )


def build_reminder_message(reminder: Reminder, *, now: datetime) -> EmailMultiAlternatives:
    """The reminder (or follow-up) email for ``reminder``, in its recipient's time zone and clock."""
    with hour_cycle_for(recipient_locale(reminder.booking, reminder.recipient)):
        return _build_reminder_message(reminder, now=now)


def _build_reminder_message(reminder: Reminder, *, now: datetime) -> EmailMultiAlternatives:
    booking = reminder.booking
    name = "follow-up" if reminder.kind == reminders.FOLLOW_UP else "reminder"
    context = _context(booking, reminder.recipient, name)
    context.update(lead=reminders.describe_lead(booking.start - now), book_again_url=book_again_url(booking))
    subject, text, html = render_email(f"{name}-{reminder.recipient}", context)
    to, reply_to = _addresses(booking, reminder.recipient)
    message = EmailMultiAlternatives(
        subject,
        text,
        to=to,
        reply_to=reply_to,
        headers={"Message-ID": reminder_message_id(reminder), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
