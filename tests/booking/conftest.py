from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.models import Booking
from booking.services import booking_create
from coaching.models import Offering

# Tuesday 1 December 2026, 07:00 in New York: the coach fixture works Mon-Fri 09-17 there.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Wednesday 2 December 2026, 10:00 in New York.
SLOT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def book(offering: Offering):
    """Book ``offering`` (or another) at ``start`` as a guest, with NOW pinned."""

    def make(start: datetime = SLOT, *, on: Offering | None = None, **extra: object) -> Booking:
        fields = {
            "client_name": "Grace Hopper",
            "client_email": "grace@example.com",
            "client_time_zone": "Europe/Berlin",
            "now": NOW,
            **extra,
        }
        return booking_create(offering=on or offering, start=start, **fields).booking

    return make
