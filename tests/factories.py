"""factory-boy factories, one per model, shared by every test module."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from accounts.models import User
from booking.models import Booking
from coaching.models import BusyBlock, Coach, DateOverride, Offering, WeeklyHours

DEFAULT_PASSWORD = "correct horse battery staple 42"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Users are verified unless built with ``verified=False``."""
        if not create:
            return
        self.save()
        if extracted is not False:
            EmailAddress.objects.update_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class CoachFactory(DjangoModelFactory):
    class Meta:
        model = Coach

    user = factory.SubFactory(UserFactory)
    slug = factory.Sequence(lambda n: f"coach-{n}")
    display_name = factory.Faker("name")
    headline = "Coaching for your next best move"
    time_zone = "America/New_York"


class OfferingFactory(DjangoModelFactory):
    class Meta:
        model = Offering

    coach = factory.SubFactory(CoachFactory)
    slug = factory.Sequence(lambda n: f"offering-{n}")
    title = factory.Sequence(lambda n: f"Call {n}")
    duration_minutes = 30
    slot_step_minutes = 30
    min_notice_minutes = 0


class WeeklyHoursFactory(DjangoModelFactory):
    class Meta:
        model = WeeklyHours

    coach = factory.SubFactory(CoachFactory)
    weekday = 0
    start = time(9)
    end = time(17)


class DateOverrideFactory(DjangoModelFactory):
    class Meta:
        model = DateOverride

    coach = factory.SubFactory(CoachFactory)
    date = factory.Faker("date_object")
    start = None
    end = None


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
