"""The project's Celery app for worker processes that tests start: ``celery -A tests.reminders.worker_app worker``.

The same app as ``celery -A config worker`` (same settings, tasks and broker), with
two additions a test needs:

- the test's own queue as the default queue, so the tasks such a worker enqueues
  itself (the sends of a dispatch run) stay on the queue the test watches, and no
  worker of ``make run`` or of another test run takes them;
- a file written when the worker is ready to consume, which the test waits for;
- on the filesystem transport, a shorter poll for new messages.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.signals import worker_ready

from config.celery import app

app.conf.task_default_queue = os.environ["REMINDER_TEST_QUEUE"]
if str(app.conf.broker_url).startswith("filesystem"):
    # The filesystem transport looks for new messages once a second by default;
    # tests wait less with a shorter poll. Redis pushes messages and needs nothing.
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "polling_interval": 0.1}


@worker_ready.connect
def _ready(**kwargs: object) -> None:
    Path(os.environ["REMINDER_TEST_READY_FILE"]).write_text(str(os.getpid()))


__all__ = ["app"]
