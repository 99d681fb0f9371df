"""The Celery app: broker from settings, one beat schedule defined here in code."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("coaching", include=["config.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The single beat schedule. Periodic work claims rows from the database (the
# database is the queue), so a missed or doubled beat tick is harmless.
app.conf.beat_schedule = {
    "heartbeat": {
        "task": "config.tasks.heartbeat",
        "schedule": 60.0,
    },
    # Email work whose broker message was lost (booking/tasks.py).
    "sweep-unsent-emails": {
        "task": "booking.tasks.sweep_unsent_emails",
        "schedule": 60.0,
    },
    # Connected busy calendars (coaching/tasks.py): one refresh per calendar every 10 minutes.
    "refresh-busy-calendars": {
        "task": "coaching.tasks.refresh_all_busy_calendars",
        "schedule": 600.0,
    },
}
