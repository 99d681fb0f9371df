"""Celery tasks for bookings: they load rows by id and send; services and emails.py decide.

Booking emails (``notify_booking_event`` plans one EmailDelivery per recipient, then
``send_booking_email``) and reminders (``dispatch_due_reminders`` claims due rows, then
``send_reminder``) both follow docs/architecture.md, "The database is the queue".
Logs carry ids, references and error classes only.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from booking import emails, reminders, webhooks
from booking.models import (
    BookingEvent,
    EmailDelivery,
    Reminder,
    WaitlistEmail,
    WaitlistHold,
    WebhookDelivery,
    WebhookEndpoint,
)
from booking.waitlist_emails import build_waitlist_message
from common.emails import RETRYABLE, describe_error, is_permanent, retry_delay
from common.outbound import OutboundError
from common.queue import ERROR_LENGTH, RETRY_ON_DATABASE_ERROR, attempt_finished

logger = logging.getLogger(__name__)

MAX_EMAIL_RETRIES = 8
# A claim outlives one attempt (EMAIL_TIMEOUT is 20 s), and a crashed worker's claim
# lapses in time for the redelivered message.
CLAIM_FOR = timedelta(minutes=5)


class EmailNotSentYet(Exception):
    """An attempt failed and will be retried; the message names no person."""


@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_booking_event(event_id: int) -> None:
    """Plan the emails about one change of a booking and enqueue one send per recipient."""
    event = (
        BookingEvent.objects.select_related("booking__coach__user", "booking__offering")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        logger.warning("notify_booking_event: event %s not found", event_id)
        return
    to_send: list[int] = []
    with transaction.atomic():
        for recipient, kind in emails.deliveries_for_event(event):
            delivery, created = EmailDelivery.objects.get_or_create(
                event=event, recipient=recipient, defaults={"booking": event.booking, "kind": kind}
            )
            # A repeated notify (a redelivered message) does not enqueue twice;
            # a row that was never attempted is enqueued again.
            if created or (delivery.status == EmailDelivery.Status.PENDING and delivery.attempts == 0):
                to_send.append(delivery.pk)
        BookingEvent.objects.filter(pk=event.pk).update(notified_at=timezone.now())
    # The rows are committed now (a task runs in autocommit): each send can find its row.
    for delivery_id in to_send:
        send_booking_email.delay(delivery_id)
    _tell_waitlist(event)
    _tell_calendar(event)
    logger.info(
        "booking %s: event %s (%s) -> %d emails", event.booking.reference, event.pk, event.kind, len(to_send)
    )


@shared_task(bind=True, ignore_result=True, max_retries=MAX_EMAIL_RETRIES)
def send_booking_email(self, delivery_id: int) -> None:
    """Send one email about a booking event, at most once per recipient."""
    now = timezone.now()
    claimed = (
        EmailDelivery.objects.filter(pk=delivery_id, status=EmailDelivery.Status.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + CLAIM_FOR, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        # Sent, failed for good, gone, or another worker is sending it right now.
        return
    delivery = (
        EmailDelivery.objects.select_related("event__booking__coach__user", "event__booking__offering")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return  # the booking was deleted meanwhile
    booking = delivery.event.booking
    if emails.is_superseded(delivery.kind, booking):
        _finish(delivery_id, status=EmailDelivery.Status.SKIPPED)
        logger.info("email %s (booking %s): skipped, the booking is off", delivery_id, booking.reference)
        return
    try:
        message = emails.build_message(delivery.event, delivery.recipient, delivery.kind, now=now)
        message.send()
    except RETRYABLE as exc:
        error = describe_error(exc)
        retries = self.request.retries
        if is_permanent(exc) or retries >= self.max_retries:
            _finish(delivery_id, status=EmailDelivery.Status.FAILED, error=error)
            logger.error(
                "email %s (booking %s, %s to %s): failed for good after %d attempts: %s",
                delivery_id,
                booking.reference,
                delivery.kind,
                delivery.recipient,
                retries + 1,
                error,
            )
            return
        _finish(delivery_id, status=EmailDelivery.Status.PENDING, error=error)
        countdown = retry_delay(retries)
        logger.warning(
            "email %s (booking %s): attempt %d failed (%s), retrying in %.1f s",
            delivery_id,
            booking.reference,
            retries + 1,
            error,
            countdown,
        )
        # Celery logs the retry's exception: hand it our description, not the
        # server's reply, which may quote the address.
        raise self.retry(exc=EmailNotSentYet(error), countdown=countdown) from None
    except Exception as exc:
        # A bug, not the mail server: no retry, but the row must not stay "sending".
        _finish(
            delivery_id, status=EmailDelivery.Status.FAILED, error=f"Unexpected error [{type(exc).__name__}]"
        )
        raise
    _finish(delivery_id, status=EmailDelivery.Status.SENT, sent=True)
    logger.info(
        "email %s (booking %s, %s to %s): sent",
        delivery_id,
        booking.reference,
        delivery.kind,
        delivery.recipient,
    )


# Changes that free a coach's time: the waitlist's line is offered it at once (beat's
# rematch_waitlists would within 15 minutes anyway).
_FREES_TIME = (BookingEvent.Kind.CANCELLED, BookingEvent.Kind.DECLINED, BookingEvent.Kind.RESCHEDULED)
# A new booking frees nothing, but a start it takes stops being one the line saw free when
# joining: when it frees up again, it is an opening (the match keeps that list true).
_CHANGES_TIME = (*_FREES_TIME, BookingEvent.Kind.CREATED)


# Changes that alter what the coach's CalDAV calendar should show.
_CHANGES_CALENDAR = (
    BookingEvent.Kind.CREATED,
    BookingEvent.Kind.APPROVED,
    BookingEvent.Kind.RESCHEDULED,
    BookingEvent.Kind.CANCELLED,
    BookingEvent.Kind.DECLINED,
)


def _tell_calendar(event: BookingEvent) -> None:
    from booking.calendar_writes import calendar_write_plan

    if event.kind in _CHANGES_CALENDAR:
        calendar_write_plan(booking=event.booking)


def _tell_waitlist(event: BookingEvent) -> None:
    # A lost message is no loss: sweep_unsent_emails notifies the event again, and the
    # rematch_waitlists beat task looks at every line anyway.
    if event.kind in _CHANGES_TIME:
        waitlist_match.delay(event.booking.coach_id)


# An event normally has its deliveries within seconds; one without them after this
# long lost its message (broker down at commit time) and is enqueued again.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_WINDOW = timedelta(days=2)


@shared_task(ignore_result=True)
def sweep_unsent_emails() -> int:
    """Beat, every minute: re-enqueue email work whose broker message was lost.

    - events that never got their EmailDelivery rows (the enqueue after commit failed);
    - deliveries still pending whose send or retry message is overdue (a broker that
      lost its queue, a worker killed before acking under the filesystem transport).
    Sends claim their row with a conditional update, so enqueuing twice is harmless.
    """
    now = timezone.now()
    event_ids = list(
        BookingEvent.objects.filter(
            at__gte=now - SWEEP_WINDOW,
            at__lt=now - SWEEP_GRACE,
            notified_at__isnull=True,
        )
        .order_by()
        .values_list("pk", flat=True)[:500]
    )
    overdue = now - SWEEP_GRACE - timedelta(seconds=settings.EMAIL_RETRY_MAX_SECONDS)
    delivery_ids = list(
        EmailDelivery.objects.filter(status=EmailDelivery.Status.PENDING, created_at__gte=now - SWEEP_WINDOW)
        .filter(
            Q(attempts=0, created_at__lt=now - SWEEP_GRACE) | Q(attempts__gt=0, last_attempt_at__lt=overdue)
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by()
        .values_list("pk", flat=True)[:500]
    )
    for event_id in event_ids:
        notify_booking_event.delay(event_id)
    for delivery_id in delivery_ids:
        send_booking_email.delay(delivery_id)
    if event_ids or delivery_ids:
        logger.warning("sweep: re-enqueued %d events and %d emails", len(event_ids), len(delivery_ids))
    return len(event_ids) + len(delivery_ids)


@shared_task(ignore_result=True)
def delete_expired_idempotency_keys() -> int:
    """Beat, hourly: delete the idempotency keys older than a day (booking_create already ignores them)."""
    from booking.services import idempotency_keys_delete_expired

    deleted = idempotency_keys_delete_expired(now=timezone.now())
    if deleted:
        logger.info("idempotency keys: deleted %d expired", deleted)
    return deleted


def _finish(delivery_id: int, *, status: str, error: str | None = None, sent: bool = False) -> None:
    fields = attempt_finished(
        status, error=error, sent_at=timezone.now() if sent else None, locked_until=None
    )
    EmailDelivery.objects.filter(pk=delivery_id).update(**fields)


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------
# A Reminder row says what is to be sent and when; no Celery message is ever scheduled
# ahead. Dispatch claims due rows (and lapsed leases) with a claim token; each send swaps
# the token for its own before sending, so a duplicate message finds nothing to do; an
# SMTP error puts the row back a little later (docs/architecture.md, "The database is the queue").

# Longer than the hard time limit of one attempt (CELERY_TASK_TIME_LIMIT, 300 s), so a
# live attempt is never overtaken; it assumes the machines' clocks agree within minutes.
REMINDER_LEASE = timedelta(minutes=10)
# Rows claimed per transaction: short locks, and a backlog still drains quickly
# because a full batch enqueues the next run at once.
DISPATCH_BATCH = 500
# Attempts at one email: 5 retries over about 15 minutes (30 s doubling, with jitter).
MAX_REMINDER_ATTEMPTS = 6


def claim_due_reminders(*, now: datetime, limit: int = DISPATCH_BATCH) -> list[tuple[int, str]]:
    """Claim up to ``limit`` due reminders (and lapsed leases); return ``(id, claim)`` for each won.

    The sends are enqueued when the claim commits (robust: with the broker down the
    rows stay claimed, and the lease brings them back).
    """
    token = secrets.token_hex(8)
    lapsed_before = now - REMINDER_LEASE
    due = Reminder.objects.filter(status=Reminder.Status.SCHEDULED, due_at__lte=now).order_by("due_at")
    lapsed = Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__lt=lapsed_before).order_by(
        "claimed_at"
    )
    with transaction.atomic():
        ids = _pick(due, limit)
        if len(ids) < limit:
            ids += _pick(lapsed, limit - len(ids))
        if not ids:
            return []
        Reminder.objects.filter(pk__in=ids).filter(
            Q(status=Reminder.Status.SCHEDULED, due_at__lte=now)
            | Q(status=Reminder.Status.SENDING, claimed_at__lt=lapsed_before)
        ).update(status=Reminder.Status.SENDING, claim=token, claimed_at=now, updated_at=now)
        won = list(
            Reminder.objects.filter(pk__in=ids, status=Reminder.Status.SENDING, claim=token).values_list(
                "pk", flat=True
            )
        )
        claimed = [(pk, token) for pk in won]
        transaction.on_commit(lambda: _enqueue_sends(claimed), robust=True)
    return claimed


def _pick(queryset, limit: int) -> list[int]:  # type: ignore[no-untyped-def]
    if connection.features.has_select_for_update_skip_locked:
        # Rows another run has locked are skipped, not waited for.
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset.values_list("pk", flat=True)[:limit])


def _enqueue_sends(claimed: list[tuple[int, str]]) -> None:
    for done, (reminder_id, claim) in enumerate(claimed):
        try:
            send_reminder.delay(reminder_id, claim)
        except Exception:
            # The broker is away: don't wait for it once per row. The rest stay
            # claimed until their lease runs out, then a dispatch claims them again.
            logger.exception("reminders: %d of %d sends not enqueued", len(claimed) - done, len(claimed))
            return


@shared_task(ignore_result=True)
def dispatch_due_reminders() -> int:
    """Beat, every minute: claim the reminders that are due and enqueue one send each.

    A full batch enqueues the next run at once, so a backlog drains without waiting
    for the next tick. Overlapping runs are safe: each row is claimed by one of them.
    """
    frozen_now = timezone.now()
    claimed = claim_due_reminders(now=frozen_now, limit=DISPATCH_BATCH)
    if len(claimed) >= DISPATCH_BATCH:
        transaction.on_commit(dispatch_due_reminders.delay, robust=True)
    if claimed:
        logger.info("reminders: claimed %d", len(claimed))
    return len(claimed)


@shared_task(ignore_result=True)
def send_reminder(reminder_id: int, claim: str) -> str:
    """Send one claimed reminder, at most once per claim; returns what happened (for logs and tests)."""
    now = timezone.now()
    attempt = secrets.token_hex(8)
    started = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING, claim=claim).update(
        claim=attempt, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    if not started:
        # Sent, cancelled, moved, or claimed again since: someone else has it.
        return "stale"
    reminder = (
        Reminder.objects.select_related("booking__coach__user", "booking__offering")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:
        return "stale"  # the booking was deleted meanwhile
    booking = reminder.booking
    if reminder.attempts > MAX_REMINDER_ATTEMPTS:
        # Every earlier attempt died with its worker; don't try forever.
        _finish_reminder(
            reminder_id, attempt, status=Reminder.Status.FAILED, error="The sending worker kept stopping."
        )
        logger.error("reminder %s (booking %s): failed, no attempt finished", reminder_id, booking.reference)
        return "failed"
    problem = reminders.send_problem(
        kind=reminder.kind,
        recipient=reminder.recipient,
        booking_status=booking.status,
        start=booking.start,
        follow_up_enabled=booking.offering.follow_up_enabled,
        client_gone=booking.client_email == emails.ANONYMISED_EMAIL,
        now=now,
    )
    if problem is not None:
        status, reason = problem
        _finish_reminder(reminder_id, attempt, status=status, error=reason)
        logger.info("reminder %s (booking %s): not sent, %s", reminder_id, booking.reference, status)
        return status
    try:
        message = emails.build_reminder_message(reminder, now=now)
        message.send()
    except RETRYABLE as exc:
        error = describe_error(exc)
        if is_permanent(exc) or reminder.attempts >= MAX_REMINDER_ATTEMPTS:
            _finish_reminder(reminder_id, attempt, status=Reminder.Status.FAILED, error=error)
            logger.error(
                "reminder %s (booking %s, %s to %s): failed for good after %d attempts: %s",
                reminder_id,
                booking.reference,
                reminder.kind,
                reminder.recipient,
                reminder.attempts,
                error,
            )
            return "failed"
        delay = retry_delay(reminder.attempts - 1)
        _finish_reminder(
            reminder_id,
            attempt,
            status=Reminder.Status.SCHEDULED,
            error=error,
            due_at=now + timedelta(seconds=delay),
        )
        logger.warning(
            "reminder %s (booking %s): attempt %d failed (%s), again in %.0f s",
            reminder_id,
            booking.reference,
            reminder.attempts,
            error,
            delay,
        )
        return "retry"
    except Exception as exc:
        # A bug, not the mail server: the row must not stay "sending" for the lease to retry it forever.
        _finish_reminder(
            reminder_id,
            attempt,
            status=Reminder.Status.FAILED,
            error=f"Unexpected error [{type(exc).__name__}]",
        )
        raise
    if not _finish_reminder(reminder_id, attempt, status=Reminder.Status.SENT, sent_at=now):
        # Cancelled or moved while the email was on its way; the row says what happens next.
        logger.warning(
            "reminder %s (booking %s): sent, but changed meanwhile", reminder_id, booking.reference
        )
    else:
        logger.info(
            "reminder %s (booking %s, %s to %s): sent",
            reminder_id,
            booking.reference,
            reminder.kind,
            reminder.recipient,
        )
    return "sent"


def _finish_reminder(reminder_id: int, attempt: str, *, status: str, **fields: Any) -> bool:
    """End an attempt (``error``, ``sent_at``, ``due_at``), only if the row is still this attempt's:
    a cancel or a move since wins."""
    if fields.get("sent_at") is not None:
        fields["error"] = ""  # sent: whatever went wrong before no longer matters
    fields = attempt_finished(status, claim="", updated_at=timezone.now(), **fields)
    return bool(
        Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING, claim=attempt).update(
            **fields
        )
    )


# ---------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------
# A WebhookDelivery row is written with the booking change (booking/services.py) and its
# send enqueued on commit. ``send_webhook`` claims the row (pending and due, or a lapsed
# lease; never while an earlier delivery of the same booking to the same endpoint is still
# open), POSTs it and ends the attempt with one update. A failed attempt puts the row back
# with its next time; ``sweep_webhooks`` (beat, every minute) enqueues what is due: those
# retries, and first attempts whose message was lost. No message is scheduled ahead.

# Longer than the task's hard time limit (CELERY_TASK_TIME_LIMIT, 300 s): a live attempt is
# never overtaken, a dead worker's row is claimed again after it.
WEBHOOK_LEASE = timedelta(minutes=10)
WEBHOOK_SWEEP_BATCH = 1000
# A sweep's message not taken by a worker within this is dropped: the next sweep sends another.
SWEEP_EXPIRES = 110

_WStatus = WebhookDelivery.Status


def _earlier_open() -> Exists:
    """An earlier delivery of the same booking to the same endpoint is still to be sent."""
    return Exists(
        WebhookDelivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"),
            booking_id=OuterRef("booking_id"),
            pk__lt=OuterRef("pk"),
            status__in=WebhookDelivery.OPEN_STATUSES,
        )
    )


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    """Deliveries an attempt may take now (see the section's comment)."""
    return (
        WebhookDelivery.objects.filter(
            Q(status=_WStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=_WStatus.SENDING, locked_until__lt=now)
        )
        # A paused endpoint's events wait; a test event goes to check the endpoint.
        .filter(Q(endpoint__is_paused=False) | Q(booking__isnull=True))
        .filter(~_earlier_open())
    )


@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def send_webhook(delivery_id: int) -> str:
    """One attempt at one delivery; returns what happened (for logs and tests).

    "busy": not claimable now (sent, failed, not due, held by an earlier delivery of its
    booking, or another worker has it); "delivered", "retry" or "failed" otherwise.
    """
    now = timezone.now()
    claimed = (
        _claimable(now)
        .filter(pk=delivery_id)
        .update(
            status=_WStatus.SENDING,
            locked_until=now + WEBHOOK_LEASE,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            first_attempt_at=Coalesce(F("first_attempt_at"), now),
        )
    )
    if not claimed:
        return "busy"
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "busy"  # the endpoint was deleted meanwhile
    endpoint = delivery.endpoint
    # The attempt number is this attempt's claim: a late finish of an overtaken attempt changes nothing.
    attempt = delivery.attempts
    body = webhooks.encode(delivery.payload)
    status_code: int | None = None
    try:
        status_code = webhooks.post(
            endpoint.url,
            body,
            webhooks.headers_for(endpoint, delivery.webhook_id, body, now=now),
        )
        error = "" if 200 <= status_code < 300 else webhooks.describe_status(status_code)
    except OutboundError as exc:
        error = exc.message
    except Exception as exc:
        # A bug, not the endpoint: the row must not stay "sending"; it is retried like a failure.
        _webhook_failed(delivery, attempt, now=now, error=f"Unexpected error [{type(exc).__name__}]")
        raise
    if not error:
        finished = _finish_webhook(
            delivery_id,
            attempt,
            status=_WStatus.DELIVERED,
            last_status_code=status_code,
            last_error="",
            delivered_at=timezone.now(),
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        logger.info("webhook %s (endpoint %s): delivered, attempt %d", delivery_id, endpoint.pk, attempt)
        if finished:
            _enqueue_next_in_line(delivery)
        return "delivered"
    outcome = _webhook_failed(delivery, attempt, now=now, error=error, status_code=status_code)
    _count_failure(endpoint, error=error)
    return outcome


def _webhook_failed(
    delivery: WebhookDelivery, attempt: int, *, now: datetime, error: str, status_code: int | None = None
) -> str:
    """End a failed attempt: back to pending with the next time, or failed after three days."""
    first = delivery.first_attempt_at or now
    due = webhooks.next_attempt_at(first_attempt_at=first, attempts=attempt, now=now)
    fields: dict[str, Any] = {"last_status_code": status_code, "last_error": error[:ERROR_LENGTH]}
    if due is None:
        finished = _finish_webhook(delivery.pk, attempt, status=_WStatus.FAILED, **fields)
        logger.error(
            "webhook %s (endpoint %s): failed for good after %d attempts: %s",
            delivery.pk,
            delivery.endpoint_id,
            attempt,
            error,
        )
        if finished:
            _enqueue_next_in_line(delivery)
        return "failed"
    _finish_webhook(delivery.pk, attempt, status=_WStatus.PENDING, next_attempt_at=due, **fields)
    logger.warning(
        "webhook %s (endpoint %s): attempt %d failed (%s), again at %s",
        delivery.pk,
        delivery.endpoint_id,
        attempt,
        error,
        due.isoformat(),
    )
    return "retry"


def _finish_webhook(delivery_id: int, attempt: int, *, status: str, **fields: Any) -> bool:
    """End this attempt with one update, only if the row is still this attempt's."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=_WStatus.SENDING, attempts=attempt).update(
            status=status, locked_until=None, **fields
        )
    )


def _enqueue_next_in_line(delivery: WebhookDelivery) -> None:
    """The delivery no longer holds back its booking's next one to the endpoint: send that now."""
    if delivery.booking_id is None:
        return
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            booking_id=delivery.booking_id,
            pk__gt=delivery.pk,
            status=_WStatus.PENDING,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        try:
            send_webhook.delay(following)
        except Exception:
            # The broker is away: the sweep sends it.
            logger.exception("webhook %s: next in line not enqueued", following)


def _count_failure(endpoint: WebhookEndpoint, *, error: str) -> None:
    """One more failure in a row; at WEBHOOK_PAUSE_AFTER the endpoint is paused, its coach told once."""
    limit = settings.WEBHOOK_PAUSE_AFTER
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    # Only the attempt whose update flips the flag sends the email.
    paused = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, is_paused=False, consecutive_failures__gte=limit
    ).update(
        is_paused=True,
        paused_at=timezone.now(),
        paused_reason=f"Paused after {limit} failed deliveries in a row.",
    )
    if not paused:
        return
    logger.warning("webhook endpoint %s: paused after %d failures in a row", endpoint.pk, limit)
    endpoint = WebhookEndpoint.objects.select_related("coach__user").get(pk=endpoint.pk)
    try:
        webhooks.paused_email(endpoint, failures=limit, last_error=error).send()
    except RETRYABLE as exc:
        logger.error("webhook endpoint %s: pause email not sent: %s", endpoint.pk, describe_error(exc))


@shared_task(ignore_result=True)
def sweep_webhooks() -> int:
    """Beat, every minute: enqueue the webhook deliveries that are due and have no message.

    Retries whose time has come, lapsed leases, and first attempts older than a grace
    period (their message was lost with the broker). A claimed row is not sent twice, so an
    extra message is harmless. A backlog drains a batch a minute (and through the sends that
    finish, each enqueuing its booking's next delivery).
    """
    now = timezone.now()
    ids = list(
        _claimable(now)
        .filter(Q(attempts__gt=0) | Q(created_at__lt=now - SWEEP_GRACE) | Q(status=_WStatus.SENDING))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:WEBHOOK_SWEEP_BATCH]
    )
    for delivery_id in ids:
        # Dropped if no worker took it before the next sweep: a busy queue gets no stale copies.
        send_webhook.apply_async((delivery_id,), expires=SWEEP_EXPIRES)
    if ids:
        logger.info("webhook sweep: enqueued %d", len(ids))
    return len(ids)


# ---------------------------------------------------------------------------
# Waitlist (booking/waitlist.py decides; these run it and send its emails)
# ---------------------------------------------------------------------------
@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def waitlist_match(coach_id: int) -> int:
    """Offer the coach's freed times to the line (after a cancellation, a move, a lapse, a join)."""
    from booking.waitlist import waitlist_match as match

    return len(match(coach_id=coach_id))


@shared_task(ignore_result=True)
def rematch_waitlists() -> int:
    """Beat, every 15 minutes: match every coach with a line, for what no event announced (an
    offering made bookable further ahead, a lost message)."""
    from booking.waitlist import waiting_coaches

    coaches = waiting_coaches(now=timezone.now())
    for coach_id in coaches:
        waitlist_match.apply_async((coach_id,), expires=SWEEP_EXPIRES)
    return len(coaches)


@shared_task(ignore_result=True)
def sweep_waitlist() -> int:
    """Beat, every minute: end passed ranges; match the coaches whose holds ran out (the time
    passes to the next in line); send the emails whose message was lost."""
    from booking.waitlist import waitlist_sweep

    result = waitlist_sweep(now=timezone.now())
    for coach_id in result.coaches:
        waitlist_match.apply_async((coach_id,), expires=SWEEP_EXPIRES)
    for email_id in result.emails:
        send_waitlist_email.apply_async((email_id,), expires=SWEEP_EXPIRES)
    if result.ended or result.emails:
        logger.info("waitlist sweep: %d entries ended, %d emails resent", result.ended, len(result.emails))
    return len(result.coaches)


@shared_task(bind=True, ignore_result=True, max_retries=MAX_EMAIL_RETRIES)
def send_waitlist_email(self, email_id: int) -> None:
    """Send one waitlist email once: claimed like an EmailDelivery, retried with backoff."""
    now = timezone.now()
    rows = WaitlistEmail.objects.filter(pk=email_id, status=WaitlistEmail.Status.PENDING)
    if not rows.filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now)).update(
        locked_until=now + CLAIM_FOR, attempts=F("attempts") + 1, last_attempt_at=now
    ):
        return  # sent, failed for good, skipped, or another worker has it
    email = (
        WaitlistEmail.objects.select_related("entry__coach__user", "entry__offering", "hold")
        .filter(pk=email_id)
        .first()
    )
    if email is None:
        return
    if email.hold is not None and not _still_offered(email.hold, now=now):
        _finish_waitlist_email(email_id, status=WaitlistEmail.Status.SKIPPED)
        return  # the hold ended, or its time closed, before its email went: nothing to offer
    try:
        build_waitlist_message(email).send()
    except RETRYABLE as exc:
        error = describe_error(exc)
        retries = self.request.retries
        # The row's attempts count every chain of retries (a sweep may start another).
        if is_permanent(exc) or max(retries, email.attempts - 1) >= self.max_retries:
            _finish_waitlist_email(email_id, status=WaitlistEmail.Status.FAILED, error=error)
            logger.error("waitlist email %s (%s): failed for good: %s", email_id, email.kind, error)
            return
        _finish_waitlist_email(email_id, status=WaitlistEmail.Status.PENDING, error=error)
        logger.warning("waitlist email %s: attempt %d failed (%s), retrying", email_id, retries + 1, error)
        raise self.retry(exc=EmailNotSentYet(error), countdown=retry_delay(retries)) from None
    except Exception as exc:
        _finish_waitlist_email(
            email_id, status=WaitlistEmail.Status.FAILED, error=f"Unexpected error [{type(exc).__name__}]"
        )
        raise
    _finish_waitlist_email(email_id, status=WaitlistEmail.Status.SENT, sent=True)
    logger.info("waitlist email %s (%s, entry %s): sent", email_id, email.kind, email.entry.reference)


def _still_offered(hold: WaitlistHold, *, now: datetime) -> bool:
    """The hold is live and its time still bookable for the holder (the coach may have closed it:
    then it is let go, and the line matched again)."""
    from booking.slots import offering_slot_is_free
    from booking.waitlist import waitlist_release

    if hold.status != WaitlistHold.Status.HELD or hold.expires_at <= now:
        return False
    if offering_slot_is_free(offering=hold.offering, start=hold.start, now=now, exclude_hold_id=hold.pk):
        return True
    waitlist_release(entry=hold.entry, hold_id=hold.pk, now=now)
    return False


def _finish_waitlist_email(
    email_id: int, *, status: str, error: str | None = None, sent: bool = False
) -> None:
    fields = attempt_finished(
        status, error=error, sent_at=timezone.now() if sent else None, locked_until=None
    )
    WaitlistEmail.objects.filter(pk=email_id).update(**fields)


# ---------------------------------------------------------------------------
# Bookings out to the coach's CalDAV calendar (booking/calendar_writes.py decides)
# ---------------------------------------------------------------------------
@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def write_calendar_object(write_id: int) -> str:
    """One attempt at writing a booking into the coach's calendar (outbound queue)."""
    from booking.calendar_writes import calendar_write_send

    return calendar_write_send(write_id=write_id)


@shared_task(ignore_result=True)
def sweep_calendar_writes() -> int:
    """Beat, every minute: writes due (retries after their backoff, lost first attempts)."""
    from booking.calendar_writes import calendar_writes_due

    due = calendar_writes_due()
    for write_id in due:
        write_calendar_object.apply_async((write_id,), expires=SWEEP_EXPIRES)
    return len(due)
