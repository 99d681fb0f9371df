"""Bookings out to the coach's CalDAV calendar (issue 17): after each change of a booking, the
row for its calendar object (``CalendarWrite``) is set pending and a task writes the booking as
it is then: a PUT of ``booking/calendar_objects.py``'s object (If-Match with the ETag we last
got; overwritten when the coach edited it in their calendar, since the booking decides), or a
DELETE once nothing of it is active. Failures retry with backoff and stay visible; refused
credentials mark the account broken (coaching/caldav_services.py). Beat sends what is due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from booking import tasks
from booking.calendar_objects import calendar_object, object_name
from booking.models import Booking, CalendarWrite
from coaching import caldav
from coaching.caldav_services import caldav_account_failed, caldav_login
from coaching.models import CalDavAccount, CalDavCalendar
from common import credentials
from common.emails import retry_delay
from common.outbound import OutboundError
from common.queue import attempt_finished, enqueue_on_commit

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Longer than one attempt's deadline: a live attempt is never overtaken.
LEASE = timedelta(minutes=5)
W = CalendarWrite.Status


def calendar_write_plan(*, booking: Booking, now: datetime | None = None) -> CalendarWrite | None:
    """The booking changed: its object in the coach's write calendar is to be brought up to date
    (None when the coach writes bookings nowhere). Enqueued on commit."""
    now = now or timezone.now()
    calendar = (
        CalDavCalendar.objects.filter(
            coach_id=booking.coach_id, write_bookings=True, account__status=CalDavAccount.Status.OK
        )
        .select_related("account")
        .first()
    )
    if calendar is None:
        return None
    href = calendar.url + object_name(booking)
    fields = {
        "booking": booking,
        "status": W.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
    }
    with transaction.atomic():
        rows = CalendarWrite.objects.filter(calendar=calendar, href=href)
        if not rows.update(version=F("version") + 1, **fields):
            try:
                with transaction.atomic():
                    CalendarWrite.objects.create(calendar=calendar, href=href, **fields)
            except IntegrityError:
                rows.update(version=F("version") + 1, **fields)
        write = rows.get()
        enqueue_on_commit(tasks.write_calendar_object, write.pk)
    return write


def calendar_write_send(*, write_id: int, now: datetime | None = None) -> str:
    """One attempt at a pending write; what happened ("written", "removed", "retry", "failed",
    or "" when there was nothing to do: done, claimed elsewhere, not due)."""
    now = now or timezone.now()
    claimed = (
        CalendarWrite.objects.filter(pk=write_id, status=W.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return ""
    write = CalendarWrite.objects.select_related(
        "calendar__account", "booking__series", "booking__coach__user", "booking__offering"
    ).get(pk=write_id)
    account = write.calendar.account
    booking = write.booking
    try:
        login = caldav_login(account)
        active = _still_on(booking)
        if active:
            try:
                etag = caldav.put_event(login, write.href, calendar_object(booking, now=now), etag=write.etag)
            except caldav.CalDavConflict:
                # Edited or created in the calendar meanwhile: the booking decides what it says.
                etag = caldav.put_event(login, write.href, calendar_object(booking, now=now), force=True)
            _finish(write, W.DONE, etag=etag, present=True)
            return "written"
        if write.present or write.etag:
            try:
                caldav.delete_event(login, write.href, etag=write.etag)
            except caldav.CalDavConflict:
                caldav.delete_event(login, write.href)
        _finish(write, W.DONE, etag="", present=False)
        return "removed"
    except credentials.CredentialUnreadable:
        caldav_account_failed(
            account, "The stored password could not be read: connect the account again.", now, broken=True
        )
        _finish(write, W.FAILED, error="The calendar account needs to be connected again.")
        return "failed"
    except OutboundError as exc:
        if getattr(exc, "status", None) in (401, 403):
            caldav_account_failed(account, exc.message, now, broken=True)
            _finish(write, W.FAILED, error=exc.message)
            return "failed"
        if write.attempts >= MAX_ATTEMPTS:
            _finish(write, W.FAILED, error=exc.message)
            logger.error("calendar write %s: failed for good: %s", write.pk, exc.message)
            return "failed"
        _finish(
            write,
            W.PENDING,
            error=exc.message,
            next_attempt_at=now + timedelta(seconds=retry_delay(write.attempts - 1)),
        )
        logger.warning("calendar write %s: attempt %d failed (%s)", write.pk, write.attempts, exc.message)
        return "retry"


def calendar_writes_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending writes whose time came (retries after their backoff, and first attempts whose
    message was lost): the beat enqueues them."""
    now = now or timezone.now()
    return list(
        CalendarWrite.objects.filter(status=W.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _still_on(booking: Booking) -> bool:
    if booking.series_id is not None:
        return booking.series.occurrences.filter(status__in=Booking.ACTIVE_STATUSES).exists()
    return booking.status in Booking.ACTIVE_STATUSES


def _finish(write: CalendarWrite, status: str, *, error: str | None = None, **fields: object) -> None:
    ended = attempt_finished(status, error=error if error is not None else "", locked_until=None, **fields)
    if not CalendarWrite.objects.filter(pk=write.pk, version=write.version).update(**ended):
        # The booking changed while we wrote: keep what the server now holds, stay pending for
        # the change's own attempt.
        kept = {k: v for k, v in ended.items() if k in ("etag", "present", "locked_until")}
        CalendarWrite.objects.filter(pk=write.pk).update(**kept)


def calendar_write_retry(*, write: CalendarWrite, now: datetime | None = None) -> bool:
    """Try a failed write again (a fresh round of attempts); False if it is not failed."""
    now = now or timezone.now()
    with transaction.atomic():
        retried = CalendarWrite.objects.filter(pk=write.pk, status=W.FAILED).update(
            status=W.PENDING, attempts=0, next_attempt_at=now, locked_until=None, version=F("version") + 1
        )
        if retried:
            enqueue_on_commit(tasks.write_calendar_object, write.pk)
    return bool(retried)
