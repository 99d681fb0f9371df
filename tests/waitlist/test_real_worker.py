"""The waitlist's exactly-once part with real processes: Celery worker processes (prefork) and
real ``celery beat`` processes running the sweep every second, on the test database, sending SMTP
to a sink on loopback (the machinery and the ``queue`` and ``sink`` fixtures of
tests/reminders/test_real_worker.py, shared through tests/waitlist/conftest.py).

The processes run on the real clock: the tests free a time a few days ahead and make a hold run
out by moving its ``expires_at`` into the past, as the reminder tests make a reminder due.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from booking.models import Booking, WaitlistEmail, WaitlistEntry, WaitlistHold
from booking.services import booking_cancel, booking_create
from booking.waitlist import waitlist_confirm, waitlist_join
from coaching.models import Offering
from tests.factories import DateOverrideFactory
from tests.reminders.smtp_sink import SmtpSink
from tests.reminders.test_real_worker import (
    ROOT,
    broker_unreachable,
    database_url,
    eager,
    kill,
    wait_for,
    worker_process,
)

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = ZoneInfo("America/New_York")
H = WaitlistHold.Status


@contextlib.contextmanager
def beat_process(name: str, *, queue: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A tests.waitlist.beat_app beat``: the sweep every second onto the test's queue."""
    log_path = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REMINDER_TEST_QUEUE": queue,
        "REMINDER_TEST_READY_FILE": str(tmp_path / f"{name}.ready"),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.waitlist.beat_app",
        "beat",
        "--schedule",
        str(tmp_path / f"{name}-schedule"),
        "--max-interval",
        "1",
        "--loglevel",
        "INFO",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def full_day(offering: Offering) -> tuple[list[Booking], datetime]:
    """A weekday a few days ahead on the real clock with one hour, both its calls booked."""
    day = (timezone.now() + timedelta(days=3)).astimezone(NEW_YORK).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    DateOverrideFactory(coach=offering.coach, date=day, start=time(10), end=time(11))
    first = datetime.combine(day, time(10), tzinfo=NEW_YORK).astimezone(UTC)
    bookings = [
        booking_create(
            offering=offering,
            start=first + timedelta(minutes=30 * n),
            client_name=f"Booked {n}",
            client_email=f"booked{n}@example.com",
            client_time_zone="America/New_York",
        ).booking
        for n in range(2)
    ]
    return bookings, first


def line_up(offering: Offering, day: datetime, count: int) -> list[WaitlistEntry]:
    entries = []
    for n in range(count):
        entry = waitlist_join(
            offering=offering,
            name=f"Waiting {n}",
            email=f"waiting{n}@example.com",
            time_zone="America/New_York",
            date_from=day.astimezone(NEW_YORK).date(),
            date_to=day.astimezone(NEW_YORK).date(),
        )
        waitlist_confirm(entry=entry)
        entries.append(entry)
    return entries


def offers(sink: SmtpSink) -> list[str]:
    return [m for m in sink.message_ids() if m.startswith("<waitlist-")]


def recipients(sink: SmtpSink) -> list[str]:
    return sorted(r for m in offers(sink) for r in sink.recipients_of(m))


def expire(hold: Callable[[], WaitlistHold]) -> None:
    WaitlistHold.objects.filter(pk=hold().pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_holds_pass_down_the_line_once_each_with_two_beats_and_two_workers(
    offering: Offering, queue: str, sink: SmtpSink, tmp_path: Path
) -> None:
    """A cancellation frees a time: the first in line gets one offer; when it runs out, beat passes
    it to the second, then the third; two beats ticking at once and two workers never make a
    second hold or email for anyone."""
    with eager():
        bookings, first = full_day(offering)
        entries = line_up(offering, first, 3)
    with (
        worker_process("w1", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
        worker_process("w2", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
        beat_process("b1", queue=queue, tmp_path=tmp_path),
        beat_process("b2", queue=queue, tmp_path=tmp_path),
    ):
        booking_cancel(booking=bookings[0], by="coach")
        for n, entry in enumerate(entries):
            wait_for(lambda e=entry: e.holds.filter(status=H.HELD).exists(), f"the hold of person {n}")
            wait_for(lambda n=n: len(offers(sink)) == n + 1, f"the offer to person {n}")
            hold = entry.holds.get()
            assert hold.start == first
            wait_for(
                lambda h=hold: WaitlistEmail.objects.get(hold=h).status == WaitlistEmail.Status.SENT,
                "the email marked sent",
            )
            expire(lambda h=hold: h)
        # The whole line let it lapse: a few more ticks of both beats change nothing.
        wait_for(lambda: not WaitlistHold.objects.filter(status=H.HELD).exists(), "the last lapse")
        ticks = WaitlistHold.objects.count()
        wait_for(
            lambda: _beat_ticked(tmp_path, "b1", 3) and _beat_ticked(tmp_path, "b2", 3), "more beat ticks"
        )
    assert WaitlistHold.objects.count() == ticks == 3
    assert recipients(sink) == [f"waiting{n}@example.com" for n in range(3)]
    assert len(set(offers(sink))) == len(offers(sink)) == 3


def _beat_ticked(tmp_path: Path, name: str, times: int) -> bool:
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    return log.count("Sending due task sweep-waitlist") >= times + 3


def test_a_cancellation_during_a_broker_outage_still_reaches_the_line(
    offering: Offering, queue: str, sink: SmtpSink, tmp_path: Path
) -> None:
    """The cancellation's message is lost with the broker; the beat's rematch makes the hold anyway."""
    with eager():
        bookings, first = full_day(offering)
        [entry] = line_up(offering, first, 1)
    with broker_unreachable():
        booking_cancel(booking=bookings[0], by="coach")
    assert not WaitlistHold.objects.exists()
    with (
        worker_process("w1", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
        beat_process("b1", queue=queue, tmp_path=tmp_path),
    ):
        wait_for(lambda: len(offers(sink)) == 1, "the offer, from the beat's sweep")
    assert entry.holds.get().start == first
    assert recipients(sink) == ["waiting0@example.com"]


def test_an_offer_claimed_by_a_killed_worker_goes_out_once(
    offering: Offering, queue: str, sink: SmtpSink, tmp_path: Path
) -> None:
    """A worker dies (SIGKILL) while it holds the offer email's claim; once the claim runs out the
    beat's sweep hands the row to another worker, which sends it: one message, one Message-ID."""
    with eager():
        bookings, first = full_day(offering)
        [entry] = line_up(offering, first, 1)
    # A mail server that takes the connection and never answers: the doomed worker's sends hang.
    with (
        socket.create_server(("127.0.0.1", 0)) as black_hole,
        worker_process(
            "doomed", queue=queue, smtp_port=black_hole.getsockname()[1], tmp_path=tmp_path, concurrency=4
        ) as doomed,
    ):
        booking_cancel(booking=bookings[0], by="coach")
        wait_for(
            lambda: WaitlistEmail.objects.filter(kind=WaitlistEmail.Kind.OFFER, attempts=1).exists(),
            "the doomed worker to claim the offer",
        )
        kill(doomed)
    email = WaitlistEmail.objects.get(kind=WaitlistEmail.Kind.OFFER)
    assert email.status == WaitlistEmail.Status.PENDING and email.sent_at is None
    # The claim's lease running out and the attempt becoming overdue, simulated (minutes and half
    # an hour on the real clock): the sweep then takes the row for lost.
    past = timezone.now() - timedelta(hours=1)
    WaitlistEmail.objects.filter(pk=email.pk).update(locked_until=past, last_attempt_at=past)
    with (
        worker_process("w1", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
        beat_process("b1", queue=queue, tmp_path=tmp_path),
    ):
        wait_for(lambda: len(offers(sink)) == 1, "the offer, from the second worker")
        wait_for(
            lambda: WaitlistEmail.objects.get(pk=email.pk).status == WaitlistEmail.Status.SENT, "marked sent"
        )
    assert recipients(sink) == ["waiting0@example.com"]
    assert entry.holds.count() == 1
