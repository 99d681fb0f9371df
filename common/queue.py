"""Enqueue background work once the current transaction commits.

A task never sees uncommitted data, a rolled-back write enqueues nothing, and
``robust=True`` means a broker outage is logged, never raised: every such task has a
database row that a beat sweep picks up again (docs/architecture.md, "The database is the queue").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction

# Every queued row keeps its last error in a CharField of this length.
ERROR_LENGTH = 300


def enqueue_on_commit(task: Any, *args: Any, expires: float | None = None) -> None:
    """``task.delay(*args)`` after commit (at once outside a transaction).

    ``expires`` (seconds) drops the message if no worker took it by then: for work that
    a later tick does anyway, so a backlog never runs stale copies.
    """
    # A lambda, not functools.partial: Django names the callback by __qualname__ when it fails.
    if expires is None:
        transaction.on_commit(lambda: task.delay(*args), robust=True)
    else:
        transaction.on_commit(lambda: task.apply_async(args, expires=expires), robust=True)


# A task whose database was briefly away (a restart, a failover) backs off and tries again.
RETRY_ON_DATABASE_ERROR: dict[str, Any] = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 5,
}


def attempt_finished(
    status: str, *, error: str | None = None, sent_at: datetime | None = None, **fields: Any
) -> dict[str, Any]:
    """The fields that end one attempt at a queued row: its new status, the error (cut to fit, no
    personal data: see common/emails.describe_error) and when it was sent; ``fields`` add more."""
    fields["status"] = status
    if error is not None:
        fields["last_error"] = error[:ERROR_LENGTH]
    if sent_at is not None:
        fields["sent_at"] = sent_at
    return fields
