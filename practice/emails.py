"""The client's pass emails, built from templates: pure functions from rows to messages.

"Your package" when a pass is granted, and "your package ends soon" before its end. The words
and links here (how long a pass lasts, where it books) are shared with the pass page and the
booking page, so the email, the page and the form say the same thing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from coaching.models import Offering
from common.display import day_label, moment_label, zone_city
from common.emails import absolute_url, mailbox, render_email
from common.timezones import is_valid_timezone
from practice.models import Pass
from practice.tokens import pass_token

GRANTED = "pass-granted-client"
EXPIRING = "pass-expiring-client"

# Set on a client's record when they deleted their account (practice/services.py): nobody to tell.
FORGOTTEN_DOMAIN = "@invalid.invalid"


# ---------------------------------------------------------------------------
# Words and links shared by the pass page, the booking page and the emails
# ---------------------------------------------------------------------------
def until_label(expires_at: datetime, zone_name: str) -> str:
    """When a pass ends, as a client reads it in ``zone_name``.

    A pass with a fixed last day ends at the midnight after it: that reads "the end of
    Wednesday 2 December 2026", not "Thursday 3 December 2026, 00:00".
    """
    local = expires_at.astimezone(ZoneInfo(zone_name))
    if local.time() == time(0):
        last = local.date() - timedelta(days=1)
        return f"the end of {day_label(last)} {last:%Y}"
    return moment_label(expires_at, zone_name)


def sessions_text(count: int) -> str:
    """``1 session``, ``3 sessions``."""
    return f"{count} session{'' if count == 1 else 's'}"


def pass_summary(pass_obj: Pass, zone_name: str) -> str:
    """ "Three calls (2 left, until Thursday 31 December 2026, 07:00)"."""
    return f"{pass_obj.name} ({pass_obj.remaining} left, until {until_label(pass_obj.expires_at, zone_name)})"


def choice_label(pass_obj: Pass, zone_name: str) -> str:
    """How the booking form offers a pass: "Use a session of Three calls (2 left, until …)"."""
    return f"Use a session of {pass_summary(pass_obj, zone_name)}"


def pass_path(pass_obj: Pass) -> str:
    return reverse("pass_page", kwargs={"token": pass_token(pass_obj)})


def book_path(pass_obj: Pass, offering: Offering, *, token: str | None = None) -> str:
    """The offering's booking page, carrying the pass (``?pass=<token>``)."""
    base = reverse("offering_page", kwargs={"coach": pass_obj.coach.slug, "offering": offering.slug})
    return f"{base}?pass={token or pass_token(pass_obj)}"


def reader_zone(pass_obj: Pass) -> str:
    """The zone an email shows the pass's end in: the client's account's, else the coach's."""
    user = pass_obj.client.user
    if user is not None and is_valid_timezone(user.time_zone):
        return user.time_zone
    return pass_obj.coach.time_zone


def is_forgotten(pass_obj: Pass) -> bool:
    """The client deleted their account: their record has no address any more."""
    return pass_obj.client.email.endswith(FORGOTTEN_DOMAIN)


# ---------------------------------------------------------------------------
# The messages
# ---------------------------------------------------------------------------
def sender(pass_obj: Pass) -> str:
    """``"Dana Demo via Coaching Calls" <noreply@…>``: the coach's name, our address."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return mailbox(address, f"{pass_obj.coach.display_name} via {settings.SITE_NAME}")


def _context(pass_obj: Pass, *, now: datetime) -> dict[str, Any]:
    token = pass_token(pass_obj)
    zone_name = reader_zone(pass_obj)
    offerings = list(pass_obj.package.offerings.filter(is_active=True))
    return {
        "pass": pass_obj,
        "coach": pass_obj.coach,
        "client": pass_obj.client,
        "sessions": sessions_text(pass_obj.sessions),
        "left": sessions_text(pass_obj.remaining),
        "until": until_label(pass_obj.expires_at, zone_name),
        "zone_name": zone_name,
        "zone_city": zone_city(zone_name),
        "pass_url": absolute_url(reverse("pass_page", kwargs={"token": token})),
        "book_links": [
            (offering.title, absolute_url(book_path(pass_obj, offering, token=token)))
            for offering in offerings
        ],
        "days_left": max((pass_obj.expires_at - now).days, 0),
        "coach_url": absolute_url(pass_obj.coach.get_absolute_url()),
        "privacy_url": absolute_url(reverse("privacy")),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
    }


def _message(pass_obj: Pass, template: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    subject, text, html = render_email(template, context)
    message = EmailMultiAlternatives(
        subject,
        text,
        from_email=sender(pass_obj),
        to=[mailbox(pass_obj.client.email, pass_obj.client.name)],
        reply_to=[mailbox(pass_obj.coach.reply_email)],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def granted_message(pass_obj: Pass, *, now: datetime) -> EmailMultiAlternatives:
    """What the client got, until when, their pass link and how to book with it."""
    return _message(pass_obj, GRANTED, _context(pass_obj, now=now))


def expiring_message(pass_obj: Pass, *, now: datetime) -> EmailMultiAlternatives:
    """The pass ends soon with sessions left: when, how many, and where to book them."""
    return _message(pass_obj, EXPIRING, _context(pass_obj, now=now))
