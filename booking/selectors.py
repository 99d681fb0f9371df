"""Reads for booking pages: a client's own bookings and a coach's own bookings.

Every function takes the person whose rows it reads, so a view can never reach
someone else's bookings through these.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from accounts.models import User
from booking import invites
from booking.models import Booking, BookingEvent, EmailDelivery, Reminder
from coaching.models import Coach

# The coach dashboard's "when" filter.
WHEN_UPCOMING = "upcoming"
WHEN_PAST = "past"
WHEN_ALL = "all"
WHEN_CHOICES = ((WHEN_UPCOMING, "Upcoming"), (WHEN_PAST, "Past"), (WHEN_ALL, "All"))
# How far back feeds reach, and how long a cancellation stays in them.
FEED_PAST = timedelta(days=30)
FAILED_EMAILS_SHOWN = 50
# What a feed's events show that is not the booking's own (``updated_at`` covers those): the
# offering's and the coach's fields that booking/invites.py renders into SUMMARY, DESCRIPTION,
# LOCATION and URL. Changing any of them must change the feed's ETag.
FEED_SHOWN_FIELDS = (
    "offering_id",
    "offering__title",
    "offering__location_kind",
    "offering__location_details",
    "offering__duration_minutes",
    "coach_id",
    "coach__display_name",
    "coach__default_meeting_url",
)


def client_bookings(*, user: User, now: datetime, upcoming: bool) -> QuerySet[Booking]:
    """The user's bookings (linked through ``client``): upcoming soonest first, past latest first.

    A call is upcoming until it ends, so one in progress still shows its link.
    """
    qs = Booking.objects.filter(client=user).select_related("coach", "offering")
    if upcoming:
        return qs.filter(end__gt=now).order_by("start", "pk")
    return qs.filter(end__lte=now).order_by("-start", "-pk")


def coach_bookings(
    *,
    coach: Coach,
    now: datetime,
    when: str = WHEN_UPCOMING,
    status: str = "",
    offering_id: int | None = None,
) -> QuerySet[Booking]:
    """The coach's bookings, filtered; upcoming soonest first, otherwise latest first."""
    qs = Booking.objects.filter(coach=coach).select_related("offering")
    if status:
        qs = qs.filter(status=status)
    if offering_id is not None:
        qs = qs.filter(offering_id=offering_id)
    if when == WHEN_UPCOMING:
        return qs.filter(end__gt=now).order_by("start", "pk")
    if when == WHEN_PAST:
        qs = qs.filter(end__lte=now)
    return qs.order_by("-start", "-pk")


def coach_pending_bookings(*, coach: Coach, now: datetime) -> QuerySet[Booking]:
    """Bookings waiting for the coach's answer that can still be approved."""
    return (
        Booking.objects.filter(coach=coach, status=Booking.Status.PENDING, start__gt=now)
        .select_related("offering")
        .order_by("start", "pk")
    )


def coach_booking_get(*, coach: Coach, reference: str) -> Booking | None:
    """One of the coach's bookings by reference; None for anyone else's."""
    return Booking.objects.filter(coach=coach, reference=reference).select_related("offering").first()


def booking_history(*, booking: Booking) -> QuerySet[BookingEvent]:
    return BookingEvent.objects.filter(booking=booking).order_by("at", "pk")


def booking_reminders(*, booking: Booking) -> QuerySet[Reminder]:
    return Reminder.objects.filter(booking=booking).order_by("due_at", "pk")


def coach_failed_email_count(*, coach: Coach) -> int:
    return EmailDelivery.objects.filter(booking__coach=coach, status=EmailDelivery.Status.FAILED).count()


def coach_failed_emails(*, coach: Coach, limit: int = FAILED_EMAILS_SHOWN) -> list[EmailDelivery]:
    """The latest emails about the coach's bookings that could not be sent."""
    return list(
        EmailDelivery.objects.filter(booking__coach=coach, status=EmailDelivery.Status.FAILED)
        .select_related("booking")
        .order_by("-last_attempt_at", "-pk")[:limit]
    )


def coach_failed_email_get(*, coach: Coach, pk: int) -> EmailDelivery | None:
    return (
        EmailDelivery.objects.filter(pk=pk, booking__coach=coach, status=EmailDelivery.Status.FAILED)
        .select_related("booking")
        .first()
    )


def feed_bookings(
    *, now: datetime, coach: Coach | None = None, client: User | None = None
) -> QuerySet[Booking]:
    """The bookings of the coach's (or the client's) feed: not over for more than 30 days, or
    cancelled in the last 30 days."""
    since = now - FEED_PAST
    cancelled = invites.CANCELLED_STATUSES
    bookings = (
        Booking.objects.filter(coach=coach) if coach is not None else Booking.objects.filter(client=client)
    )
    return bookings.filter(
        (Q(end__gte=since) & ~Q(status__in=cancelled)) | Q(status__in=cancelled, updated_at__gte=since)
    )


def feed_stats(bookings: QuerySet[Booking]) -> dict[str, Any]:
    """A feed's validators, in one query: ``count``, the ``latest`` change, the sum of ``sequences``,
    and ``shown``, a digest of the offering and coach fields its events show.

    Grouped by those fields, so there is a row per offering in the feed, not per booking.
    """
    groups = (
        bookings.order_by()
        .values(*FEED_SHOWN_FIELDS)
        .annotate(count=Count("pk"), latest=Max("updated_at"), sequences=Sum("sequence"))
    )
    count = sequences = 0
    latest: datetime | None = None
    shown: list[tuple[Any, ...]] = []
    for group in groups:
        count += group["count"]
        sequences += group["sequences"] or 0
        if group["latest"] is not None and (latest is None or group["latest"] > latest):
            latest = group["latest"]
        shown.append(tuple(group[field] for field in FEED_SHOWN_FIELDS))
    digest = hashlib.sha256(repr(sorted(shown, key=repr)).encode()).hexdigest()
    return {"count": count, "latest": latest, "sequences": sequences, "shown": digest}


def feed_rows(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """A feed's bookings in order, with what their events show: one query."""
    return bookings.select_related("offering", "coach").order_by("start", "pk")
