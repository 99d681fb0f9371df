"""No credit doubled under concurrency: real threads against the real database."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from booking.models import Booking
from booking.services import booking_create
from coaching.models import Offering
from practice import services
from practice.models import Package
from tests.booking.test_no_double_booking import race
from tests.support import NOW, SLOT


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_bookings_with_two_credits_make_exactly_two(offering: Offering) -> None:
    package = Package.objects.get(
        pk=services.package_save(
            coach=offering.coach, name="Two calls", sessions=2, offerings=[offering], validity_days=30
        ).pk
    )
    pass_obj = services.pass_grant(
        package=package, client_email="grace@example.com", client_name="Grace", now=NOW
    )

    def attempt(i: int) -> str:
        try:
            booking_create(
                offering=offering,
                # Ten different free times: only the credits can run out.
                start=SLOT + timedelta(minutes=30 * i),
                client_name="Grace",
                client_email="grace@example.com",
                client_time_zone="UTC",
                client_pass=pass_obj,
                now=NOW,
            )
        except services.PassExhausted:
            return "exhausted"
        return "booked"

    outcomes = race(10, attempt)
    assert outcomes == Counter({"booked": 2, "exhausted": 8})
    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 0
    amounts = list(pass_obj.entries.values_list("kind", "amount"))
    assert sorted(amounts) == [("grant", 2), ("use", -1), ("use", -1)]
    assert Booking.objects.filter(client_pass=pass_obj).count() == 2
