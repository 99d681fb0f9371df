"""Booking's side of coaching/clashes.py: the coach's active future calls, as plain values.

Registered from ``BookingConfig.ready`` (coaching cannot import booking): one query,
only the columns the warning shows.
"""

from __future__ import annotations

from datetime import datetime

from booking.models import Booking
from coaching.clashes import BookedCall
from coaching.models import Coach


def coach_upcoming_calls(coach: Coach, now: datetime) -> list[BookedCall]:
    """The coach's pending and confirmed bookings that start after ``now``, soonest first."""
    rows = (
        Booking.objects.filter(coach=coach, status__in=Booking.ACTIVE_STATUSES, start__gt=now)
        .select_related("offering")
        .only("reference", "client_name", "start", "end", "offering__title")
        .order_by("start", "pk")
    )
    return [
        BookedCall(
            reference=row.reference,
            client_name=row.client_name,
            offering_title=row.offering.title,
            start=row.start,
            end=row.end,
        )
        for row in rows
    ]
