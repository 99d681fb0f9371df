"""The project's Celery app for a beat process a test starts: ``celery -A tests.waitlist.beat_app beat``.

The worker app of tests/reminders (the test's own queue as default queue) with only the
waitlist's two beat tasks in the schedule, each every second instead of every minute or 15, so a
test waits seconds.
"""

from __future__ import annotations

from tests.reminders.worker_app import app

app.conf.beat_schedule = {
    "sweep-waitlist": {"task": "booking.tasks.sweep_waitlist", "schedule": 1.0},
    "rematch-waitlists": {"task": "booking.tasks.rematch_waitlists", "schedule": 1.0},
}

__all__ = ["app"]
