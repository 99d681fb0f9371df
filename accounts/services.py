"""A client's own data: export all of it, or delete the account.

Deletion keeps the coaches' history whole: bookings stay (times, statuses, history)
but lose everything that identifies the client; upcoming calls are cancelled first so
the coach is told.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from booking.emails import ANONYMISED_EMAIL
from booking.models import Booking, BookingEvent
from booking.services import BookingError, booking_cancel
from booking.tokens import new_manage_key
from coaching.models import Subscriber

ANONYMOUS_NAME = "Deleted client"


class AccountDeletionRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _user_emails(user: User) -> list[str]:
    """The account's address and every verified one, lower-cased."""
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return sorted({email.lower() for email in [*verified, user.email]})


def _client_bookings(user: User) -> QuerySet[Booking]:
    query = Q(client=user)
    for email in _user_emails(user):
        query |= Q(client_email__iexact=email)
    return Booking.objects.filter(query)


def _subscriptions(user: User) -> QuerySet[Subscriber]:
    # Subscriber emails are stored lower-cased (coaching/community.py).
    return Subscriber.objects.filter(email__in=_user_emails(user))


def user_export_data(*, user: User) -> dict[str, Any]:
    """Everything we hold about ``user`` as a client, in plain JSON types."""
    bookings = (
        _client_bookings(user)
        .select_related("coach", "offering")
        .prefetch_related("events")
        .order_by("start")
    )
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "bookings": [
            {
                "reference": b.reference,
                "coach": b.coach.display_name,
                "offering": b.offering.title,
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
                "status": b.status,
                "name": b.client_name,
                "email": b.client_email,
                "time_zone": b.client_time_zone,
                "note": b.note,
                "answers": b.answers,
                "cancel_reason": b.cancel_reason,
                "created_at": b.created_at.isoformat(),
                "history": [
                    {"what": e.kind, "by": e.actor, "at": e.at.isoformat(), "detail": e.detail}
                    for e in b.events.all()
                ],
            }
            for b in bookings
        ],
    }
    data["community_memberships"] = [
        {
            "coach": sub.coach.display_name,
            "status": sub.status,
            "first_name": sub.first_name,
            "consent": sub.consent_text,
            "consented_at": sub.consented_at.isoformat(),
            "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
            "unsubscribed_at": sub.unsubscribed_at.isoformat() if sub.unsubscribed_at else None,
        }
        for sub in _subscriptions(user).select_related("coach").order_by("coach__display_name")
    ]
    if user.is_coach:
        coach = user.coach
        data["coach_profile"] = {
            "slug": coach.slug,
            "display_name": coach.display_name,
            "headline": coach.headline,
            "bio": coach.bio,
            "time_zone": coach.time_zone,
        }
    return data


def user_delete(*, user: User, now: datetime | None = None) -> int:
    """Delete ``user``; cancel their upcoming calls and anonymise all their bookings.

    Returns how many bookings were anonymised. A coach's account is refused: their
    clients' bookings depend on it (the operator can hand the practice over in admin).
    """
    now = now or timezone.now()
    if user.is_coach:
        raise AccountDeletionRefused(
            "Your account holds a coach profile with its clients' bookings. "
            "Please ask the site's operator to close your practice first."
        )
    with transaction.atomic():
        bookings = list(_client_bookings(user).select_for_update())
        for booking in bookings:
            if booking.is_active and booking.start > now:
                # If it changed meanwhile, anonymise it all the same.
                with contextlib.suppress(BookingError):
                    booking_cancel(
                        booking=booking,
                        by=BookingEvent.Actor.SYSTEM,
                        reason="The client closed their account.",
                        now=now,
                    )
        # Community memberships go entirely: the person asked us to forget them.
        _subscriptions(user).delete()
        count = _client_bookings(user).update(
            client=None,
            client_name=ANONYMOUS_NAME,
            client_email=ANONYMISED_EMAIL,
            note="",
            answers={},
            manage_key=new_manage_key(),  # the old manage links stop working
        )
        user.delete()
    return count
