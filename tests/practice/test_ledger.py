"""A pass's ledger driven by bookings and the cancellation policy kept on each booking.

Time is pinned: NOW is Tuesday 1 December 2026, 07:00 in New York; SLOT the next day at
10:00 there. The offering's notice is 24 hours unless a test sets another.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.credits import credit_state
from booking.models import Booking, BookingEvent
from booking.services import (
    PolicyViolation,
    booking_cancel,
    booking_decline,
    booking_mark_outcome,
    booking_reschedule,
    client_cancel_problem,
)
from coaching.models import Offering
from practice import services
from practice.models import Client, PassEntry
from tests.factories import CoachFactory, OfferingFactory, WeeklyHoursFactory
from tests.support import NOW, SLOT

Kind = PassEntry.Kind
CLIENT = BookingEvent.Actor.CLIENT
COACH = BookingEvent.Actor.COACH


def kinds(pass_obj) -> list[str]:
    return list(pass_obj.entries.order_by("at", "pk").values_list("kind", flat=True))


def balance(pass_obj) -> int:
    pass_obj.refresh_from_db()
    total = sum(pass_obj.entries.values_list("amount", flat=True))
    assert pass_obj.remaining == total, "the balance is the ledger's sum"
    return pass_obj.remaining


@pytest.mark.django_db
class TestGrantAndUse:
    def test_a_grant_makes_the_client_record_and_one_grant_entry(self, grant) -> None:
        pass_obj = grant()
        assert kinds(pass_obj) == [Kind.GRANT]
        assert balance(pass_obj) == 3
        assert pass_obj.expires_at == NOW + timedelta(days=30)
        assert Client.objects.get().email == "grace@example.com"

    def test_a_fixed_last_day_ends_at_midnight_in_the_coachs_zone(self, offering: Offering) -> None:
        package = services.package_save(
            coach=offering.coach, name="Winter", sessions=2, offerings=[offering], valid_until=NOW.date()
        )
        pass_obj = services.pass_grant(
            package=package, client_email="g@example.com", client_name="G", now=NOW
        )
        # 2 December 00:00 in New York is 05:00 UTC.
        assert pass_obj.expires_at == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)

    def test_booking_with_the_pass_uses_one_credit_in_the_same_transaction(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        assert balance(pass_obj) == 2
        use = pass_obj.entries.get(kind=Kind.USE)
        assert (use.booking_id, use.amount, use.actor) == (booking.pk, -1, "client")
        assert booking.client_record.email == "grace@example.com"
        assert credit_state(booking) == "used"

    def test_an_exhausted_pass_books_nothing(self, grant, book) -> None:
        pass_obj = grant()
        for i in range(3):
            book(SLOT + timedelta(hours=i), client_pass=pass_obj)
        with pytest.raises(services.PassExhausted):
            book(SLOT + timedelta(hours=4), client_pass=pass_obj)
        assert Booking.objects.count() == 3
        assert balance(pass_obj) == 0

    def test_a_session_must_start_before_the_pass_ends(self, offering: Offering, book) -> None:
        package = services.package_save(
            coach=offering.coach, name="P", sessions=1, offerings=[offering], validity_days=1
        )
        pass_obj = services.pass_grant(
            package=package, client_email="grace@example.com", client_name="G", now=NOW
        )
        with pytest.raises(services.PassExpired):
            book(SLOT, client_pass=pass_obj)  # 27 hours after the grant
        assert not Booking.objects.exists()
        assert balance(pass_obj) == 1

    def test_a_pass_for_another_offering_or_coach_or_email_is_refused(self, grant, book, offering) -> None:
        pass_obj = grant()
        other = OfferingFactory(coach=offering.coach, slug="deep", duration_minutes=30)
        with pytest.raises(services.PassNotValidHere):
            book(SLOT, on=other, client_pass=pass_obj)
        strangers = OfferingFactory(slug="elsewhere", duration_minutes=30)
        with pytest.raises(services.PassNotValidHere):
            book(SLOT, on=strangers, client_pass=pass_obj)
        with pytest.raises(services.PassNotValidHere, match="another email"):
            book(SLOT, client_pass=pass_obj, client_email="someone@example.com")
        assert not Booking.objects.exists()
        assert balance(pass_obj) == 3

    def test_a_package_only_offering_needs_a_pass(self, offering: Offering, book, grant) -> None:
        offering.package_only = True
        offering.save()
        with pytest.raises(services.PassRequired):
            book(SLOT)
        assert book(SLOT, client_pass=grant()).client_pass_id


@pytest.mark.django_db
class TestThePolicyDecidesTheCredit:
    def test_an_early_cancellation_gives_the_credit_back(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        # Exactly at the window's edge (24 h before) is still free.
        booking_cancel(booking=booking, by=CLIENT, now=SLOT - timedelta(hours=24))
        assert kinds(pass_obj) == [Kind.GRANT, Kind.USE, Kind.RETURN]
        assert balance(pass_obj) == 3
        assert credit_state(booking) == "returned"
        event = booking.events.get(kind="cancelled")
        assert event.detail["credit"] == "returned"

    def test_a_late_cancellation_forfeits_it(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        late = SLOT - timedelta(hours=24) + timedelta(seconds=1)
        assert client_cancel_problem(booking, now=late) == ""  # allowed, with its price
        booking = booking_cancel(booking=booking, by=CLIENT, now=late)
        assert kinds(pass_obj) == [Kind.GRANT, Kind.USE, Kind.FORFEIT]
        assert balance(pass_obj) == 2
        assert credit_state(booking) == "forfeited"

    def test_a_late_cancellation_returns_it_marked_late_when_the_offering_says_so(
        self, grant, book, offering: Offering
    ) -> None:
        offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
        offering.save()
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        booking_cancel(booking=booking, by=CLIENT, now=SLOT - timedelta(hours=1))
        entry = pass_obj.entries.get(kind=Kind.RETURN)
        assert entry.late is True
        assert balance(pass_obj) == 3

    def test_the_policy_in_force_when_booked_decides_not_todays(
        self, grant, book, offering: Offering
    ) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        offering.cancel_notice_minutes = 48 * 60  # stricter after the booking
        offering.save()
        booking_cancel(booking=Booking.objects.get(pk=booking.pk), by=CLIENT, now=SLOT - timedelta(hours=25))
        assert balance(pass_obj) == 3

    def test_the_grace_period_returns_it_however_close_the_call(
        self, grant, book, offering: Offering
    ) -> None:
        offering.cancel_grace_minutes = 30
        offering.save()
        pass_obj = grant()
        booked_at = SLOT - timedelta(hours=2)
        with time_machine.travel(booked_at, tick=False):
            inside = book(SLOT, client_pass=pass_obj, now=booked_at)
            outside = book(SLOT + timedelta(hours=1), client_pass=pass_obj, now=booked_at)
        # The grace's last instant, 30 minutes after booking, inside the 24-hour notice.
        inside = booking_cancel(booking=inside, by=CLIENT, now=booked_at + timedelta(minutes=30))
        outside = booking_cancel(booking=outside, by=CLIENT, now=booked_at + timedelta(minutes=30, seconds=1))
        assert (credit_state(inside), credit_state(outside)) == ("returned", "forfeited")

    def test_coach_cancel_and_decline_give_it_back(self, grant, book, offering: Offering) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        booking_cancel(booking=booking, by=COACH, now=SLOT - timedelta(minutes=5))
        offering.requires_approval = True
        offering.save()
        pending = book(SLOT + timedelta(hours=1), client_pass=pass_obj)
        booking_decline(booking=pending, now=NOW)
        assert [e.kind for e in pass_obj.entries.order_by("pk")] == [
            Kind.GRANT,
            Kind.USE,
            Kind.RETURN,
            Kind.USE,
            Kind.RETURN,
        ]
        assert balance(pass_obj) == 3

    def test_a_no_show_forfeits_it_and_the_coach_may_give_it_back_once(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        booking_mark_outcome(
            booking=booking, outcome=Booking.Status.NO_SHOW, now=SLOT + timedelta(minutes=40)
        )
        assert credit_state(Booking.objects.get(pk=booking.pk)) == "forfeited"
        assert balance(pass_obj) == 2
        with pytest.raises(services.PracticeError):
            services.credit_return_forfeited(pass_id=pass_obj.pk, booking_id=booking.pk, reason="  ")
        services.credit_return_forfeited(pass_id=pass_obj.pk, booking_id=booking.pk, reason="Train strike")
        assert balance(pass_obj) == 3
        with pytest.raises(services.PracticeError, match="already"):
            services.credit_return_forfeited(pass_id=pass_obj.pk, booking_id=booking.pk, reason="Again")
        assert balance(pass_obj) == 3

    def test_a_completed_session_keeps_its_credit_used(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        booking_mark_outcome(
            booking=booking, outcome=Booking.Status.COMPLETED, now=SLOT + timedelta(minutes=40)
        )
        with pytest.raises(services.PracticeError, match="Only a forfeited"):
            services.credit_return_forfeited(pass_id=pass_obj.pk, booking_id=booking.pk, reason="Nice")
        assert balance(pass_obj) == 2

    def test_a_reschedule_keeps_the_credit_but_not_past_the_pass_end(self, offering: Offering, book) -> None:
        package = services.package_save(
            coach=offering.coach, name="P", sessions=1, offerings=[offering], validity_days=2
        )
        pass_obj = services.pass_grant(
            package=package, client_email="grace@example.com", client_name="G", now=NOW
        )
        booking = book(SLOT, client_pass=pass_obj)
        booking = booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by=CLIENT, now=NOW)
        assert balance(pass_obj) == 0
        assert kinds(pass_obj) == [Kind.GRANT, Kind.USE]
        with pytest.raises(PolicyViolation, match="ends before"):
            booking_reschedule(booking=booking, new_start=SLOT + timedelta(days=1), by=CLIENT, now=NOW)

    def test_a_booking_without_a_pass_still_cannot_be_cancelled_late_online(self, book) -> None:
        booking = book()
        with pytest.raises(PolicyViolation):
            booking_cancel(booking=booking, by=CLIENT, now=SLOT - timedelta(hours=1))


# Sunday 10:00 on a day the clocks change: New York and Berlin spring forward that night,
# Sydney falls back. 24 hours before is another wall-clock time (09:00, or 11:00 in Sydney).
DST_SUNDAYS = {
    "America/New_York": date(2026, 3, 8),
    "Europe/Berlin": date(2026, 3, 29),
    "Australia/Sydney": date(2026, 4, 5),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "client_zone"), [(z, c) for z in DST_SUNDAYS for c in ("UTC", "Asia/Tokyo")]
)
def test_the_window_edge_is_24_real_hours_across_a_dst_change(zone: str, client_zone: str, book) -> None:
    """A call booked in the coach's zone on the morning after a DST change: cancelling exactly
    24 real hours before gives the credit back, one second later forfeits it, whatever the
    wall clocks of the coach or the client say."""
    coach = CoachFactory(time_zone=zone)
    WeeklyHoursFactory(coach=coach, weekday=6, start=time(9), end=time(17))
    offering = OfferingFactory(coach=coach, duration_minutes=30, min_notice_minutes=0, horizon_days=365)
    package = services.package_save(
        coach=coach, name="Two", sessions=2, offerings=[offering], validity_days=365
    )
    booked_at = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    pass_obj = services.pass_grant(
        package=package, client_email="grace@example.com", client_name="G", now=booked_at
    )
    # In UTC: arithmetic on a zoned datetime would step the wall clock, not real time.
    start = datetime.combine(DST_SUNDAYS[zone], time(10), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    edge = start - timedelta(hours=24)
    # The day before at 10:00 on the wall is an hour off the real edge.
    assert datetime.combine(DST_SUNDAYS[zone] - timedelta(days=1), time(10), tzinfo=ZoneInfo(zone)) != edge
    on_edge = book(start, on=offering, client_pass=pass_obj, client_time_zone=client_zone, now=booked_at)
    other = book(
        start + timedelta(hours=1),
        on=offering,
        client_pass=pass_obj,
        client_time_zone=client_zone,
        now=booked_at,
    )
    on_edge = booking_cancel(booking=on_edge, by=CLIENT, now=edge)
    other = booking_cancel(booking=other, by=CLIENT, now=edge + timedelta(hours=1, seconds=1))
    assert (credit_state(on_edge), credit_state(other)) == ("returned", "forfeited")
    assert balance(pass_obj) == 1


@pytest.mark.django_db
class TestAdjustAndExpire:
    def test_an_adjustment_needs_a_reason_and_never_goes_below_zero(self, grant) -> None:
        pass_obj = grant()
        with pytest.raises(services.PracticeError):
            services.pass_adjust(pass_obj=pass_obj, amount=1, reason="")
        services.pass_adjust(pass_obj=pass_obj, amount=2, reason="Bonus", now=NOW)
        with pytest.raises(services.PracticeError, match="5 sessions left"):
            services.pass_adjust(pass_obj=pass_obj, amount=-6, reason="Oops", now=NOW)
        services.pass_adjust(pass_obj=pass_obj, amount=-5, reason="Refund", now=NOW)
        assert balance(pass_obj) == 0

    def test_expiry_writes_one_entry_once(self, grant, book) -> None:
        pass_obj = grant()
        book(client_pass=pass_obj)
        after = pass_obj.expires_at + timedelta(seconds=1)
        assert services.passes_expire_due(now=pass_obj.expires_at - timedelta(seconds=1)) == 0
        assert services.passes_expire_due(now=after) == 1
        assert services.passes_expire_due(now=after) == 0
        entry = pass_obj.entries.get(kind=Kind.EXPIRE)
        assert (entry.amount, entry.actor) == (-2, "system")
        assert balance(pass_obj) == 0

    def test_a_credit_given_back_after_expiry_expires_on_the_next_run(self, grant, book) -> None:
        pass_obj = grant()
        booking = book(client_pass=pass_obj)
        booking_mark_outcome(
            booking=booking, outcome=Booking.Status.NO_SHOW, now=SLOT + timedelta(minutes=40)
        )
        after = pass_obj.expires_at + timedelta(days=1)
        services.passes_expire_due(now=after)
        services.credit_return_forfeited(
            pass_id=pass_obj.pk, booking_id=booking.pk, reason="Sorry", now=after
        )
        assert services.passes_expire_due(now=after) == 1
        assert balance(pass_obj) == 0
