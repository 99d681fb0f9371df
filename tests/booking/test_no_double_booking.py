"""No double booking, ever (invariant 2): real threads against the real database.

On PostgreSQL the exclusion constraint is the guarantee; on SQLite the IMMEDIATE
transaction with the re-check. Both must turn every loser into SlotUnavailable.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from booking.models import Booking
from booking.services import booking_create
from booking.tokens import new_manage_key, new_reference
from coaching.models import Offering
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT, race


def create(offering: Offering, start, i: int) -> str:
    booking_create(
        offering=offering,
        start=start,
        client_name=f"Client {i}",
        client_email=f"client{i}@example.com",
        client_time_zone="UTC",
        now=NOW,
    )
    return "booked"


@pytest.mark.django_db(transaction=True)
def test_it_books_one_slot_once_under_20_concurrent_requests(offering: Offering) -> None:
    """20 threads booking the same slot: exactly one booking and 19 clean conflicts."""
    outcomes = race(20, lambda i: create(offering, SLOT, i))
    assert outcomes == Counter({"booked": 1, "taken": 19})
    assert Booking.objects.filter(status="confirmed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_refuses_overlapping_lengths_and_buffers_under_concurrency(offering: Offering) -> None:
    """Different offerings racing for overlapping (buffered) times: only one wins."""
    coach = offering.coach
    long_call = OfferingFactory(coach=coach, duration_minutes=90, min_notice_minutes=0)
    buffered = OfferingFactory(
        coach=coach, duration_minutes=30, buffer_before_minutes=30, min_notice_minutes=0
    )
    attempts = [
        (offering, SLOT),
        (long_call, SLOT - timedelta(minutes=60)),
        (buffered, SLOT + timedelta(minutes=30)),
    ] * 4
    outcomes = race(len(attempts), lambda i: create(attempts[i][0], attempts[i][1], i))
    assert outcomes["booked"] == 1
    assert outcomes["taken"] == len(attempts) - 1


@pytest.mark.django_db(transaction=True)
def test_it_allows_back_to_back_bookings_made_at_the_same_moment(offering: Offering) -> None:
    starts = [SLOT + timedelta(minutes=30 * n) for n in range(6)]
    outcomes = race(len(starts), lambda i: create(offering, starts[i], i))
    assert outcomes == Counter({"booked": 6})


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the exclusion constraint is PostgreSQL's; CI's PostgreSQL pass runs this test",
)
@pytest.mark.django_db(transaction=True)
def test_it_is_guarded_by_the_database_itself_on_postgresql(offering: Offering) -> None:
    """Even a write that skips the services cannot overlap an active booking on PostgreSQL."""

    def insert(start, status="confirmed"):
        return Booking.objects.create(
            reference=new_reference(),
            coach=offering.coach,
            offering=offering,
            client_name="x",
            client_email="x@example.com",
            client_time_zone="UTC",
            start=start,
            end=start + timedelta(minutes=30),
            blocked_start=start - timedelta(minutes=5),
            blocked_end=start + timedelta(minutes=35),
            status=status,
            manage_key=new_manage_key(),
        )

    first = insert(SLOT)
    with pytest.raises(IntegrityError, match="booking_no_overlap_per_coach"), transaction.atomic():
        insert(SLOT + timedelta(minutes=34))
    # Cancelled and declined bookings hold no time.
    insert(SLOT + timedelta(minutes=10), status="cancelled")
    first.status = "cancelled"
    first.save()
    insert(SLOT + timedelta(minutes=10))
