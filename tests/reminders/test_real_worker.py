"""Reminders sent exactly once by real Celery workers, on the configured broker (Redis when
REDIS_URL is set, else the filesystem transport) and the test database.

Two kinds of worker, both real:

- a worker thread in this process (celery.contrib.testing, as in
  tests/celery/test_real_worker.py): it shares the clock, so time-machine puts the
  reminder's minute on it, and the locmem outbox;
- worker *processes*: ``celery -A tests.reminders.worker_app worker`` (the project's
  app with the test's queue as default queue) started with ``subprocess``, prefork
  pool, on the test database (committed rows: ``transaction=True``), sending real
  SMTP to a sink on loopback (tests/reminders/smtp_sink.py) where what arrived is
  counted by Message-ID. A process can be killed with SIGKILL, as the OOM killer or
  a lost machine would.

The processes run on the real clock, so those tests make their reminders due "now"
by updating ``due_at`` (the minute a reminder is due is computed and pinned with
time-machine in test_planning.py and test_dispatch.py); only the lease's expiry is
simulated, by running the dispatch here with the clock shifted past it.

Results are awaited by polling the database, the outbox or the sink until a deadline.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from booking import tasks
from booking.models import Booking, BookingEvent, Reminder
from booking.services import booking_create
from coaching.models import Offering
from tests import support
from tests.reminders.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 60.0
# Real processes start slower than threads: a longer deadline than the suite's default.
wait_for = functools.partial(support.wait_for, deadline=DEADLINE_SECONDS)
NEW_YORK = ZoneInfo("America/New_York")
S = Reminder.Status


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def upcoming_slots(count: int) -> list[datetime]:
    """Free hours of the coach fixture (Mon-Fri 09-17, New York), from three days after the real clock."""
    day = (timezone.now() + timedelta(days=3)).astimezone(NEW_YORK).date()
    slots: list[datetime] = []
    while len(slots) < count:
        if day.weekday() < 5:
            slots += [
                datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC) for hour in range(9, 17)
            ]
        day += timedelta(days=1)
    return slots[:count]


@contextlib.contextmanager
def eager() -> Iterator[None]:
    """Run tasks in-process for a moment (the booking emails), so the workers see only reminders."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def book(offering: Offering, start: datetime, n: int = 0) -> Booking:
    return booking_create(
        offering=offering,
        start=start,
        client_name=f"Client {n}",
        client_email=f"client{n}@example.com",
        client_time_zone="Europe/Berlin",
    ).booking


def reminder_ids(messages: list[str]) -> list[str]:
    return [m for m in messages if m.startswith("<reminder-")]


def outbox_ids() -> list[str]:
    return reminder_ids([m.extra_headers.get("Message-ID", "") for m in mail.outbox])


def sent_count() -> int:
    return Reminder.objects.filter(status=S.SENT).count()


def database_url() -> str:
    """The test database, for worker processes (pytest-django renamed it for this run)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own; tasks are published to it, not run eagerly."""
    from config.celery import app

    name = f"test-reminders-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.task_default_queue = previous
        app.conf.task_always_eager = True
        with contextlib.suppress(Exception), app.connection_for_write() as conn:
            conn.default_channel.queue_purge(name)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@contextlib.contextmanager
def worker_process(
    name: str, *, queue: str, smtp_port: int, tmp_path: Path, concurrency: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A tests.reminders.worker_app worker`` in its own process group; stopped (or found killed) on exit."""
    ready = tmp_path / f"{name}.ready"
    log_path = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "REMINDER_TEST_QUEUE": queue,
        "REMINDER_TEST_READY_FILE": str(ready),
        "LOG_LEVEL": "INFO",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.reminders.worker_app",
        "worker",
        "--queues",
        queue,
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}-{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for(lambda: ready.exists() or process.poll() is not None, f"worker {name} to start")
            if process.poll() is not None:
                raise AssertionError(f"worker {name} exited:\n{log_path.read_text()[-4000:]}")
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: the main process stops its pool
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its pool children: no shutdown, no acks, no cleanup."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def make_due_now() -> int:
    """The reminders before the calls, due now on the real clock (see the module's docstring)."""
    return Reminder.objects.filter(status=S.SCHEDULED, kind__startswith="before-").update(
        due_at=timezone.now()
    )


def dispatch_in_threads(runs: int, *, limit: int) -> list[list[tuple[int, str]]]:
    """``runs`` dispatch runs at once, each in its own thread and database connection, each claiming
    ``limit`` rows at a time until nothing is left: overlapping beat ticks, or beat plus a manual run."""
    barrier = threading.Barrier(runs)
    results: list[list[tuple[int, str]]] = [[] for _ in range(runs)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            while claimed := tasks.claim_due_reminders(now=timezone.now(), limit=limit):
                results[index] += claimed
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS)
    assert not errors, errors
    return results


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    """Publishing fails as it does when Redis is down: the broker URL points at a closed port
    (on the filesystem transport, at a folder that does not exist). Workers already running
    keep their own connection."""
    from config.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    if str(app.conf.broker_url).startswith("redis"):
        with contextlib.closing(__import__("socket").socket()) as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    else:
        app.conf.broker_transport_options = {
            **saved[1],
            "data_folder_out": str(ROOT / "var" / "no-such-broker-folder" / uuid.uuid4().hex),
        }
    _drop_broker_pools(app)
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        _drop_broker_pools(app)


def _drop_broker_pools(app) -> None:  # type: ignore[no-untyped-def]
    # Celery keeps one connection pool and one producer pool per app (what it resets
    # after a fork); dropping them makes the next publish connect with the current settings.
    app._pool = None
    app.amqp._producer_pool = None


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
def test_it_sends_a_due_reminder_once_from_a_real_worker(
    worker,
    offering: Offering,
    mailoutbox,
) -> None:
    """The beat task reaches the worker at the reminder's minute: the three reminders due then
    go out once each; a minute earlier and on later ticks, nothing."""
    [start] = upcoming_slots(1)
    booking = book(offering, start)
    wait_for(lambda: len(mailoutbox) == 2, "the booking's own two emails")
    due = start - timedelta(hours=1)
    with time_machine.travel(due - timedelta(minutes=1), tick=True):
        assert tasks.dispatch_due_reminders() == 1  # only the 24-hour reminder is due yet
        wait_for(lambda: sent_count() == 1, "the 24-hour reminder")
    with time_machine.travel(due, tick=True):
        tasks.dispatch_due_reminders.delay()  # as beat sends it, run by the worker
        wait_for(lambda: sent_count() == 3, "the three reminders")
        # Later ticks find nothing to claim, so nothing more can be sent.
        assert tasks.dispatch_due_reminders() == 0
    ids = outbox_ids()
    assert len(ids) == 3 and len(set(ids)) == 3
    assert sorted(r.kind for r in Reminder.objects.filter(booking=booking, status=S.SENT)) == [
        "before-1440",
        "before-60",
        "before-60",
    ]
    assert Reminder.objects.get(booking=booking, kind="follow-up").status == S.SCHEDULED


def test_it_sends_each_reminder_once_with_two_workers_and_overlapping_dispatch_runs(
    queue: str, sink: SmtpSink, offering: Offering, tmp_path: Path
) -> None:
    """Two worker processes (two pool processes each), two dispatch runs at once claiming a few rows
    at a time, and every send message delivered twice (as a broker redelivery would): each
    reminder reaches the mail server exactly once."""
    with eager():
        bookings = [book(offering, start, n) for n, start in enumerate(upcoming_slots(8))]
    due = make_due_now()
    assert due == 3 * len(bookings)
    with (
        worker_process("w1", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
        worker_process("w2", queue=queue, smtp_port=sink.port, tmp_path=tmp_path),
    ):
        first, second = dispatch_in_threads(2, limit=3)
        claimed = first + second
        assert sorted(pk for pk, _ in claimed) == sorted(
            Reminder.objects.filter(kind__startswith="before-").values_list("pk", flat=True)
        )
        for reminder_id, claim in claimed:  # every message a second time
            tasks.send_reminder.delay(reminder_id, claim)
        wait_for(lambda: sent_count() == due, f"{due} reminders marked sent")
        wait_for(lambda: len(reminder_ids(sink.message_ids())) >= due, f"{due} reminders at the mail server")
    ids = reminder_ids(sink.message_ids())
    assert len(ids) == due, "a reminder reached the mail server twice"
    assert len(set(ids)) == due
    assert set(Reminder.objects.filter(status=S.SENT).values_list("attempts", flat=True)) == {1}


def test_it_leaves_nothing_unsent_and_nothing_sent_twice_when_a_worker_is_killed_mid_batch(
    queue: str, offering: Offering, tmp_path: Path
) -> None:
    """A worker process is SIGKILLed in the middle of a batch, while the mail server has the 4th
    email's data but has not answered (so it was not delivered). Another worker takes the
    queued rest; the one it was sending stays claimed until its lease runs out, then the next
    dispatch claims it again and it goes out. Every reminder arrives once, with its Message-ID."""
    with eager():
        for n, start in enumerate(upcoming_slots(3)):
            book(offering, start, n)
    due = make_due_now()
    assert due == 9
    with SmtpSink(hold_after=3) as sink:
        with worker_process(
            "doomed", queue=queue, smtp_port=sink.port, tmp_path=tmp_path, concurrency=1
        ) as doomed:
            assert tasks.dispatch_due_reminders() == due
            wait_for(sink.holding.is_set, "the worker to be in the middle of the 4th email")
            kill(doomed)
            sink.release.set()
        assert sink.count() == 3 and sent_count() == 3
        stuck = Reminder.objects.filter(status=S.SENDING, attempts=1)
        assert stuck.count() == 1
        stuck_id = stuck.get().pk
        with worker_process("rescuer", queue=queue, smtp_port=sink.port, tmp_path=tmp_path):
            wait_for(lambda: sent_count() == due - 1, "the queued rest")
            # A dispatch within the lease leaves the claimed row alone...
            assert tasks.dispatch_due_reminders() == 0
            # ...and the first one after it claims it again.
            with time_machine.travel(timezone.now() + tasks.REMINDER_LEASE + timedelta(minutes=1), tick=True):
                assert tasks.dispatch_due_reminders() == 1
            wait_for(lambda: sent_count() == due, "the reclaimed reminder")
            wait_for(lambda: sink.count() >= due, "all emails at the mail server")
        ids = reminder_ids(sink.message_ids())
    assert len(ids) == due and len(set(ids)) == due
    assert Reminder.objects.get(pk=stuck_id).attempts == 2


def test_it_keeps_the_booking_and_sends_its_reminders_after_a_broker_outage(
    worker,
    offering: Offering,
    mailoutbox,
) -> None:
    """The broker is unreachable when the booking is made: the booking commits all the same (the
    enqueue after commit fails quietly), its reminders are rows, and once the broker is back the
    next dispatch sends them."""
    [start] = upcoming_slots(1)
    with broker_unreachable():
        booking = book(offering, start)
    assert Booking.objects.filter(pk=booking.pk).exists()
    assert BookingEvent.objects.get(booking=booking).notified_at is None  # its message never left
    assert Reminder.objects.filter(booking=booking, status=S.SCHEDULED).count() == 4
    with time_machine.travel(start - timedelta(minutes=59), tick=True):
        tasks.dispatch_due_reminders.delay()
        wait_for(lambda: sent_count() == 3, "the reminders, after the broker is back")
    ids = outbox_ids()
    assert len(ids) == 3 and len(set(ids)) == 3
