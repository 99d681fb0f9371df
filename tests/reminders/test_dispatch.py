"""Dispatch and send: each due reminder goes out once, at its minute, with what the recipient needs.

Tasks run eagerly here (tests/conftest.py); tests/reminders/test_real_worker.py does
the same with real workers. The clock is pinned with time-machine throughout.
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.test import Client

from booking import tasks
from booking.emails import reminder_message_id
from booking.models import Booking, Reminder
from booking.reminders import FOLLOW_UP
from booking.services import booking_cancel, booking_create, booking_mark_outcome
from coaching.models import Coach, Offering
from tests.factories import UserFactory, WeeklyHoursFactory
from tests.reminders.conftest import rows
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

S = Reminder.Status
END = SLOT + timedelta(minutes=30)


@pytest.fixture
def video(offering: Offering) -> Offering:
    offering.location_details = "https://meet.example.com/ada-intro"
    offering.save()
    return offering


def test_it_sends_a_due_reminder_at_its_minute_and_only_once(
    book, video: Offering, dispatch, time_machine, settings
) -> None:
    """A minute early nothing goes; at the minute the client's 24-hour reminder goes; later ticks send nothing more."""
    booking = book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due - timedelta(minutes=1), tick=False)
    assert dispatch() == 0 and mail.outbox == []
    time_machine.move_to(due, tick=False)
    assert dispatch() == 1
    time_machine.move_to(due + timedelta(minutes=1), tick=False)
    assert dispatch() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    reminder = rows(booking)[("client", "before-1440")]
    assert (reminder.status, reminder.attempts, reminder.sent_at) == (S.SENT, 1, due)
    assert message.to == ["grace@example.com"]
    assert message.reply_to == ["ada@example.com"]
    assert message.extra_headers["Message-ID"] == f"<reminder-{reminder.pk}-1@{settings.SITE_DOMAIN}>"
    assert message.subject == "Reminder: Intro call with Ada Lovelace, Wed 2 Dec, 16:00"
    # The time in the client's zone (Berlin), the meeting link and the manage link.
    assert "starts in 24 hours" in message.body
    assert "Wednesday 2 December 2026, 16:00-16:30 (Europe/Berlin time)" in message.body
    assert "Join the call: https://meet.example.com/ada-intro" in message.body
    assert f"{settings.SITE_URL}/b/" in message.body
    html = message.alternatives[0][0]
    assert "https://meet.example.com/ada-intro" in html and "Join the call" in html


def test_it_sends_the_coach_their_reminder_in_their_zone(
    book, video: Offering, dispatch, time_machine
) -> None:
    """An hour before: the client's and the coach's 1-hour reminders, the coach's in New York time."""
    book()
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    assert dispatch() == 3  # the 24-hour one is overdue and goes too
    by_to = {m.to[0]: m for m in mail.outbox if "in 1 hour" in m.body}
    coach_email = by_to["ada@example.com"]
    assert coach_email.subject == "Reminder: Intro call with Grace Hopper, Wed 2 Dec, 10:00"
    assert "Wednesday 2 December 2026, 10:00-10:30 (America/New_York time)" in coach_email.body
    assert "/dashboard/bookings/" in coach_email.body
    assert "grace@example.com" in by_to


def test_it_sends_the_24_hour_reminder_across_a_dst_change_in_the_clients_zone(
    coach: Coach, offering: Offering, dispatch, time_machine
) -> None:
    """Berlin moves its clocks forward on Sunday 29 March 2026. A call that Sunday at 15:00
    Berlin time gets its reminder exactly 24 hours earlier: Saturday at 14:00 Berlin time
    (13:00 UTC), saying "in 24 hours" and the call's own local time, 15:00."""
    WeeklyHoursFactory(coach=coach, weekday=6, start=time(9), end=time(17))
    start = datetime(2026, 3, 29, 13, 0, tzinfo=UTC)  # 09:00 in New York (already EDT), 15:00 CEST
    booked_at = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    time_machine.move_to(booked_at, tick=False)
    booking_create(
        offering=offering,
        start=start,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        now=booked_at,
    )
    due = datetime(2026, 3, 28, 13, 0, tzinfo=UTC)  # 14:00 CET in Berlin
    assert Reminder.objects.get(kind="before-1440").due_at == due
    time_machine.move_to(due - timedelta(minutes=1), tick=False)
    assert dispatch() == 0
    time_machine.move_to(due, tick=False)
    assert dispatch() == 1
    (message,) = mail.outbox
    assert "starts in 24 hours" in message.body
    assert "Sunday 29 March 2026, 15:00-15:30 (Europe/Berlin time)" in message.body
    # The coach's hour-before reminder, in New York: 09:00 EDT.
    time_machine.move_to(start - timedelta(hours=1), tick=False)
    assert dispatch() == 2
    coach_email = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert "Sunday 29 March 2026, 09:00-09:30 (America/New_York time)" in coach_email.body


def test_it_sends_the_follow_up_an_hour_after_the_call_with_a_link_to_book_again(
    book, dispatch, time_machine, settings
) -> None:
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    dispatch()  # the reminders
    mail.outbox.clear()
    time_machine.move_to(END + timedelta(minutes=59), tick=False)
    assert dispatch() == 0
    time_machine.move_to(END + timedelta(hours=1), tick=False)
    assert dispatch() == 1
    (message,) = mail.outbox
    assert message.to == ["grace@example.com"]
    assert message.subject == "Thank you for your call with Ada Lovelace"
    assert f"Book your next session: {settings.SITE_URL}/ada/intro-call/" in message.body
    assert f'href="{settings.SITE_URL}/ada/intro-call/"' in message.alternatives[0][0]
    assert rows(booking)[("client", FOLLOW_UP)].status == S.SENT


def test_it_sends_no_follow_up_after_a_no_show(book, dispatch, time_machine) -> None:
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    dispatch()
    time_machine.move_to(END, tick=False)
    booking_mark_outcome(booking=booking, outcome=Booking.Status.NO_SHOW, now=END)
    mail.outbox.clear()
    time_machine.move_to(END + timedelta(hours=1), tick=False)
    assert dispatch() == 1
    assert not [m for m in mail.outbox if "Thank you" in m.subject]
    follow_up = rows(booking)[("client", FOLLOW_UP)]
    assert (follow_up.status, follow_up.last_error) == (
        S.CANCELLED,
        "No follow-up: the call did not take place.",
    )


def test_it_sends_no_follow_up_once_the_coach_turned_them_off(
    book, offering: Offering, dispatch, time_machine
) -> None:
    """Turned off after the booking was made: checked when it is due."""
    booking = book()
    offering.follow_up_enabled = False
    offering.save()
    time_machine.move_to(END + timedelta(hours=1), tick=False)
    dispatch()
    assert not [m for m in mail.outbox if "Thank you" in m.subject]
    assert rows(booking)[("client", FOLLOW_UP)].status == S.CANCELLED


def test_it_does_not_send_when_the_booking_is_cancelled_after_the_claim(book, time_machine) -> None:
    """Claimed ("sending"), then cancelled before the send task runs: nothing goes out."""
    booking = book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    [(reminder_id, claim)] = tasks.claim_due_reminders(now=due)
    assert Reminder.objects.get(pk=reminder_id).status == S.SENDING
    booking_cancel(booking=booking, by="client", reason="", now=NOW)
    assert tasks.send_reminder(reminder_id, claim) == "stale"
    assert mail.outbox == []
    assert Reminder.objects.get(pk=reminder_id).status == S.CANCELLED


def test_it_checks_the_booking_again_after_its_own_claim(book, time_machine) -> None:
    """Cancelled in the instant between the send's claim and its check of the booking: not sent."""
    booking = book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    [(reminder_id, claim)] = tasks.claim_due_reminders(now=due)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert tasks.send_reminder(reminder_id, claim) == S.CANCELLED
    assert mail.outbox == []


def test_it_sends_once_when_the_same_claim_arrives_twice(book, time_machine) -> None:
    """A broker redelivery or a duplicated message: the first attempt swaps the claim token."""
    book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    [(reminder_id, claim)] = tasks.claim_due_reminders(now=due)
    assert tasks.send_reminder(reminder_id, claim) == "sent"
    assert tasks.send_reminder(reminder_id, claim) == "stale"
    assert len(mail.outbox) == 1


def test_it_claims_each_row_once_across_dispatch_runs(book, time_machine) -> None:
    """A second run while the first one's rows are claimed finds nothing to claim."""
    book()
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    first = tasks.claim_due_reminders(now=SLOT - timedelta(hours=1))
    second = tasks.claim_due_reminders(now=SLOT - timedelta(hours=1))
    assert len(first) == 3 and second == []


def test_it_reclaims_a_reminder_whose_worker_was_lost_once_the_lease_runs_out(
    book, dispatch, time_machine
) -> None:
    """Claimed, and the send message lost (killed worker, broker restart): after the 10-minute lease
    the next dispatch claims it again and it goes out once; the old message, if it ever comes, does nothing."""
    booking = book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    [(reminder_id, old_claim)] = tasks.claim_due_reminders(now=due)  # its send never runs
    time_machine.move_to(due + timedelta(minutes=9), tick=False)
    assert dispatch() == 0
    time_machine.move_to(due + tasks.REMINDER_LEASE + timedelta(seconds=1), tick=False)
    assert dispatch() == 1
    assert tasks.send_reminder(reminder_id, old_claim) == "stale"
    assert len(mail.outbox) == 1
    reminder = rows(booking)[("client", "before-1440")]
    assert (reminder.status, reminder.attempts) == (S.SENT, 1)


def test_it_reclaims_a_reminder_whose_worker_died_while_sending(
    book, dispatch, time_machine, monkeypatch
) -> None:
    """The worker dies mid-send (SystemExit from inside the send): the row stays "sending" under the
    attempt's token, the lease runs out, and another dispatch sends it, once, with the same Message-ID."""
    booking = book()
    due = SLOT - timedelta(hours=24)
    time_machine.move_to(due, tick=False)
    real_send = mail.EmailMultiAlternatives.send
    dying = True

    def send(self, fail_silently=False):  # type: ignore[no-untyped-def]
        if dying:
            raise SystemExit("worker killed")
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send)
    with pytest.raises(SystemExit):
        dispatch()
    reminder = rows(booking)[("client", "before-1440")]
    assert (reminder.status, reminder.attempts) == (S.SENDING, 1)
    dying = False
    time_machine.move_to(due + tasks.REMINDER_LEASE + timedelta(seconds=1), tick=False)
    assert dispatch() == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (S.SENT, 2)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [reminder_message_id(reminder)]


def test_it_retries_an_smtp_error_with_backoff_then_marks_it_failed(
    book, dispatch, time_machine, failing_sends, coach_client: Client
) -> None:
    """Each failure puts the row back a little later (doubling); after the last attempt it is
    "failed", the coach sees it on the booking's page, and nothing was sent."""
    booking = book()
    now = SLOT - timedelta(hours=24)
    time_machine.move_to(now, tick=False)
    delays = []
    for attempt in range(1, tasks.MAX_REMINDER_ATTEMPTS + 1):
        assert dispatch() == 1, f"attempt {attempt}"
        reminder = rows(booking)[("client", "before-1440")]
        assert reminder.attempts == attempt
        if attempt < tasks.MAX_REMINDER_ATTEMPTS:
            assert reminder.status == S.SCHEDULED
            delays.append((reminder.due_at - now).total_seconds())
            # Not before its time...
            assert dispatch() == 0
            now = reminder.due_at
            time_machine.move_to(now, tick=False)
    assert reminder.status == S.FAILED
    assert reminder.last_error == "The mail server closed the connection [SMTPServerDisconnected]"
    assert mail.outbox == []
    # Exponential with jitter: each delay within [ceiling/2, ceiling], the ceiling doubling from 30 s.
    for n, delay in enumerate(delays):
        ceiling = 30 * 2**n
        assert ceiling / 2 <= delay <= ceiling
    page = coach_client.get(f"/dashboard/bookings/{booking.reference}/").content.decode()
    assert "One reminder could not be sent." in page
    assert "Could not be sent" in page
    assert "After 6 attempts: The mail server closed the connection" in page


def test_it_fails_at_once_when_the_server_refuses_the_address(
    book, dispatch, time_machine, failing_sends
) -> None:
    """A 5xx for the recipient gets the same answer next time: no retries."""
    failing_sends.error = smtplib.SMTPRecipientsRefused({"grace@example.com": (550, b"No such user")})
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=24), tick=False)
    dispatch()
    reminder = rows(booking)[("client", "before-1440")]
    assert (reminder.status, reminder.attempts) == (S.FAILED, 1)
    assert "grace@" not in reminder.last_error and "(SMTP 550)" in reminder.last_error


def test_it_sends_a_failed_reminder_again_from_admin(
    book, dispatch, time_machine, failing_sends, client: Client, settings
) -> None:
    """Admin lists failed reminders; its "retry" action sends the same email (same Message-ID) at the next tick."""
    failing_sends.error = smtplib.SMTPRecipientsRefused({"grace@example.com": (550, b"No such user")})
    booking = book()
    time_machine.move_to(SLOT - timedelta(hours=24), tick=False)
    dispatch()
    failed = rows(booking)[("client", "before-1440")]
    assert failed.status == S.FAILED

    admin = UserFactory(email="operator@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/booking/reminder/")
    assert listing.status_code == 200
    assert booking.reference in listing.content.decode()
    assert Reminder.objects.count() == 4  # only the failed one is listed by default
    assert listing.context["cl"].result_count == 1

    failing_sends.failures = 0
    response = client.post(
        "/admin/booking/reminder/",
        {"action": "retry", "_selected_action": [str(failed.pk)]},
        follow=True,
    )
    assert "will be sent at the next dispatch" in response.content.decode()
    assert dispatch() == 1
    failed.refresh_from_db()
    assert (failed.status, failed.generation) == (S.SENT, 1)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [reminder_message_id(failed)]
    assert Reminder in admin_site._registry


def test_it_drains_a_backlog_larger_than_one_batch_in_one_tick(
    book, dispatch, time_machine, monkeypatch
) -> None:
    """A full batch enqueues the next run at once instead of waiting a minute per batch."""
    monkeypatch.setattr(tasks, "DISPATCH_BATCH", 2)
    book()
    book(SLOT + timedelta(hours=1))
    time_machine.move_to(SLOT - timedelta(minutes=30), tick=False)
    assert dispatch() == 2
    assert Reminder.objects.filter(status=S.SENT).count() == 4
    assert len(mail.outbox) == 4


def test_it_does_not_remind_a_client_who_closed_their_account(book, dispatch, time_machine) -> None:
    """An anonymised past booking: no follow-up to the placeholder address."""
    booking = book()
    Booking.objects.filter(pk=booking.pk).update(client_email="deleted@invalid.invalid")
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    dispatch()
    time_machine.move_to(END + timedelta(hours=1), tick=False)
    dispatch()
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert rows(booking)[("client", FOLLOW_UP)].last_error == "The client closed their account."


def test_it_schedules_nothing_ahead_in_the_broker(book, dispatch, time_machine, monkeypatch) -> None:
    """Invariant 5: the database holds the schedule; every message is for now (no eta, no countdown)."""
    options: list[dict] = []
    for task in (tasks.send_reminder, tasks.dispatch_due_reminders):
        original = task.apply_async

        def spy(args=None, kwargs=None, _original=original, **extra):  # type: ignore[no-untyped-def]
            options.append(extra)
            return _original(args, kwargs, **extra)

        monkeypatch.setattr(task, "apply_async", spy)
    monkeypatch.setattr(tasks, "DISPATCH_BATCH", 2)
    book()
    time_machine.move_to(SLOT - timedelta(hours=1), tick=False)
    dispatch()
    assert len(options) == 4  # three sends, and the next run that the full first batch started
    assert all("eta" not in o and "countdown" not in o for o in options)


def test_it_runs_the_dispatch_at_the_start_of_every_minute() -> None:
    """Due times fall on whole minutes, so the tick does too: a reminder due at 14:00 goes at 14:00."""
    from celery.schedules import crontab

    from config.celery import app

    entry = app.conf.beat_schedule["dispatch-due-reminders"]
    assert entry["task"] == "booking.tasks.dispatch_due_reminders"
    assert entry["schedule"] == crontab(minute="*")
