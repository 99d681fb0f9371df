"""Tasks run by a real Celery worker on the configured broker (Redis when REDIS_URL is set,
else the filesystem transport), not eagerly: the send-email path, the refresh-feed path,
and an SMTP failure that is retried until the email goes out once per recipient.

The worker runs in a thread of this process (celery.contrib.testing), so it shares the
settings, the locmem outbox and the test database; each test gets its own queue, so a
worker of `make run` or of another test run never takes these messages. Results are
awaited by polling the database or the outbox until a deadline.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import ClassVar

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone
from pytest_httpserver import HTTPServer

from booking.models import Booking, BookingEvent, EmailDelivery
from booking.services import booking_create
from coaching.models import BusyBlock, BusyCalendar, Coach, Offering
from coaching.tasks import refresh_all_busy_calendars
from tests.support import NOW, SLOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class FailFirstSends(LocmemBackend):
    """The locmem backend, except that the first ``failures`` sends raise an SMTP error."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def _book(offering: Offering) -> Booking:
    return booking_create(
        offering=offering,
        start=SLOT,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        idempotency_key="worker-test",
        now=NOW,
    ).booking


def _sent(booking: Booking) -> int:
    return EmailDelivery.objects.filter(booking=booking, status=EmailDelivery.Status.SENT).count()


def test_it_sends_the_booking_emails_from_a_real_worker(worker, offering: Offering, mailoutbox) -> None:
    """Booking commits, the on-commit task reaches the worker, both emails are delivered."""
    booking = _book(offering)
    wait_for(lambda: len(mailoutbox) == 2 and _sent(booking) == 2, "two emails")
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "grace@example.com"]
    assert all(m.subject.startswith("Confirmed") or m.subject.startswith("New booking") for m in mailoutbox)


def test_it_retries_an_smtp_failure_without_a_duplicate_booking_or_email(
    worker, offering: Offering, mailoutbox, settings
) -> None:
    """The first two sends fail: retried with backoff, then one email per recipient, one booking."""
    settings.EMAIL_BACKEND = "tests.celery.test_real_worker.FailFirstSends"
    settings.EMAIL_RETRY_BASE_SECONDS = 0.2
    FailFirstSends.failures = 2
    FailFirstSends.calls = 0
    booking = _book(offering)
    wait_for(lambda: _sent(booking) == 2, "both deliveries sent")
    # A retried client request with the same key is the same booking.
    again = booking_create(
        offering=offering,
        start=SLOT,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        idempotency_key="worker-test",
        now=NOW,
    )
    assert again.created is False and again.booking.pk == booking.pk
    assert Booking.objects.count() == 1
    assert BookingEvent.objects.count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    attempts = sorted(EmailDelivery.objects.filter(booking=booking).values_list("attempts", flat=True))
    assert sum(attempts) == 4  # two failures, then one success each
    assert FailFirstSends.calls == 4


def test_it_refreshes_busy_calendars_from_a_real_worker(
    worker, coach: Coach, httpserver: HTTPServer, settings
) -> None:
    """The beat task fans out one refresh per calendar; the worker replaces the blocks."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    feed = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a@example.com\r\nDTSTAMP:20261120T000000Z\r\n"
        "DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    soon = timezone.now().replace(microsecond=0) + timedelta(days=1)
    stamp = "%Y%m%dT%H%M%SZ"
    httpserver.expect_request("/cal.ics").respond_with_data(
        feed.format(start=soon.strftime(stamp), end=(soon + timedelta(hours=1)).strftime(stamp)),
        content_type="text/calendar",
    )
    calendar = BusyCalendar.objects.create(coach=coach, name="Work", url=httpserver.url_for("/cal.ics"))
    old = BusyBlock.objects.create(
        coach=coach,
        calendar=calendar,
        start=soon - timedelta(hours=5),
        end=soon - timedelta(hours=4),
    )
    refresh_all_busy_calendars.delay()
    wait_for(
        lambda: (
            not BusyBlock.objects.filter(pk=old.pk).exists()
            and BusyBlock.objects.filter(calendar=calendar).exists()
        ),
        "the calendar's blocks replaced",
    )
    assert list(BusyBlock.objects.filter(calendar=calendar).values_list("start", "end")) == [
        (soon, soon + timedelta(hours=1))
    ]
    calendar.refresh_from_db()
    assert calendar.last_fetched_at is not None and calendar.last_error == ""
