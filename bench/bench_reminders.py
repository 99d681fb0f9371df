"""Issue 6: 5,000 reminders due at once, dispatched by two worker processes to SMTP on loopback.

- a fresh PostgreSQL database ``coaching_bench_reminders`` (bench/server.py), migrated,
  with 2,500 confirmed bookings, each with two reminders due now (client and coach,
  5,000 in all) and eight already sent (20,000 rows of history the dispatch query must
  not wade through);
- Redis at ``REDIS_URL``, else ``redis://127.0.0.1:6379/12``;
- two ``celery -A config worker`` processes (prefork, 4 pool processes each) sending
  real SMTP to a threaded SMTP sink in this process (tests/reminders/smtp_sink.py);
- two dispatch runs started at once, as two overlapping beat ticks: each claims a batch
  with SELECT ... FOR UPDATE SKIP LOCKED, enqueues its sends, and a full batch enqueues
  the next run.

Measured: the time from the two dispatch messages until the sink has accepted 5,000
emails (target: under 120 s), the number of distinct Message-IDs (zero duplicates),
the rows' final states, and the plan of the dispatch query (an index scan of the
partial index ``reminder_due``).

Reproduce: .venv/bin/python -m bench bench_reminders
           (BENCH_ADMIN_DATABASE_URL for another PostgreSQL server; REDIS_URL for another Redis)
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.server import ROOT, fresh_database, manage, stack_env
from bench.steps import run_step, serve_steps
from bench.workers import running_workers, wait_for

DATABASE = "coaching_bench_reminders"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
REMINDERS = 5_000
WORKERS = 2
CONCURRENCY = 4
TARGET_SECONDS = 120.0
DEADLINE_SECONDS = 600.0
HISTORY_KINDS = ("before-2880", "before-1440", "before-240", "before-120")


# ---------------------------------------------------------------------------
# Steps run in a child process on the bench database: python -m bench.bench_reminders STEP
# ---------------------------------------------------------------------------
def _seed(count: int) -> dict[str, object]:
    """Rows for the run, and the plan of the dispatch query over them."""
    import secrets
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from booking.models import Booking, Reminder
    from coaching.models import Coach, Offering

    now = timezone.now()
    user = User.objects.create(email="bench-coach@example.invalid", name="Bench Coach")
    coach = Coach.objects.create(
        user=user, slug="bench", display_name="Bench Coach", time_zone="America/New_York"
    )
    offering = Offering.objects.create(coach=coach, slug="call", title="Bench call", duration_minutes=30)
    first = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    bookings = []
    for i in range(count // 2):
        start = first + timedelta(minutes=30 * i)
        end = start + timedelta(minutes=30)
        bookings.append(
            Booking(
                reference=f"BK-B{i:07d}",
                coach=coach,
                offering=offering,
                client_name=f"Bench Client {i}",
                client_email=f"bench{i}@example.invalid",
                client_time_zone="Europe/Berlin",
                start=start,
                end=end,
                blocked_start=start,
                blocked_end=end,
                status=Booking.Status.CONFIRMED,
                manage_key=secrets.token_hex(16),
            )
        )
    bookings = Booking.objects.bulk_create(bookings, batch_size=1000)
    due = now - timedelta(seconds=1)
    Reminder.objects.bulk_create(
        (
            Reminder(booking=booking, recipient=recipient, kind="before-60", due_at=due)
            for booking in bookings
            for recipient in ("client", "coach")
        ),
        batch_size=2000,
    )
    Reminder.objects.bulk_create(
        (
            Reminder(
                booking=booking,
                recipient=recipient,
                kind=kind,
                due_at=now - timedelta(days=1),
                status=Reminder.Status.SENT,
                sent_at=now - timedelta(days=1),
                attempts=1,
            )
            for booking in bookings
            for recipient in ("client", "coach")
            for kind in HISTORY_KINDS
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_reminder")
    return {"bookings": len(bookings), "due": Reminder.objects.filter(status="scheduled").count(), **_plan()}


def _plan() -> dict[str, object]:
    """EXPLAIN of the exact claim query the dispatch runs (captured inside a rolled-back transaction)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from booking.tasks import DISPATCH_BATCH, claim_due_reminders

    class Rollback(Exception):
        pass

    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                claim_due_reminders(now=timezone.now(), limit=DISPATCH_BATCH)
                raise Rollback
        except Rollback:
            pass
    sql = next(q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)  # EXPLAIN ANALYZE of FOR UPDATE takes the locks: give them back
    return {"sql": sql, "plan": plan}


def _status() -> dict[str, object]:
    from django.db.models import Count, Sum

    from booking.models import Reminder

    rows = (
        Reminder.objects.filter(kind="before-60")
        .values("status")
        .annotate(n=Count("id"), tries=Sum("attempts"))
    )
    return {"by_status": {r["status"]: r["n"] for r in rows}, "attempts": sum(r["tries"] or 0 for r in rows)}


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_reminders", step, env, *args)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def main() -> None:
    from celery import Celery

    from tests.reminders.smtp_sink import SmtpSink

    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    database_url = fresh_database(DATABASE)
    env = stack_env(database_url, REDIS_URL=redis_url)
    manage("migrate", "--noinput", env=env)
    seeded = _step("seed", env, str(REMINDERS))
    assert seeded["due"] == REMINDERS, seeded

    broker = Celery("bench", broker=redis_url)
    logs = ROOT / "var" / "bench-reminders"
    logs.mkdir(parents=True, exist_ok=True)
    with SmtpSink() as sink:
        worker_env = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "LOG_LEVEL": "WARNING"}
        with running_workers(
            broker=broker, env=worker_env, logs=logs, name="bench", count=WORKERS, concurrency=CONCURRENCY
        ):
            started = time.perf_counter()
            for _ in range(2):  # two overlapping beat ticks
                broker.send_task("booking.tasks.dispatch_due_reminders")
            wait_for(lambda: sink.count() >= REMINDERS, DEADLINE_SECONDS, f"{REMINDERS} emails at the sink")
            elapsed = time.perf_counter() - started
            wait_for(
                lambda: _step("status", env)["by_status"].get("sent") == REMINDERS, 60, "the rows marked sent"
            )
        ids = [m for m in sink.message_ids() if m.startswith("<reminder-")]
        delivered = sink.count()
    status = _step("status", env)
    broker.close()

    unique = len(set(ids))
    duplicates = len(ids) - unique
    print(
        f"{seeded['bookings']:,} bookings, {REMINDERS:,} reminders due at once (+{REMINDERS * 4:,} sent rows of "
        f"history); {WORKERS} `celery -A config worker` processes × {CONCURRENCY} (prefork) on Redis and "
        "PostgreSQL; SMTP sink on loopback.\n"
    )
    print(
        "| reminders | delivered | distinct Message-IDs | duplicates | rows sent | attempts | seconds | emails/s | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {REMINDERS:,} | {delivered:,} | {unique:,} | {duplicates} | {status['by_status'].get('sent', 0):,} "
        f"| {status['attempts']:,} | **{elapsed:.1f}** | {REMINDERS / elapsed:.0f} | < {TARGET_SECONDS:.0f} s, 0 duplicates |"
    )
    print("\nThe dispatch's claim query (PostgreSQL, 5,000 due of 25,000 rows, after ANALYZE):\n")
    print("    " + str(seeded["sql"]))
    print()
    for line in seeded["plan"]:
        print("    " + line)
    print("\nReproduce: .venv/bin/python -m bench bench_reminders")
    problems = []
    if elapsed >= TARGET_SECONDS:
        problems.append(f"{elapsed:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    if duplicates or unique != REMINDERS:
        problems.append(f"{unique} distinct Message-IDs, {duplicates} duplicates")
    if not any("Index Scan" in line and "reminder_due" in line for line in seeded["plan"]):
        problems.append("the dispatch query is not an index scan of reminder_due")
    if problems:
        print("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    serve_steps({"seed": lambda count: _seed(int(count)), "status": _status, "plan": _plan})
