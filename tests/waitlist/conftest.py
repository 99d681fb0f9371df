"""The waitlist's fixtures: a coach whose Wednesday 2 December 2026 has one hour, both calls
of it booked (10:00 and 10:30 in New York), and a helper that puts people in line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta

import pytest

from booking.models import Booking, WaitlistEntry
from booking.services import booking_create
from booking.waitlist import waitlist_confirm, waitlist_join
from coaching.models import Offering
from tests.factories import DateOverrideFactory
from tests.reminders import test_real_worker as real_worker
from tests.support import NOW, SLOT

# The real-worker tests' own queue and SMTP sink, as the reminder tests have them.
queue = real_worker.queue
sink = real_worker.sink

DAY = date(2026, 12, 2)
FIRST = SLOT  # 10:00 in New York
SECOND = SLOT + timedelta(minutes=30)


@pytest.fixture
def full_day(offering: Offering) -> list[Booking]:
    """Only 10:00-11:00 on 2 December, and both of its calls booked."""
    DateOverrideFactory(coach=offering.coach, date=DAY, start=time(10), end=time(11))
    return [
        booking_create(
            offering=offering,
            start=start,
            client_name=f"Booked {n}",
            client_email=f"booked{n}@example.com",
            client_time_zone="America/New_York",
            now=NOW,
        ).booking
        for n, start in enumerate((FIRST, SECOND))
    ]


@pytest.fixture
def in_line(offering: Offering, full_day: list[Booking]) -> Callable[..., WaitlistEntry]:
    """``in_line(n)``: person n joins for the full 2 December (their own zone) and confirms."""

    def make(
        n: int,
        *,
        date_from: date = DAY,
        date_to: date = DAY,
        time_zone: str = "America/New_York",
        confirm: bool = True,
    ) -> WaitlistEntry:
        entry = waitlist_join(
            offering=offering,
            name=f"Waiting {n}",
            email=f"waiting{n}@example.com",
            time_zone=time_zone,
            date_from=date_from,
            date_to=date_to,
            now=NOW,
        )
        if confirm:
            waitlist_confirm(entry=entry, now=NOW + timedelta(seconds=n))
            entry.refresh_from_db()
        return entry

    return make
