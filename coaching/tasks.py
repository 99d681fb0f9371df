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


# CalDAV calendars (coaching/caldav_services.py): every few minutes, one task per busy calendar,
# on the outbound queue (settings.CELERY_TASK_ROUTES); a failed sync keeps the old blocks.
CALDAV_SYNC_EVERY_SECONDS = 5 * 60


@shared_task(ignore_result=True)
def sync_caldav_calendar(calendar_id: int) -> None:
    """Read what changed in one CalDAV calendar and rebuild its busy blocks."""
    from coaching import caldav_services
    from coaching.models import CalDavCalendar

    calendar = CalDavCalendar.objects.select_related("account", "coach").filter(pk=calendar_id).first()
    if calendar is None:
        return
    caldav_services.caldav_calendar_sync(calendar=calendar)


@shared_task(ignore_result=True)
def sync_all_caldav_calendars() -> int:
    """Beat: enqueue a sync of every busy calendar of a working account."""
    from coaching.models import CalDavAccount, CalDavCalendar

    ids = list(
        CalDavCalendar.objects.filter(busy=True, account__status=CalDavAccount.Status.OK)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for calendar_id in ids:
        sync_caldav_calendar.apply_async((calendar_id,), expires=CALDAV_SYNC_EVERY_SECONDS)
    return len(ids)
