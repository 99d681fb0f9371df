"""Factories for busy time: busy blocks and bookings (tests/factories.py has the rest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from factory.django import DjangoModelFactory

from booking.models import Booking
from coaching.models import BusyBlock
from tests.factories import CoachFactory, OfferingFactory


class BusyBlockFactory(DjangoModelFactory):
    class Meta:
        model = BusyBlock

    coach = factory.SubFactory(CoachFactory)
    start = datetime(2026, 6, 1, 14, tzinfo=UTC)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=1))
    source = "test"


class BookingFactory(DjangoModelFactory):
    """An active booking; ``blocked_start``/``blocked_end`` follow the offering's buffers."""

    class Meta:
        model = Booking

    offering = factory.SubFactory(OfferingFactory)
    coach = factory.LazyAttribute(lambda o: o.offering.coach)
    reference = factory.Sequence(lambda n: f"BK-T{n:07d}")
    client_name = "Grace Hopper"
    client_email = factory.Sequence(lambda n: f"client{n}@example.com")
    client_time_zone = "Europe/Berlin"
    start = datetime(2026, 6, 1, 14, tzinfo=UTC)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.offering.duration_minutes))
    blocked_start = factory.LazyAttribute(
        lambda o: o.start - timedelta(minutes=o.offering.buffer_before_minutes)
    )
    blocked_end = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=o.offering.buffer_after_minutes))
    status = Booking.Status.CONFIRMED
    manage_key = factory.Sequence(lambda n: f"{n:032x}")
