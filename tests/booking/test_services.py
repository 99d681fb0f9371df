"""Every state change of a booking goes through booking.services and keeps the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from booking.models import Booking, BookingEvent
from booking.services import (
    IdempotencyConflict,
    InvalidTransition,
    PolicyViolation,
    SlotUnavailable,
    booking_approve,
    booking_cancel,
    booking_create,
    booking_decline,
    booking_mark_outcome,
    booking_reschedule,
    booking_reset_manage_link,
)
from booking.tokens import booking_for_manage_token, manage_token
from coaching.models import Offering
from tests.factories import CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db

CLIENT = BookingEvent.Actor.CLIENT
COACH = BookingEvent.Actor.COACH


def test_it_confirms_a_booking_of_a_free_slot(book, offering: Offering) -> None:
    """Without approval the booking is confirmed, blocks its buffered time and has history."""
    offering.buffer_before_minutes = 10
    offering.buffer_after_minutes = 15
    offering.save()
    booking = book()
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.start, booking.end) == (SLOT, SLOT + timedelta(minutes=30))
    assert booking.blocked_start == SLOT - timedelta(minutes=10)
    assert booking.blocked_end == SLOT + timedelta(minutes=45)
    assert booking.reference.startswith("BK-")
    assert list(booking.events.values_list("kind", "actor")) == [("created", "client")]


def test_it_makes_a_pending_booking_when_the_offering_needs_approval(book, offering: Offering) -> None:
    offering.requires_approval = True
    offering.save()
    assert book().status == Booking.Status.PENDING


def test_it_emails_client_and_coach_after_commit(book, django_capture_on_commit_callbacks) -> None:
    """Emails go out only once the booking is committed; the client's carries the manage link."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        booking = book()
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    client_mail = next(m for m in mail.outbox if m.to == ["grace@example.com"])
    assert manage_token(booking) in client_mail.body
    assert "Confirmed" in client_mail.subject


@pytest.mark.parametrize(
    "start",
    [
        SLOT + timedelta(minutes=10),  # not on the step
        NOW - timedelta(hours=1),  # in the past
        SLOT.replace(hour=23),  # outside the coach's hours
        SLOT + timedelta(days=3),  # a Saturday
        SLOT + timedelta(days=400),  # beyond the horizon
    ],
)
def test_it_refuses_a_time_that_is_not_a_free_slot(book, start) -> None:
    with pytest.raises(SlotUnavailable):
        book(start)
    assert not Booking.objects.exists()


def test_it_refuses_an_inactive_offering(book, offering: Offering) -> None:
    offering.is_active = False
    offering.save()
    with pytest.raises(SlotUnavailable, match="not open for booking"):
        book()


def test_it_refuses_a_slot_taken_a_moment_ago(book) -> None:
    book()
    with pytest.raises(SlotUnavailable, match="just taken"):
        book(client_email="second@example.com")
    assert Booking.objects.count() == 1


def test_it_refuses_an_overlap_of_a_different_length_and_across_buffers(book, offering: Offering) -> None:
    """A 60-minute call over a 30-minute one, and a call inside another's buffer, are refused."""
    long_call = OfferingFactory(coach=offering.coach, duration_minutes=60, slot_step_minutes=30)
    buffered = OfferingFactory(coach=offering.coach, duration_minutes=30, buffer_after_minutes=30)
    book(SLOT)
    with pytest.raises(SlotUnavailable):
        book(SLOT - timedelta(minutes=30), on=long_call)
    with pytest.raises(SlotUnavailable):
        book(SLOT - timedelta(minutes=30), on=buffered)


def test_it_allows_back_to_back_bookings(book) -> None:
    first = book(SLOT)
    second = book(SLOT + timedelta(minutes=30))
    third = book(SLOT - timedelta(minutes=30))
    assert first.end == second.start
    assert third.end == first.start


def test_it_frees_the_slot_of_a_cancelled_booking(book) -> None:
    booking = book()
    booking_cancel(booking=booking, by=COACH, reason="Ill", now=NOW)
    assert book(client_email="next@example.com").status == Booking.Status.CONFIRMED


def test_it_respects_the_daily_cap(book, offering: Offering) -> None:
    offering.daily_cap = 1
    offering.save()
    book(SLOT)
    with pytest.raises(SlotUnavailable):
        book(SLOT + timedelta(hours=2))
    assert book(SLOT + timedelta(days=1)).status == Booking.Status.CONFIRMED


def test_it_replays_a_repeated_request_with_the_same_idempotency_key(offering: Offering) -> None:
    """The same key and body give the first booking back; the same key with another body is refused."""

    def create(start=SLOT, fingerprint="a"):
        return booking_create(
            offering=offering,
            start=start,
            client_name="Grace",
            client_email="grace@example.com",
            client_time_zone="UTC",
            idempotency_key="key-1",
            fingerprint=fingerprint,
            now=NOW,
        )

    first = create()
    again = create()
    assert first.created and not again.created
    assert again.booking.pk == first.booking.pk
    assert Booking.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        create(start=SLOT + timedelta(hours=1), fingerprint="b")


def test_it_approves_and_declines_pending_bookings_only(book, offering: Offering) -> None:
    offering.requires_approval = True
    offering.save()
    pending = book(SLOT)
    approved = booking_approve(booking=pending, now=NOW)
    assert approved.status == Booking.Status.CONFIRMED
    assert approved.sequence == 1
    with pytest.raises(InvalidTransition):
        booking_approve(booking=approved, now=NOW)
    with pytest.raises(InvalidTransition):
        booking_decline(booking=approved, now=NOW)

    other = book(SLOT + timedelta(hours=1))
    declined = booking_decline(booking=other, reason="Fully booked", now=NOW)
    assert declined.status == Booking.Status.DECLINED
    assert declined.cancel_reason == "Fully booked"
    assert book(SLOT + timedelta(hours=1)).status == Booking.Status.PENDING


def test_it_reschedules_keeping_the_booking_and_its_history(book) -> None:
    booking = book(SLOT)
    moved = booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=2), by=CLIENT, now=NOW)
    assert moved.pk == booking.pk
    assert moved.start == SLOT + timedelta(hours=2)
    assert moved.sequence == 1
    assert moved.reschedule_count == 1
    event = moved.events.get(kind="rescheduled")
    assert event.detail == {"from": SLOT.isoformat(), "to": (SLOT + timedelta(hours=2)).isoformat()}
    # The old time is free again, the new one is not.
    assert book(SLOT, client_email="x@example.com")
    with pytest.raises(SlotUnavailable):
        book(SLOT + timedelta(hours=2), client_email="y@example.com")


def test_it_lets_a_booking_move_into_its_own_buffered_time(book, offering: Offering) -> None:
    """Rescheduling by 30 minutes overlaps the booking's old interval: that is allowed."""
    booking = book(SLOT)
    moved = booking_reschedule(booking=booking, new_start=SLOT + timedelta(minutes=30), by=COACH, now=NOW)
    assert moved.start == SLOT + timedelta(minutes=30)
    assert moved.reschedule_count == 0  # coach moves don't use up the client's allowance


def test_it_refuses_a_reschedule_to_a_taken_slot(book) -> None:
    booking = book(SLOT)
    book(SLOT + timedelta(hours=1), client_email="other@example.com")
    with pytest.raises(SlotUnavailable):
        booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by=CLIENT, now=NOW)
    booking.refresh_from_db()
    assert booking.start == SLOT


def test_it_holds_the_client_to_the_cancellation_notice(book, offering: Offering) -> None:
    offering.cancel_notice_minutes = 24 * 60
    offering.save()
    booking = book(SLOT)  # 27 hours after NOW
    late = SLOT - timedelta(hours=23)
    with pytest.raises(PolicyViolation, match="until 1 day before"):
        booking_cancel(booking=booking, by=CLIENT, now=late)
    # The coach may still cancel.
    assert booking_cancel(booking=booking, by=COACH, now=late).status == Booking.Status.CANCELLED


def test_it_holds_the_client_to_the_reschedule_notice_and_limit(book, offering: Offering) -> None:
    offering.reschedule_notice_minutes = 60
    offering.max_reschedules = 1
    offering.save()
    booking = book(SLOT)
    with pytest.raises(PolicyViolation, match="until 1 hour before"):
        booking_reschedule(
            booking=booking, new_start=SLOT + timedelta(hours=1), by=CLIENT, now=SLOT - timedelta(minutes=30)
        )
    booking = booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by=CLIENT, now=NOW)
    with pytest.raises(PolicyViolation, match="already been moved 1 time"):
        booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=2), by=CLIENT, now=NOW)


def test_it_refuses_to_change_a_cancelled_booking(book) -> None:
    booking = booking_cancel(booking=book(), by=CLIENT, now=NOW)
    with pytest.raises(InvalidTransition):
        booking_cancel(booking=booking, by=CLIENT, now=NOW)
    with pytest.raises(InvalidTransition):
        booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by=CLIENT, now=NOW)


def test_it_marks_outcomes_only_after_the_start(book) -> None:
    booking = book()
    with pytest.raises(InvalidTransition, match="once it has started"):
        booking_mark_outcome(booking=booking, outcome=Booking.Status.NO_SHOW, now=NOW)
    after = SLOT + timedelta(minutes=40)
    assert booking_mark_outcome(booking=booking, outcome="no_show", now=after).status == "no_show"
    assert booking_mark_outcome(booking=booking, outcome="completed", now=after).status == "completed"
    with pytest.raises(InvalidTransition):
        booking_mark_outcome(booking=booking, outcome="cancelled", now=after)


def test_it_opens_a_booking_by_its_manage_token_and_nothing_else(book) -> None:
    booking = book()
    token = manage_token(booking)
    assert booking_for_manage_token(token) == booking
    assert len(token.split(".")[1]) >= 32  # at least 128 bits of MAC
    for bad in [
        "",
        "nonsense",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        booking.reference,
        token + "x",
    ]:
        assert booking_for_manage_token(bad) is None


def test_it_revokes_the_old_link_when_the_link_is_reset(book) -> None:
    booking = book()
    old = manage_token(booking)
    booking = booking_reset_manage_link(booking=booking, now=NOW)
    assert booking_for_manage_token(old) is None
    assert booking_for_manage_token(manage_token(booking)) == booking


def test_it_keeps_one_coachs_bookings_from_blocking_another(book) -> None:
    other = OfferingFactory(coach=CoachFactory(time_zone="America/New_York"), min_notice_minutes=0)
    from tests.factories import WeeklyHoursFactory

    WeeklyHoursFactory(coach=other.coach, weekday=2)
    book(SLOT)
    assert book(SLOT, on=other).status == Booking.Status.CONFIRMED
