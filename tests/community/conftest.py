"""Helpers for the email-community tests: links out of emails, subscribers in each state."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.mail import EmailMessage

from coaching.models import Coach
from community import tokens
from community.models import Subscriber

CONFIRM_LINK = re.compile(r"/community/confirm/([^/\s\"]+)/")
UNSUBSCRIBE_LINK = re.compile(r"/community/unsubscribe/([^/\s\"<>]+)/")


def link_path(message: EmailMessage, pattern: re.Pattern[str]) -> str:
    """The site-relative path of the first link matching ``pattern`` in the text part."""
    found = pattern.search(message.body)
    assert found, message.body
    return found.group(0)


def confirm_path(message: EmailMessage) -> str:
    return link_path(message, CONFIRM_LINK)


def unsubscribe_path(message: EmailMessage) -> str:
    return link_path(message, UNSUBSCRIBE_LINK)


def strip_site(url: str) -> str:
    assert url.startswith(settings.SITE_URL), url
    return url[len(settings.SITE_URL) :]


@pytest.fixture
def subscriber(coach: Coach) -> Callable[..., Subscriber]:
    """Make a subscriber of ``coach`` in a given state, without emails."""

    def make(email: str = "reader@example.com", status: str = Subscriber.Status.CONFIRMED, **extra: object):
        from django.utils import timezone

        now = timezone.now()
        return Subscriber.objects.create(
            coach=extra.pop("coach", coach),
            email=email,
            status=status,
            consent_text="Yes, email me.",
            consented_at=now,
            confirmed_at=now if status == Subscriber.Status.CONFIRMED else None,
            key=tokens.new_subscriber_key(),
            **extra,
        )

    return make
