"""Issue 18, scale: reminder dispatch with the platform at factor 1.0: 50,000 reminders due at once.

Opt-in (``BENCH_SCALE_REMINDERS=1``): it takes about 15-20 minutes on these 2-core machines (the
factor 1.0 load, a few minutes, then the sending at roughly 70 emails a second), too long for
every ``make bench``; without the variable it prints SKIPPED.

- a fresh PostgreSQL database ``coaching_bench_scale_reminders`` (a copy of the migrated
  template of bench/bench_scale.py) loaded at factor 1.0 by bench/scale_data.py: 10,000 coaches,
  1,000,000 bookings, about 2,000,000 reminder rows (sent, cancelled, and the scheduled ones of
  the calls ahead);
- 50,000 of the scheduled reminders (``BENCH_SCALE_DUE``), of confirmed calls that start more
  than three hours from now (so each may still go out), are made due: their ``due_at`` is set to
  one instant a second ago, then ANALYZE;
- Redis db 5 (flushed before and after); two ``celery -A config worker`` processes (prefork, 4
  pool processes each) sending real SMTP to a sink in this process (tests/reminders/smtp_sink.py),
  as in bench/bench_reminders.py;
- two dispatch runs started at once (two overlapping beat ticks): each claims batches of 500 with
  SELECT ... FOR UPDATE SKIP LOCKED over the partial index ``reminder_due``, and a full batch
  enqueues the next run.

Measured: the time from the two dispatch messages until the sink has accepted an email for each
of the 50,000 rows, the rate, the distinct Message-IDs among them (target: 0 duplicates, 0
missing), the rows' final states, and the plan of the claim query among 2,000,000 rows. Reminders
of the platform that come due by themselves during the run are sent too and counted apart.

Reproduce: BENCH_SCALE_REMINDERS=1 .venv/bin/python -m bench bench_scale_reminders
           (BENCH_SCALE_REMINDERS_FACTOR=1, BENCH_SCALE_DUE=50000; BENCH_SCALE_KEEP=1 keeps the
           database; BENCH_ADMIN_DATABASE_URL for another PostgreSQL server)
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from typing import Any

from bench.bench_scale import (
    DATABASE_PREFIX,
    TEMPLATE,
    drop_database,
    flush_redis,
    load_factor,
    migrated_template,
)
from bench.server import ROOT
from bench.steps import run_step, serve_steps
from bench.workers import running_workers, wait_for

DATABASE = f"{DATABASE_PREFIX}_reminders"
REDIS_DB = 5  # flushed before and after
DUE = 50_000
WORKERS = 2
CONCURRENCY = 4
DEADLINE_SECONDS = 45 * 60
_MESSAGE_ID = re.compile(r"<reminder-(\d+)-(\d+)@")


# ---------------------------------------------------------------------------
# Steps run in a child process on the bench database: python -m bench.bench_scale_reminders STEP
# ---------------------------------------------------------------------------
def _arm(count: str) -> dict[str, Any]:
    """Make ``count`` scheduled reminders of confirmed calls more than 3 hours away due a second
    ago; their ids and instant, how many rows were scheduled, and the claim query's plan."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from bench.bench_reminders import _plan

    due = timezone.now().replace(microsecond=0) - timedelta(seconds=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM booking_reminder WHERE status = 'scheduled'")
        scheduled = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE booking_reminder SET due_at = %s, updated_at = now() WHERE id IN ("
            " SELECT r.id FROM booking_reminder r JOIN booking_booking b ON b.id = r.booking_id"
            " WHERE r.status = 'scheduled' AND b.status = 'confirmed' AND b.start > now() + interval '3 hours'"
            " ORDER BY r.due_at, r.id LIMIT %s) RETURNING id",
            [due, int(count)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("ANALYZE booking_reminder")
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('booking_reminder')) FROM booking_reminder"
        )
        rows, size = cursor.fetchone()
    return {"ids": ids, "due": due.isoformat(), "scheduled": scheduled, "rows": rows, "size": size, **_plan()}


def _status(due: str) -> dict[str, Any]:
    """The armed rows by status (and their attempts), and the other rows sent since they were armed."""
    from datetime import datetime

    from django.db.models import Count, Sum

    from booking.models import Reminder

    instant = datetime.fromisoformat(due)
    armed = (
        Reminder.objects.filter(due_at=instant)
        .values("status")
        .annotate(n=Count("id"), tries=Sum("attempts"))
    )
    others = Reminder.objects.filter(status="sent", sent_at__gte=instant).exclude(due_at=instant).count()
    return {
        "by_status": {r["status"]: r["n"] for r in armed},
        "attempts": sum(r["tries"] or 0 for r in armed),
        "others_sent": others,
    }


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_scale_reminders", step, env, *args)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def main() -> None:
    if os.environ.get("BENCH_SCALE_REMINDERS") != "1":
        print(
            "SKIPPED: opt-in, about 15-20 minutes: BENCH_SCALE_REMINDERS=1 .venv/bin/python -m bench bench_scale_reminders"
        )
        return
    from celery import Celery

    from tests.reminders.smtp_sink import SmtpSink

    factor = float(os.environ.get("BENCH_SCALE_REMINDERS_FACTOR", "1"))
    count = int(os.environ.get("BENCH_SCALE_DUE", str(DUE)))
    migrated_template()
    env, loaded = load_factor(factor, DATABASE, datetime.now(UTC), REDIS_DB)
    drop_database(TEMPLATE)
    armed = _step("arm", env, str(count))
    ids = set(armed["ids"])
    if len(ids) != count:
        raise RuntimeError(f"only {len(ids)} scheduled reminders of calls ahead to make due, not {count}")

    flush_redis(env)
    broker = Celery("bench", broker=env["REDIS_URL"])
    logs = ROOT / "var" / "bench-scale-reminders"
    logs.mkdir(parents=True, exist_ok=True)

    def delivered() -> list[int]:
        found = (_MESSAGE_ID.match(m) for m in sink.message_ids())
        return [int(m.group(1)) for m in found if m is not None]

    with SmtpSink() as sink:
        worker_env = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "LOG_LEVEL": "WARNING"}
        with running_workers(
            broker=broker, env=worker_env, logs=logs, name="scale", count=WORKERS, concurrency=CONCURRENCY
        ):
            started = time.perf_counter()
            for _ in range(2):  # two overlapping beat ticks
                broker.send_task("booking.tasks.dispatch_due_reminders")
            wait_for(
                lambda: ids.issubset(delivered()),
                DEADLINE_SECONDS,
                f"an email for each of {count:,} reminders",
                every=1.0,
            )
            elapsed = time.perf_counter() - started
            wait_for(
                lambda: _step("status", env, armed["due"])["by_status"].get("sent") == count,
                120,
                "the rows marked sent",
            )
        sent_ids = delivered()
    status = _step("status", env, armed["due"])
    broker.close()
    flush_redis(env)
    if os.environ.get("BENCH_SCALE_KEEP") != "1":
        drop_database(DATABASE)

    ours = [i for i in sent_ids if i in ids]
    duplicates = len(ours) - len(set(ours))
    missing = len(ids - set(ours))
    counts = loaded["counts"]
    print(
        f"Factor {factor:g} loaded in {loaded['timings']['total']:.0f} s ({counts['coaching_coach']:,} coaches, "
        f"{counts['booking_booking']:,} bookings, {armed['rows']:,} reminder rows, {armed['size']}; "
        f"{armed['scheduled']:,} of them scheduled); {count:,} made due at once; {WORKERS} `celery -A config worker` "
        f"processes × {CONCURRENCY} (prefork) on Redis and PostgreSQL; SMTP sink on loopback. "
        f"Load average at the end {os.getloadavg()[0]:.1f}.\n"
    )
    print(
        "| due | delivered | distinct | duplicates | missing | rows sent | attempts | seconds | emails/s | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {count:,} | {len(ours):,} | {len(set(ours)):,} | {duplicates} | {missing} "
        f"| {status['by_status'].get('sent', 0):,} | {status['attempts']:,} | **{elapsed:.1f}** "
        f"| **{count / elapsed:.0f}** | 0 duplicates, 0 missing |"
    )
    print(
        f"\nAlso sent meanwhile: {len(sent_ids) - len(ours):,} emails of reminders that came due by themselves "
        f"({status['others_sent']:,} such rows marked sent)."
    )
    print(f"\nThe dispatch's claim query ({count:,} due among {armed['rows']:,} rows, after ANALYZE):\n")
    print("    " + str(armed["sql"]))
    print()
    for line in armed["plan"]:
        print("    " + line)
    print("\nReproduce: BENCH_SCALE_REMINDERS=1 .venv/bin/python -m bench bench_scale_reminders")
    problems = []
    if duplicates or missing:
        problems.append(f"{duplicates} duplicates, {missing} missing")
    if not any("Index Scan" in line and "reminder_due" in line for line in armed["plan"]):
        problems.append("the claim query is not an index scan of reminder_due")
    if problems:
        print("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    serve_steps({"arm": _arm, "status": _status})
