"""The Celery app: broker from settings, one beat schedule defined here in code."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

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
    # Idempotency keys older than a day (booking/tasks.py): they answer no retry any more.
    "delete-expired-idempotency-keys": {
        "task": "booking.tasks.delete_expired_idempotency_keys",
        "schedule": 3600.0,
    },
    # Reminders and follow-ups that are due (booking/tasks.py): the rows are the
    # queue, so this tick is the only clock; nothing is scheduled hours ahead. At the
    # start of every minute, because due times fall on whole minutes (slot times minus
    # whole minutes): a reminder due at 14:00 goes at 14:00, not up to a minute later.
    "dispatch-due-reminders": {
        "task": "booking.tasks.dispatch_due_reminders",
        "schedule": crontab(),
    },
    # The waitlist (booking/waitlist.py): entries whose dates passed end, expired holds lapse and
    # pass to the next in line, lost emails go again.
    "sweep-waitlist": {
        "task": "booking.tasks.sweep_waitlist",
        "schedule": 60.0,
    },
    # Every line offered what is free, for changes no event announced (booking/tasks.py);
    # cancellations, moves and the coach's hours and calendars announce theirs at once.
    "rematch-waitlists": {
        "task": "booking.tasks.rematch_waitlists",
        "schedule": 900.0,
    },
    # Email community (community/tasks.py): lost confirmation emails and
    # broadcasts that stopped making progress are picked up again.
    "sweep-community": {
        "task": "community.tasks.sweep_community",
        "schedule": 60.0,
    },
    # Webhook deliveries that are due (booking/tasks.py): retries after their backoff, and
    # first attempts whose message was lost with the broker. The rows are the queue.
    "sweep-webhooks": {
        "task": "booking.tasks.sweep_webhooks",
        "schedule": 60.0,
    },
    # Connected busy calendars (coaching/tasks.py): one refresh per calendar every 10 minutes.
    "refresh-busy-calendars": {
        "task": "coaching.tasks.refresh_all_busy_calendars",
        "schedule": 600.0,
    },
    # CalDAV calendars (coaching/tasks.py): what changed in each busy calendar, every 5 minutes.
    "sync-caldav-calendars": {
        "task": "coaching.tasks.sync_all_caldav_calendars",
        "schedule": 300.0,
    },
    # Bookings written into coaches' CalDAV calendars (booking/tasks.py): retries after their
    # backoff and first attempts whose message was lost. The rows are the queue.
    "sweep-calendar-writes": {
        "task": "booking.tasks.sweep_calendar_writes",
        "schedule": 60.0,
    },
    # Clients' pass emails (practice/tasks.py): grants whose email's message was lost are
    # enqueued again; each send claims its grant, so a doubled tick sends nothing twice.
    "sweep-pass-emails": {
        "task": "practice.tasks.sweep_pass_emails",
        "schedule": 60.0,
    },
    # "Your package ends soon" (practice/tasks.py): one email per pass, claimed on the pass row,
    # PASS_EXPIRY_REMINDER_DAYS before its end. Hourly: the day is what matters, not the minute.
    "remind-expiring-passes": {
        "task": "practice.tasks.remind_expiring_passes",
        "schedule": 3600.0,
    },
    # Unused credits of passes whose validity ended (practice/tasks.py): one expire entry per
    # pass, written under the pass's lock, so a crashed or doubled run expires nothing twice.
    "expire-passes": {
        "task": "practice.tasks.expire_passes",
        "schedule": 900.0,
    },
}
