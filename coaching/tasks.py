"""Celery tasks for coaches: keep connected busy calendars fresh.

Beat runs ``refresh_all_busy_calendars`` every ten minutes; it enqueues one
``refresh_busy_calendar`` per calendar, so one slow or broken calendar never holds up
the others. A failed refresh keeps the old blocks and records the error
(coaching/services.py); the next tick tries again, so these tasks do not retry.
"""

from __future__ import annotations

import logging

from celery import shared_task

from coaching.models import BusyCalendar

logger = logging.getLogger(__name__)

REFRESH_EVERY_SECONDS = 10 * 60


@shared_task(ignore_result=True)
def refresh_busy_calendar(calendar_id: int) -> None:
    """Fetch one busy calendar and replace its busy blocks."""
    from coaching import services

    calendar = BusyCalendar.objects.select_related("coach").filter(pk=calendar_id).first()
    if calendar is None:
        logger.info("refresh_busy_calendar: calendar %s is gone", calendar_id)
        return
    services.busy_calendar_refresh(calendar=calendar)


@shared_task(ignore_result=True)
def refresh_all_busy_calendars() -> None:
    """Enqueue a refresh of every busy calendar (the beat task)."""
    count = 0
    for calendar_id in BusyCalendar.objects.order_by("pk").values_list("pk", flat=True).iterator():
        # A refresh still queued when the next tick comes is not worth running.
        refresh_busy_calendar.apply_async((calendar_id,), expires=REFRESH_EVERY_SECONDS)
        count += 1
    logger.info("refresh_all_busy_calendars: %d calendars enqueued", count)
