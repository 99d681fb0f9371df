"""Holds: a freed time goes to the first confirmed person in line whose days fit, is blocked
for everyone else while held, and passes on when unclaimed (time pinned with time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail

from booking.models import Booking, WaitlistEmail, WaitlistEntry, WaitlistHold
from booking.services import SlotUnavailable, booking_cancel, booking_create
from booking.slots import offering_free_slots, offering_slot_is_free
from booking.tasks import send_waitlist_email, sweep_waitlist
from booking.waitlist import (
    WaitlistError,
    waitlist_leave,
    waitlist_match,
    waitlist_release,
    waitlist_sweep,
    waitlist_take,
)
from coaching.models import DateOverride, Offering
from coaching.services import date_override_delete
from tests.factories import DateOverrideFactory
from tests.support import NOW
from tests.waitlist.conftest import DAY, FIRST, SECOND

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

H = WaitlistHold.Status
E = WaitlistEntry.Status
HOLD = timedelta(minutes=30)


def offers_to(email: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [email] and "held for you" in m.subject]


def free_up(booking: Booking, capture) -> None:  # type: ignore[no-untyped-def]
    """The client cancels; on commit the waitlist is told (tasks run eagerly here)."""
    with capture(execute=True):
        booking_cancel(booking=booking, by="coach", now=NOW)


def test_joining_sends_one_confirmation_and_an_unconfirmed_entry_is_offered_nothing(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        entry = in_line(1, confirm=False)
        in_line(1, confirm=False)  # again within ten minutes: no second email
    confirmations = [m for m in mailoutbox if "Please confirm" in m.subject]
    assert len(confirmations) == 1 and confirmations[0].to == ["waiting1@example.com"]
    assert WaitlistEntry.objects.filter(email="waiting1@example.com").count() == 1
    free_up(full_day[0], django_capture_on_commit_callbacks)
    assert not WaitlistHold.objects.exists()
    entry.refresh_from_db()
    assert entry.status == E.UNCONFIRMED
    assert offering_slot_is_free(offering=offering, start=FIRST, now=NOW)


def test_a_freed_time_is_held_for_the_first_in_line_and_blocked_for_everyone_else(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    first, second = in_line(1), in_line(2)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    hold = WaitlistHold.objects.get()
    assert (hold.entry_id, hold.start, hold.status) == (first.pk, FIRST, H.HELD)
    assert hold.expires_at == NOW + HOLD
    assert len(offers_to("waiting1@example.com")) == 1
    assert offers_to("waiting2@example.com") == []
    # Nobody else sees or books the held time, by the page's slots or by booking it directly.
    assert FIRST not in offering_free_slots(offering=offering, start=DAY, end=DAY, now=NOW)
    with pytest.raises(SlotUnavailable):
        booking_create(
            offering=offering,
            start=FIRST,
            client_name="Walk In",
            client_email="walkin@example.com",
            client_time_zone="UTC",
            now=NOW,
        )
    # The second in line has no hold: there is nothing else free.
    assert not second.holds.exists()


def test_the_holder_takes_the_time_with_one_click(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    hold = entry.holds.get()
    booking = waitlist_take(entry=entry, hold_id=hold.pk, now=NOW + timedelta(minutes=5))
    assert (booking.start, booking.client_email, booking.status) == (
        FIRST,
        "waiting1@example.com",
        "confirmed",
    )
    hold.refresh_from_db()
    entry.refresh_from_db()
    assert (hold.status, hold.booking_id, entry.status) == (H.TAKEN, booking.pk, E.BOOKED)
    # A second click answers the same booking.
    assert waitlist_take(entry=entry, hold_id=hold.pk, now=NOW + timedelta(minutes=6)).pk == booking.pk
    assert Booking.objects.filter(start=FIRST, status="confirmed").count() == 1


def test_an_unclaimed_hold_lapses_and_passes_to_the_next_in_line_once(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, mailoutbox, time_machine
) -> None:
    first, second, third = in_line(1), in_line(2), in_line(3)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    assert first.holds.get().start == FIRST

    # 29 minutes on: still held, a sweep changes nothing.
    time_machine.move_to(NOW + HOLD - timedelta(minutes=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_waitlist()
    assert WaitlistHold.objects.count() == 1

    # 30 minutes on: it lapses and goes to the second in line, with one email.
    time_machine.move_to(NOW + HOLD, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_waitlist()
        sweep_waitlist()  # a doubled beat tick changes nothing
    assert first.holds.get().status == H.LAPSED
    assert second.holds.get().status == H.HELD
    assert not third.holds.exists()
    assert [len(offers_to(f"waiting{n}@example.com")) for n in (1, 2, 3)] == [1, 1, 0]

    # The first is not offered the same opening again when the second lets it lapse.
    time_machine.move_to(NOW + 2 * HOLD, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_waitlist()
    assert third.holds.get().start == FIRST
    assert first.holds.count() == 1
    assert [len(offers_to(f"waiting{n}@example.com")) for n in (1, 2, 3)] == [1, 1, 1]

    # When the whole line let it go, it is free for anyone.
    time_machine.move_to(NOW + 3 * HOLD, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_waitlist()
    assert not WaitlistHold.objects.filter(status=H.HELD).exists()
    assert offering_slot_is_free(offering=offering, start=FIRST, now=NOW + 3 * HOLD)


def test_matching_twice_makes_no_second_hold_or_email(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    entry = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist_match(coach_id=offering.coach_id, now=NOW) == []
        assert waitlist_match(coach_id=offering.coach_id, now=NOW) == []
    assert entry.holds.count() == 1
    assert WaitlistEmail.objects.filter(kind=WaitlistEmail.Kind.OFFER).count() == 1
    assert len(offers_to("waiting1@example.com")) == 1


def test_the_first_in_line_whose_days_fit_gets_the_time(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    DateOverrideFactory(coach=offering.coach, date=DAY + timedelta(days=1), start=None, end=None)
    later = in_line(1, date_from=DAY + timedelta(days=1), date_to=DAY + timedelta(days=1))  # closed
    fits = in_line(2)
    free_up(full_day[1], django_capture_on_commit_callbacks)
    assert not later.holds.exists()
    assert fits.holds.get().start == SECOND


def test_a_range_is_the_clients_days_in_their_zone(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    # 10:00 in New York on 2 December is 16:00 in Berlin that day, but already 3 December
    # 02:00 in Sydney: a Sydney client waiting for their 2 December is not offered it (and the
    # coach's 1 December, which is Sydney's 2 December too, is closed).
    DateOverrideFactory(coach=offering.coach, date=DAY - timedelta(days=1), start=None, end=None)
    sydney = in_line(1, time_zone="Australia/Sydney")
    berlin = in_line(2, time_zone="Europe/Berlin")
    free_up(full_day[0], django_capture_on_commit_callbacks)
    assert not sydney.holds.exists()
    assert berlin.holds.get().start == FIRST


def test_letting_a_hold_go_passes_it_on_at_once(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    first, second = in_line(1), in_line(2)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist_release(entry=first, hold_id=first.holds.get().pk, now=NOW)
    assert second.holds.get().status == H.HELD
    first.refresh_from_db()
    assert first.status == E.WAITING  # still on the list for another time


def test_leaving_ends_the_entry_and_passes_its_hold_on(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    first, second = in_line(1), in_line(2)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist_leave(entry=first, now=NOW)
    first.refresh_from_db()
    assert first.status == E.LEFT and first.holds.get().status == H.RELEASED
    assert second.holds.get().status == H.HELD
    assert not waitlist_leave(entry=first, now=NOW)


def test_booking_another_way_ends_the_entry(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(
            offering=offering,
            start=FIRST + timedelta(days=1),
            client_name="Waiting 1",
            client_email="WAITING1@example.com",
            client_time_zone="America/New_York",
            now=NOW,
        )
    entry.refresh_from_db()
    assert entry.status == E.BOOKED


def test_entries_end_when_their_days_pass(offering: Offering, full_day, in_line, time_machine) -> None:
    entry = in_line(1)
    time_machine.move_to(NOW + timedelta(days=2), tick=False)
    assert waitlist_sweep().ended == 1
    entry.refresh_from_db()
    assert entry.status == E.ENDED


def test_after_a_lapse_the_entry_stays_in_line_for_the_next_opening(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    waitlist_match(coach_id=offering.coach_id, now=NOW + HOLD)  # lapses, nobody else waits
    entry.refresh_from_db()
    assert entry.status == E.WAITING and entry.holds.get().status == H.LAPSED
    free_up(full_day[1], django_capture_on_commit_callbacks)
    waitlist_match(coach_id=offering.coach_id, now=NOW + HOLD)
    assert sorted(h.start for h in entry.holds.all()) == [FIRST, SECOND]


def test_a_time_free_when_joining_is_not_held_until_it_is_taken_and_frees_up(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    # 3 December has free times all day: they are the client's to book, not openings to hold.
    entry = in_line(1, date_from=DAY, date_to=DAY + timedelta(days=1))
    nine = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert nine in [datetime.fromisoformat(v) for v in entry.free_when_confirmed]
    assert waitlist_match(coach_id=offering.coach_id, now=NOW) == []
    assert offering_slot_is_free(offering=offering, start=nine, now=NOW)
    # Someone books 09:00 and cancels it: now that time has freed up, and it is held.
    with django_capture_on_commit_callbacks(execute=True):
        taken = booking_create(
            offering=offering,
            start=nine,
            client_name="Other",
            client_email="other@example.com",
            client_time_zone="UTC",
            now=NOW,
        ).booking
    entry.refresh_from_db()
    assert nine.isoformat() not in entry.free_when_confirmed
    free_up(taken, django_capture_on_commit_callbacks)
    assert entry.holds.get().start == nine


def test_hours_the_coach_opens_go_to_the_line_at_once(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        date_override_delete(coach=offering.coach, day=DAY)  # back to 09:00-17:00
    assert entry.holds.get().start == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York


def test_a_hold_ends_before_the_calls_notice_closes_it(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    offering.min_notice_minutes = 26 * 60 + 40  # FIRST (27 h away) closes in 20 minutes
    offering.save(update_fields=["min_notice_minutes"])
    entry = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    hold = entry.holds.get()
    assert hold.expires_at == FIRST - timedelta(minutes=offering.min_notice_minutes)
    assert hold.expires_at - NOW == timedelta(minutes=20)


def test_a_start_too_soon_to_hold_is_not_offered(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    offering.min_notice_minutes = 26 * 60 + 55  # FIRST closes in 5 minutes: too short a hold
    offering.save(update_fields=["min_notice_minutes"])
    entry = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    assert not entry.holds.exists()


def test_a_hold_whose_time_the_coach_closed_is_let_go_not_emailed(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    for callback in callbacks:  # the cancellation's emails and the match, not the offer yet
        callback()
    hold = entry.holds.get()
    DateOverride.objects.filter(coach=offering.coach, date=DAY).update(start=time(10, 30))
    send_waitlist_email(WaitlistEmail.objects.get(hold=hold).pk)
    hold.refresh_from_db()
    assert hold.status == H.RELEASED
    assert WaitlistEmail.objects.get(hold=hold).status == WaitlistEmail.Status.SKIPPED
    assert offers_to("waiting1@example.com") == []


def test_taking_after_leaving_or_passing_on_is_refused(
    offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    first = in_line(1)
    free_up(full_day[0], django_capture_on_commit_callbacks)
    hold = first.holds.get()
    waitlist_release(entry=first, hold_id=hold.pk, now=NOW)
    with pytest.raises(WaitlistError, match="passed this time on"):
        waitlist_take(entry=first, hold_id=hold.pk, now=NOW)
    waitlist_leave(entry=first, now=NOW)
    with pytest.raises(WaitlistError, match="has ended"):
        waitlist_take(entry=first, hold_id=hold.pk, now=NOW)
    assert not Booking.objects.filter(client_email="waiting1@example.com").exists()


def test_a_retry_waiting_for_its_countdown_is_not_swept_again(offering: Offering, full_day, in_line) -> None:
    entry = in_line(1, confirm=False)
    email = entry.emails.get()
    WaitlistEmail.objects.filter(pk=email.pk).update(attempts=2, last_attempt_at=NOW - timedelta(minutes=5))
    assert waitlist_sweep(now=NOW + timedelta(minutes=10)).emails == []
    # Long overdue (its retry message was lost): sent again.
    later = NOW + timedelta(hours=2)
    assert waitlist_sweep(now=later).emails == [email.pk]


def test_a_new_confirmation_replaces_the_older_entry(offering: Offering, in_line) -> None:
    old = in_line(1)
    new = in_line(1)
    old.refresh_from_db()
    assert (old.status, new.status) == (E.LEFT, E.WAITING)
