"""Community emails, built from templates: pure functions from rows to messages.

"Please confirm", "you're already in" and a coach's broadcast. Every message to a
subscriber carries RFC 8058 one-click unsubscribe (``List-Unsubscribe`` and
``List-Unsubscribe-Post``) and the same link in the body; a broadcast's Message-ID is
stable per delivery, so a copy re-sent after a crash is recognised as the same message.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from coaching.models import Coach
from common.emails import absolute_url as absolute
from common.emails import mailbox, render_email
from common.markdown import render_markdown
from common.validators import clean_line
from community import tokens
from community.models import Broadcast, BroadcastDelivery, Subscriber

CONFIRM = "community-confirm"
ALREADY = "community-already"
BROADCAST = "community-broadcast"


def confirm_url(subscriber: Subscriber) -> str:
    return absolute(reverse("community_confirm", kwargs={"token": tokens.confirm_token(subscriber)}))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute(reverse("community_unsubscribe", kwargs={"token": tokens.unsubscribe_token(subscriber)}))


def sender(coach: Coach) -> str:
    """``"Dana Demo via Coaching Calls" <noreply@…>``: the coach's name, our address."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return mailbox(address, f"{coach.display_name} via {settings.SITE_NAME}")


def list_id(coach: Coach) -> str:
    return f"{clean_line(coach.display_name)} <{coach.slug}.community.{settings.SITE_DOMAIN}>"


def message_id(delivery: BroadcastDelivery) -> str:
    """The same for every attempt of one delivery."""
    return f"<broadcast.{delivery.broadcast_id}.{delivery.pk}@{settings.SITE_DOMAIN}>"


def _base_context(coach: Coach) -> dict[str, Any]:
    return {
        "coach": coach,
        "coach_url": absolute(coach.get_absolute_url()),
        "privacy_url": absolute(reverse("privacy")),
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
    }


def notice_message(subscriber: Subscriber) -> EmailMultiAlternatives | None:
    """The email a signup owes: "please confirm" (pending) or "already in" (confirmed); None otherwise."""
    coach = subscriber.coach
    if subscriber.status == Subscriber.Status.PENDING:
        name = CONFIRM
    elif subscriber.status == Subscriber.Status.CONFIRMED:
        name = ALREADY
    else:
        return None
    unsubscribe = unsubscribe_url(subscriber)
    context = {
        **_base_context(coach),
        "subscriber": subscriber,
        "confirm_url": confirm_url(subscriber),
        "confirm_days": tokens.CONFIRM_MAX_AGE.days,
        "unsubscribe_url": unsubscribe,
    }
    return _to_subscriber(coach, subscriber, name, context, headers={"Auto-Submitted": "auto-generated"})


def _to_subscriber(
    coach: Coach, subscriber: Subscriber, template: str, context: dict[str, Any], *, headers: dict[str, str]
) -> EmailMultiAlternatives:
    """The ``template`` email to one subscriber from their coach, with RFC 8058 one-click unsubscribe."""
    subject, text, html = render_email(template, context)
    unsubscribe = context["unsubscribe_url"]
    message = EmailMultiAlternatives(
        subject,
        text,
        from_email=sender(coach),
        to=[subscriber.email],
        reply_to=[mailbox(coach.reply_email)],
        headers={
            **headers,
            "List-Id": list_id(coach),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _broadcast_context(
    broadcast: Broadcast, *, unsubscribe: str, first_name: str, test: bool
) -> dict[str, Any]:
    return {
        **_base_context(broadcast.coach),
        "broadcast": broadcast,
        "body_html": render_markdown(broadcast.body_markdown),
        "body_text": broadcast.body_markdown,
        "first_name": first_name,
        "unsubscribe_url": unsubscribe,
        "is_test": test,
    }


def broadcast_message(
    broadcast: Broadcast, delivery: BroadcastDelivery, subscriber: Subscriber
) -> EmailMultiAlternatives:
    """One subscriber's copy of a broadcast."""
    coach = broadcast.coach
    unsubscribe = unsubscribe_url(subscriber)
    context = _broadcast_context(
        broadcast, unsubscribe=unsubscribe, first_name=subscriber.first_name, test=False
    )
    headers = {"Message-ID": message_id(delivery), "Precedence": "bulk"}
    return _to_subscriber(coach, subscriber, BROADCAST, context, headers=headers)


def broadcast_test_message(broadcast: Broadcast) -> EmailMultiAlternatives:
    """The draft as subscribers will get it, to the coach, with "[Test]" in the subject."""
    coach = broadcast.coach
    # The real unsubscribe link is per subscriber; the test points at the coach's page.
    context = _broadcast_context(
        broadcast, unsubscribe=absolute(coach.get_absolute_url()), first_name="", test=True
    )
    subject, text, html = render_email(BROADCAST, context)
    message = EmailMultiAlternatives(
        f"[Test] {subject}",
        text,
        from_email=sender(coach),
        to=[coach.user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
