"""Celery tasks of the email community: each loads rows by id and calls community/services.py.

Notices a signup owes, the test broadcast, planning and sending broadcasts in batches, and
the beat sweep that resumes lost work. Services are imported inside each task (services
enqueue these on commit), so the import goes one way only. Logs carry ids only.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from common.emails import RETRYABLE, describe_error, retry_delay
from common.queue import RETRY_ON_DATABASE_ERROR
from community import emails, selectors
from community.models import Broadcast, Subscriber

logger = logging.getLogger(__name__)

MAX_NOTICE_RETRIES = 6


class NoticeNotSentYet(Exception):
    """An attempt failed and will be retried; the message names no person."""


@shared_task(bind=True, ignore_result=True, max_retries=MAX_NOTICE_RETRIES)
def send_subscriber_notice(self, subscriber_id: int) -> None:
    """Send the email a signup owes (once per request)."""
    from community import services

    now = timezone.now()
    previous = Subscriber.objects.filter(pk=subscriber_id).values_list("notice_sent_at", flat=True).first()
    subscriber = services.claim_notice(subscriber_id, now=now)
    if subscriber is None:
        return  # sent already, or nothing owed
    message = emails.notice_message(subscriber)
    if message is None:
        logger.info("community: subscriber %s left before the email went out", subscriber_id)
        return
    try:
        message.send()
    except RETRYABLE as exc:
        services.release_notice(subscriber_id, previous=previous)
        error = describe_error(exc)
        if self.request.retries >= self.max_retries:
            logger.error("community: email to subscriber %s failed for good: %s", subscriber_id, error)
            return
        logger.warning("community: email to subscriber %s failed (%s), retrying", subscriber_id, error)
        raise self.retry(exc=NoticeNotSentYet(error), countdown=retry_delay(self.request.retries)) from None
    except Exception:
        services.release_notice(subscriber_id, previous=previous)
        raise
    logger.info("community: email to subscriber %s sent (%s)", subscriber_id, subscriber.status)


@shared_task(ignore_result=True, autoretry_for=RETRYABLE, retry_backoff=30, max_retries=3)
def send_broadcast_test(broadcast_id: int) -> None:
    """The draft to its coach, marked as a test."""
    broadcast = Broadcast.objects.select_related("coach__user").filter(pk=broadcast_id).first()
    if broadcast is None:
        return
    emails.broadcast_test_message(broadcast).send()
    logger.info("broadcast %s: test sent to its coach", broadcast_id)


@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def plan_broadcast(broadcast_id: int) -> None:
    """Create the broadcast's delivery rows, then start sending."""
    from community import services

    services.broadcast_plan(broadcast_id=broadcast_id)
    send_broadcast_batch.delay(broadcast_id)


@shared_task(ignore_result=True)
def send_broadcast_batch(broadcast_id: int) -> None:
    """Send one batch; chain the next while rows are ready (rows waiting to retry wait for the sweep)."""
    from community import services

    outcome = services.broadcast_send_batch(broadcast_id=broadcast_id)
    if outcome.more:
        send_broadcast_batch.delay(broadcast_id)


@shared_task(ignore_result=True)
def sweep_community() -> int:
    """Beat, every minute: re-enqueue community work whose message was lost; how many tasks."""
    now = timezone.now()
    notices = selectors.notices_to_resend(now=now)
    work = selectors.broadcasts_to_resume(now=now)
    for subscriber_id in notices:
        send_subscriber_notice.delay(subscriber_id)
    for broadcast_id in work.to_plan:
        plan_broadcast.delay(broadcast_id)
    for broadcast_id in work.to_send:
        send_broadcast_batch.delay(broadcast_id)
    total = len(notices) + len(work.to_plan) + len(work.to_send)
    if total:
        logger.warning(
            "community sweep: %d notices, %d broadcasts to plan, %d to resume",
            len(notices),
            len(work.to_plan),
            len(work.to_send),
        )
    return total
