"""Property test of the ledger: any sequence of bookings, cancellations (early, late, by the
coach), no-shows, credits given back, adjustments and a final expiry keeps the balance equal
to grants - uses + returns - expiries + adjustments, never negative, and equal to what a
plain model of the policy predicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.models import Booking, BookingEvent
from booking.services import booking_cancel, booking_create, booking_mark_outcome
from coaching.models import Offering
from practice import services
from practice.models import PassEntry
from tests.support import NOW

CLIENT = BookingEvent.Actor.CLIENT
COACH = BookingEvent.Actor.COACH
# Free hours of the coach fixture (Mon-Fri 09-17 in New York): Wed 2 to Tue 8 December 2026.
STARTS = [
    datetime(2026, 12, day, hour + 5, 0, tzinfo=UTC) for day in (2, 3, 4, 7, 8) for hour in range(10, 17)
]
SESSIONS = 4

Op = tuple[str, int]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.just(0)),
        st.tuples(
            st.sampled_from(["cancel_early", "cancel_late", "coach_cancel", "no_show", "give_back"]),
            st.integers(0, 9),
        ),
        st.tuples(st.just("adjust"), st.integers(-3, 3).filter(bool)),
    ),
    max_size=24,
)


class Rollback(Exception):
    pass


def ledger_identity(pass_obj) -> int:
    by_kind = dict.fromkeys(PassEntry.Kind.values, 0)
    for kind, amount in pass_obj.entries.values_list("kind", "amount"):
        by_kind[kind] += abs(amount)
    adjustments = sum(pass_obj.entries.filter(kind="adjust").values_list("amount", flat=True))
    return by_kind["grant"] - by_kind["use"] + by_kind["return"] - by_kind["expire"] + adjustments


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops, expire=st.booleans())
def test_the_balance_is_always_the_ledger_and_never_negative(
    offering: Offering, steps: list[Op], expire: bool
) -> None:
    try:
        with transaction.atomic():
            run(offering, steps, expire)
            raise Rollback
    except Rollback:
        pass


def run(offering: Offering, steps: list[Op], expire: bool) -> None:
    package = services.package_save(
        coach=offering.coach, name="Four", sessions=SESSIONS, offerings=[offering], validity_days=30
    )
    pass_obj = services.pass_grant(
        package=package, client_email="grace@example.com", client_name="G", now=NOW
    )
    expected = SESSIONS
    bookings: list[Booking] = []
    forfeited: set[int] = set()
    returned: set[int] = set()
    free = list(STARTS)
    for op, arg in steps:
        active = [b for b in bookings if b.status in Booking.ACTIVE_STATUSES]
        if op == "book" and free:
            start = free.pop(0)
            try:
                booking = booking_create(
                    offering=offering,
                    start=start,
                    client_name="G",
                    client_email="grace@example.com",
                    client_time_zone="UTC",
                    client_pass=pass_obj,
                    now=NOW,
                ).booking
            except services.PassExhausted:
                assert expected == 0
            else:
                assert expected > 0
                expected -= 1
                bookings.append(booking)
        elif op in ("cancel_early", "cancel_late", "coach_cancel") and active:
            booking = active[arg % len(active)]
            when = booking.start - (timedelta(hours=25) if op == "cancel_early" else timedelta(hours=1))
            by = COACH if op == "coach_cancel" else CLIENT
            updated = booking_cancel(booking=booking, by=by, now=when)
            bookings[bookings.index(booking)] = updated
            if op == "cancel_late":
                forfeited.add(booking.pk)
            else:
                expected += 1
                returned.add(booking.pk)
        elif op == "no_show" and active:
            booking = active[arg % len(active)]
            if booking.status == Booking.Status.CONFIRMED:
                updated = booking_mark_outcome(
                    booking=booking, outcome=Booking.Status.NO_SHOW, now=booking.start + timedelta(minutes=40)
                )
                bookings[bookings.index(booking)] = updated
                forfeited.add(booking.pk)
        elif op == "give_back" and forfeited - returned:
            target = sorted(forfeited - returned)[arg % len(forfeited - returned)]
            services.credit_return_forfeited(
                pass_id=pass_obj.pk, booking_id=target, reason="Goodwill", now=NOW
            )
            returned.add(target)
            expected += 1
        elif op == "adjust":
            try:
                services.pass_adjust(pass_obj=pass_obj, amount=arg, reason="Change", now=NOW)
            except services.PracticeError:
                assert expected + arg < 0
            else:
                expected += arg
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == expected >= 0
        assert pass_obj.remaining == sum(pass_obj.entries.values_list("amount", flat=True))
    if expire:
        services.passes_expire_due(now=pass_obj.expires_at + timedelta(seconds=1))
        services.passes_expire_due(now=pass_obj.expires_at + timedelta(seconds=2))  # again: nothing more
        expected = 0
        pass_obj.refresh_from_db()
        assert pass_obj.entries.filter(kind="expire").count() <= 1
    assert pass_obj.remaining == expected == ledger_identity(pass_obj)
