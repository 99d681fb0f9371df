"""Reminder rows follow their booking: created with it, moved with it, cancelled with it.

Every change happens in the booking service's own transaction (booking/services.py),
so a booking never exists without its reminders, nor a cancelled one with live ones.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from booking import tasks
from booking.models import Booking, Reminder
from booking.reminders import FOLLOW_UP
from booking.services import (
    booking_approve,
    booking_cancel,
    booking_decline,
    booking_mark_outcome,
    booking_reschedule,
)
from coaching.models import Offering
from tests.reminders.conftest import rows
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

S = Reminder.Status
END = SLOT + timedelta(minutes=30)


def test_it_creates_the_reminders_with_a_confirmed_booking(book) -> None:
    """Defaults: the client 24 h and 1 h before, the coach 1 h before, the follow-up an hour after."""
    booking = book()
    found = rows(booking)
    assert {key: r.due_at for key, r in found.items()} == {
        ("client", "before-1440"): SLOT - timedelta(hours=24),
        ("client", "before-60"): SLOT - timedelta(hours=1),
        ("coach", "before-60"): SLOT - timedelta(hours=1),
        ("client", FOLLOW_UP): END + timedelta(hours=1),
    }
    assert {(r.status, r.generation, r.attempts) for r in found.values()} == {(S.SCHEDULED, 1, 0)}


def test_it_creates_no_reminder_whose_time_has_passed(book) -> None:
    """A call in 2 hours: no "your call is in 24 hours"."""
    booking = book(NOW + timedelta(hours=2))
    assert set(rows(booking)) == {("client", "before-60"), ("coach", "before-60"), ("client", FOLLOW_UP)}


def test_it_uses_the_offerings_own_offsets(book, offering: Offering) -> None:
    """Set in the dashboard: 2 h before to the client, none to the coach, no follow-up."""
    offering.reminder_offsets = {"client": [120], "coach": []}
    offering.follow_up_enabled = False
    offering.save()
    booking = book()
    assert {key: r.due_at for key, r in rows(booking).items()} == {
        ("client", "before-120"): SLOT - timedelta(hours=2),
    }


def test_it_plans_reminders_for_a_pending_booking_only_once_approved(book, offering: Offering) -> None:
    """A request that may still be declined gets none; approval plans them from its own time."""
    offering.requires_approval = True
    offering.save()
    booking = book()
    assert booking.status == Booking.Status.PENDING
    assert rows(booking) == {}
    approved_at = SLOT - timedelta(hours=20)  # after the 24-hour mark
    booking_approve(booking=booking, now=approved_at)
    assert set(rows(booking)) == {("client", "before-60"), ("coach", "before-60"), ("client", FOLLOW_UP)}


def test_it_leaves_a_declined_request_without_reminders(book, offering: Offering) -> None:
    offering.requires_approval = True
    offering.save()
    booking = book()
    booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by="coach", now=NOW)
    booking_decline(booking=booking, reason="", now=NOW)
    assert Reminder.objects.count() == 0


def test_it_cancels_unsent_reminders_when_the_booking_is_cancelled(book) -> None:
    """What has gone out stays "sent" in the history; the rest will never go."""
    booking = book()
    sent = rows(booking)[("client", "before-1440")]
    Reminder.objects.filter(pk=sent.pk).update(status=S.SENT, sent_at=NOW)
    booking_cancel(booking=booking, by="coach", reason="", now=NOW)
    assert {key: r.status for key, r in rows(booking).items()} == {
        ("client", "before-1440"): S.SENT,
        ("client", "before-60"): S.CANCELLED,
        ("coach", "before-60"): S.CANCELLED,
        ("client", FOLLOW_UP): S.CANCELLED,
    }


def test_it_moves_scheduled_reminders_with_a_reschedule(book) -> None:
    """Same rows, new times: nothing was sent yet, so nothing needs a new email."""
    booking = book()
    before = {key: r.pk for key, r in rows(booking).items()}
    new_start = SLOT + timedelta(days=1)
    booking_reschedule(booking=booking, new_start=new_start, by="client", now=NOW)
    after = rows(booking)
    assert {key: r.pk for key, r in after.items()} == before
    assert after[("client", "before-1440")].due_at == new_start - timedelta(hours=24)
    assert after[("coach", "before-60")].due_at == new_start - timedelta(hours=1)
    assert after[("client", FOLLOW_UP)].due_at == new_start + timedelta(minutes=90)
    assert {(r.status, r.generation) for r in after.values()} == {(S.SCHEDULED, 1)}


def test_it_sends_the_24_hour_reminder_again_after_a_reschedule_only_if_still_ahead(
    book, dispatch, time_machine, settings
) -> None:
    """The 24-hour reminder went out, then the call moves two days later: it is armed again for
    the new time, as a new email (next generation, so a new Message-ID)."""
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=24), tick=False)
    assert dispatch() == 1
    day_before = Reminder.objects.get(booking=booking, kind="before-1440")
    assert day_before.status == S.SENT and len(mail.outbox) == 1

    now = SLOT - timedelta(hours=23)
    time_machine.move_to(now, tick=False)
    new_start = SLOT + timedelta(days=2)
    booking_reschedule(booking=booking, new_start=new_start, by="coach", now=now)
    day_before.refresh_from_db()
    assert (day_before.status, day_before.generation, day_before.sent_at) == (S.SCHEDULED, 2, None)
    assert day_before.due_at == new_start - timedelta(hours=24)

    time_machine.move_to(day_before.due_at, tick=False)
    assert dispatch() == 1
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [
        f"<reminder-{day_before.pk}-1@{settings.SITE_DOMAIN}>",
        f"<reminder-{day_before.pk}-2@{settings.SITE_DOMAIN}>",
    ]


def test_it_does_not_send_the_24_hour_reminder_again_when_the_new_time_is_closer(
    book, dispatch, time_machine
) -> None:
    """Moved to 4 hours from now after the 24-hour reminder went out: no second "in 24 hours"."""
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=24), tick=False)
    dispatch()
    now = SLOT - timedelta(hours=23)  # Tuesday 11:00 in New York
    new_start = now + timedelta(hours=4)
    booking_reschedule(booking=booking, new_start=new_start, by="coach", now=now)
    found = rows(booking)
    assert (found[("client", "before-1440")].status, found[("client", "before-1440")].generation) == (
        S.SENT,
        1,
    )
    assert found[("client", "before-60")].due_at == new_start - timedelta(hours=1)
    assert found[("client", "before-60")].status == S.SCHEDULED


def test_it_creates_a_reminder_that_was_skipped_when_a_reschedule_puts_it_ahead(book) -> None:
    """Booked 2 hours ahead (no 24-hour reminder), then moved to next week: now it gets one."""
    booking = book(NOW + timedelta(hours=2))
    new_start = SLOT + timedelta(days=7)
    booking_reschedule(booking=booking, new_start=new_start, by="coach", now=NOW)
    day_before = rows(booking)[("client", "before-1440")]
    assert (day_before.status, day_before.due_at) == (S.SCHEDULED, new_start - timedelta(hours=24))


def test_it_cancels_a_reminder_whose_new_time_has_passed(book) -> None:
    """Moved to 30 minutes from now: the 1-hour reminders would be late, so they are cancelled."""
    booking = book()
    new_start = NOW + timedelta(hours=2, minutes=30)  # 09:30 in New York
    now = new_start - timedelta(minutes=30)
    booking_reschedule(booking=booking, new_start=new_start, by="coach", now=now)
    found = rows(booking)
    assert found[("client", "before-60")].status == S.CANCELLED
    assert found[("coach", "before-60")].status == S.CANCELLED
    assert found[("client", "before-1440")].status == S.CANCELLED
    assert found[("client", FOLLOW_UP)].status == S.SCHEDULED


def test_it_arms_a_claimed_reminder_again_and_the_old_claim_sends_nothing(book, time_machine) -> None:
    """A reschedule lands between the claim and the send: the send finds the row changed and
    sends nothing; the reminder goes at its new time instead."""
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=24), tick=False)
    (claimed_id, claim), *_ = tasks.claim_due_reminders(now=SLOT - timedelta(hours=24))
    booking_reschedule(booking=booking, new_start=SLOT + timedelta(days=1), by="coach", now=NOW)
    assert tasks.send_reminder(claimed_id, claim) == "stale"
    assert mail.outbox == []
    reminder = Reminder.objects.get(pk=claimed_id)
    assert (reminder.status, reminder.generation) == (S.SCHEDULED, 2)


def test_it_follows_the_offering_when_follow_ups_are_turned_off_before_a_reschedule(
    book, offering: Offering
) -> None:
    """A reschedule plans with the offering's settings at that moment, as a new booking would."""
    booking = book()
    offering.follow_up_enabled = False
    offering.save()
    booking_reschedule(booking=booking, new_start=SLOT + timedelta(days=1), by="coach", now=NOW)
    assert rows(booking)[("client", FOLLOW_UP)].status == S.CANCELLED


def test_it_keeps_reminders_when_a_call_is_marked_completed(book) -> None:
    """Completed calls still get their follow-up (sending checks the outcome then)."""
    booking = book()
    booking_mark_outcome(booking=booking, outcome=Booking.Status.COMPLETED, now=END)
    assert rows(booking)[("client", FOLLOW_UP)].status == S.SCHEDULED
