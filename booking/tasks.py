"""Celery tasks for bookings: they load rows by id and send; services decide."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from booking import emails
from booking.models import BookingEvent

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError, OSError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def notify_booking_event(self, event_id: int) -> None:
    """Email the client and the coach about one change of a booking."""
    event = (
        BookingEvent.objects.select_related("booking__coach__user", "booking__offering")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        logger.warning("notify_booking_event: event %s not found", event_id)
        return
    for message in emails.messages_for_event(event):
        message.send()
    logger.info("booking %s: sent %s emails", event.booking.reference, event.kind)
