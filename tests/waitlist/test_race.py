"""A hold and a booking of the same freed time at once, in real threads on the real database:
one of them gets it, never both (the coach's lock, and on PostgreSQL the constraints)."""

from __future__ import annotations

import pytest

from booking.models import Booking, WaitlistHold
from booking.services import booking_create
from booking.waitlist import waitlist_match
from coaching.models import Offering
from tests.support import NOW, race
from tests.waitlist.conftest import FIRST

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.time_machine(NOW, tick=False)]


@pytest.mark.parametrize("round_", range(3))
def test_a_hold_and_a_booking_of_the_same_time_never_both_win(
    round_: int, offering: Offering, full_day, in_line
) -> None:
    in_line(1)
    in_line(2)
    # The time frees up and the waitlist has not run yet: the matcher and two clients reach for it.
    Booking.objects.filter(pk=full_day[0].pk).update(status=Booking.Status.CANCELLED)
    assert not WaitlistHold.objects.exists()

    def attempt(i: int) -> str:
        if i == 0:
            return "held" if waitlist_match(coach_id=offering.coach_id, now=NOW) else "nothing to hold"
        booking_create(
            offering=offering,
            start=FIRST,
            client_name=f"Walk In {i}",
            client_email=f"walkin{i}@example.com",
            client_time_zone="UTC",
            now=NOW,
        )
        return "booked"

    outcomes = race(3, attempt)
    holds = WaitlistHold.objects.filter(start=FIRST, status=WaitlistHold.Status.HELD).count()
    booked = Booking.objects.filter(start=FIRST, status__in=Booking.ACTIVE_STATUSES).count()
    assert holds + booked == 1, outcomes
    assert not any(o.startswith("error") for o in outcomes), outcomes
    if holds:
        assert outcomes == {"held": 1, "taken": 2}
    else:
        assert outcomes["booked"] == 1 and outcomes["nothing to hold"] == 1
