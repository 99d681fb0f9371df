"""The project's Celery app for a beat process a test starts: ``celery -A tests.waitlist.beat_app beat``.

The worker app of tests/reminders (the test's own queue as default queue) with one entry in the
schedule, the waitlist's sweep, every second instead of every minute, so a test waits seconds.
"""

from __future__ import annotations

from tests.reminders.worker_app import app

app.conf.beat_schedule = {"sweep-waitlist": {"task": "booking.tasks.sweep_waitlist", "schedule": 1.0}}

__all__ = ["app"]
