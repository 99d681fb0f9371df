"""Celery tasks for bookings: they load rows by id and send; services and emails.py decide.

Email flow (invariant 6, nothing lost on failure):

1. A service commits a change and a BookingEvent, then enqueues
   ``notify_booking_event`` on commit: an email can never roll a booking back.
2. ``notify_booking_event`` creates one EmailDelivery row per recipient (idempotent:
   one row per event and recipient) and enqueues ``send_booking_email`` for each.
3. ``send_booking_email`` claims its row with a conditional update (two workers
   handed the same message never both send), builds the message from the booking
   as it is now, and sends it. An SMTP or network error is retried with exponential
   backoff and jitter; a permanent refusal (5xx for the address) or the last retry
   marks the row ``failed``, which the coach's dashboard lists.

Logs carry ids, references and error classes only: no names, no addresses.
"""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from booking import emails
from booking.models import BookingEvent, EmailDelivery

logger = logging.getLogger(__name__)

MAX_EMAIL_RETRIES = 8
# A claim outlives one attempt (EMAIL_TIMEOUT is 20 s), and a crashed worker's claim
# lapses in time for the redelivered message.
CLAIM_FOR = timedelta(minutes=5)
RETRYABLE = (smtplib.SMTPException, OSError)


class EmailNotSentYet(Exception):
    """An attempt failed and will be retried; the message names no person."""


def _retry_base_seconds() -> float:
    """The first retry's delay; each next one doubles it, up to the maximum (settings may shorten both)."""
    return float(getattr(settings, "BOOKING_EMAIL_RETRY_BASE_SECONDS", 30))


def _retry_max_seconds() -> float:
    return float(getattr(settings, "BOOKING_EMAIL_RETRY_MAX_SECONDS", 30 * 60))


def retry_delay(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: exponential, capped, with jitter.

    Half the ceiling is fixed and half random ("equal jitter"), so retries of many
    emails after one outage spread out but none comes back at once.
    """
    ceiling = min(_retry_base_seconds() * 2**retries, _retry_max_seconds())
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - timing jitter, not a secret


@shared_task(
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=5 * 60,
    retry_jitter=True,
    max_retries=5,
)
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
        if _is_permanent(exc) or retries >= self.max_retries:
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
    overdue = now - SWEEP_GRACE - timedelta(seconds=_retry_max_seconds())
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


def _finish(delivery_id: int, *, status: str, error: str | None = None, sent: bool = False) -> None:
    fields: dict[str, object] = {"status": status, "locked_until": None}
    if error is not None:
        fields["last_error"] = error[:300]
    if sent:
        fields["sent_at"] = timezone.now()
    EmailDelivery.objects.filter(pk=delivery_id).update(**fields)


def _smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None


def _is_permanent(exc: BaseException) -> bool:
    """A 5xx refusal of the address or the message: trying again gets the same answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        code = _smtp_code(exc)
        return code is not None and 500 <= code < 600
    return False


def describe_error(exc: BaseException) -> str:
    """What went wrong, for the coach and the log: the kind of failure and the SMTP code, no addresses."""
    code = _smtp_code(exc)
    suffix = f" (SMTP {code})" if code else ""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "The mail server refused the recipient's address"
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        text = "The mail server refused our sender address"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = "The mail server refused our login"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        text = "The mail server closed the connection"
    elif isinstance(exc, smtplib.SMTPDataError):
        text = "The mail server refused the message"
    elif isinstance(exc, smtplib.SMTPException):
        text = "The mail server reported an error"
    elif isinstance(exc, TimeoutError):
        text = "The mail server did not answer in time"
    else:
        text = "Could not reach the mail server"
    return f"{text}{suffix} [{type(exc).__name__}]"
