"""Waitlist emails (pure): "please confirm" for a join, and "a time is held for you" for a hold.

Each carries the entry's link /w/<token>/ (confirm, take or let go of a hold, leave the list)
and a Message-ID stable per row, so a copy re-sent after a crash is the same message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from booking.models import WaitlistEmail, WaitlistEntry
from booking.tokens import waitlist_token
from common.display import CallTime, day_label, duration_text
from common.emails import absolute_url, mailbox, render_email
from common.hour_cycle import hour_cycle_for

__all__ = ["build_waitlist_message", "entry_url", "waitlist_message_id"]


def entry_url(entry: WaitlistEntry) -> str:
    return absolute_url(reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)}))


def waitlist_message_id(email: WaitlistEmail) -> str:
    return f"<waitlist-{email.pk}@{settings.SITE_DOMAIN}>"


def build_waitlist_message(email: WaitlistEmail) -> EmailMultiAlternatives:
    """The message of one WaitlistEmail row (its entry, offering, coach and hold loaded)."""
    entry = email.entry
    with hour_cycle_for(entry.locale):
        context: dict[str, Any] = {
            "entry": entry,
            "coach": entry.coach,
            "offering": entry.offering,
            "duration": duration_text(entry.offering.duration_minutes),
            "entry_url": entry_url(entry),
            "coach_url": absolute_url(entry.coach.get_absolute_url()),
            "privacy_url": absolute_url(reverse("privacy")),
            "SITE_NAME": settings.SITE_NAME,
            "hold_minutes": settings.WAITLIST_HOLD_MINUTES,
            "first_day": f"{day_label(entry.date_from)} {entry.date_from:%Y}",
            "last_day": f"{day_label(entry.date_to)} {entry.date_to:%Y}",
        }
        if email.hold is not None:
            hold = email.hold
            context.update(
                hold=hold,
                when=CallTime.of(hold.start, hold.end, entry.time_zone),
                until=CallTime.of(hold.expires_at, None, entry.time_zone),
            )
        subject, text, html = render_email(email.kind, context)
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[mailbox(entry.email)],
        reply_to=[mailbox(entry.coach.reply_email)],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": waitlist_message_id(email)},
    )
    message.attach_alternative(html, "text/html")
    return message
