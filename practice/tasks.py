"""Celery tasks of the practice: the client's pass emails and the passes' expiry.

- ``send_pass_granted``: the email a grant owes its client, enqueued on commit by
  ``services.pass_grant``; ``sweep_pass_emails`` (beat) enqueues the grants whose message was lost.
- ``remind_expiring_passes`` (beat, hourly): one "ends soon" email per pass.
- ``expire_passes`` (beat): the expiry entries of passes whose validity ended.

Each email is claimed by a conditional update before it is sent (the database is the queue),
released on a failure worth retrying and retried with backoff. Services are imported inside
each task (services enqueue these on commit), so the import goes one way only. Logs carry ids
only: never an address, a name or a pass link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from common.emails import RETRYABLE, describe_error, is_permanent, retry_delay
from common.queue import RETRY_ON_DATABASE_ERROR
from practice import emails
from practice.models import Pass, PassEntry

logger = logging.getLogger(__name__)

MAX_EMAIL_RETRIES = 6
# A grant's email normally leaves within seconds; one still owed after this long lost its
# message (the broker was down at commit time) and is enqueued again, within the window.
SWEEP_GRACE = timedelta(minutes=5)
SWEEP_WINDOW = timedelta(days=2)
SWEEP_LIMIT = 500


class PassEmailNotSentYet(Exception):
    """An attempt failed and will be retried; the message names no person."""


@shared_task(bind=True, ignore_result=True, max_retries=MAX_EMAIL_RETRIES)
def send_pass_granted(self, entry_id: int, retry: bool = True) -> None:
    """Send the email of one grant to its client, once.

    ``retry=False`` (the sweep's copies) makes one attempt: the sweep itself comes back later,
    so a mail outage never piles up retry chains.
    """
    from practice import services

    now = timezone.now()
    entry = services.pass_notice_claim(entry_id=entry_id, now=now)
    if entry is None:
        return  # sent already, being sent, or no such grant
    pass_obj = entry.pass_obj
    if emails.is_forgotten(pass_obj):
        logger.info("pass %s: grant %s not emailed, the client deleted their account", pass_obj.pk, entry_id)
        return
    _send(
        self,
        lambda: emails.granted_message(pass_obj, now=now),
        release=lambda: services.pass_notice_release(entry_id=entry_id),
        what=f"pass {pass_obj.pk}: grant email {entry_id}",
        retry=retry,
    )


@shared_task(bind=True, ignore_result=True, max_retries=MAX_EMAIL_RETRIES)
def send_pass_expiry_reminder(self, pass_id: int) -> None:
    """Send a pass's one "ends soon" email, if it is still owed."""
    from practice import services

    now = timezone.now()
    pass_obj = services.pass_expiry_reminder_claim(
        pass_id=pass_id, days=settings.PASS_EXPIRY_REMINDER_DAYS, now=now
    )
    if pass_obj is None:
        return  # sent already, or not owed (used up, ended, given back meanwhile)
    if emails.is_forgotten(pass_obj):
        logger.info("pass %s: no reminder, the client deleted their account", pass_id)
        return
    _send(
        self,
        lambda: emails.expiring_message(pass_obj, now=now),
        release=lambda: services.pass_expiry_reminder_release(pass_id=pass_id),
        what=f"pass {pass_id}: expiry reminder",
        retry=True,
    )


def _send(
    task: Task,
    build: Callable[[], EmailMultiAlternatives],
    *,
    release: Callable[[], None],
    what: str,
    retry: bool,
) -> None:
    """Build and send one claimed email; on a failure worth another try, release the claim and retry.

    A permanent refusal, or the last retry, keeps the claim: trying again gets the same answer,
    and a released claim would bring the sweep back to it every few minutes.
    """
    try:
        build().send()
    except RETRYABLE as exc:
        error = describe_error(exc)
        retries = task.request.retries
        if is_permanent(exc) or retries >= task.max_retries:
            logger.error("%s failed for good after %d attempts: %s", what, retries + 1, error)
            return
        release()
        if not retry:
            # The sweep's one attempt: the sweep's next tick is the retry.
            logger.warning("%s failed (%s), the sweep tries again", what, error)
            return
        countdown = retry_delay(retries)
        logger.warning("%s: attempt %d failed (%s), retrying in %.1f s", what, retries + 1, error, countdown)
        # Celery logs the retry's exception: hand it our description, not the server's reply,
        # which may quote the address.
        raise task.retry(exc=PassEmailNotSentYet(error), countdown=countdown) from None
    except Exception:
        # A bug, not the mail server: no retry (the claim stays, so no sweep loops on it either).
        logger.exception("%s failed with an unexpected error", what)
        raise
    logger.info("%s sent", what)


@shared_task(ignore_result=True)
def sweep_pass_emails() -> int:
    """Beat, every few minutes: re-enqueue the grant emails whose message was lost; how many."""
    now = timezone.now()
    entry_ids = list(
        PassEntry.objects.filter(
            kind=PassEntry.Kind.GRANT,
            notified_at__isnull=True,
            at__lt=now - SWEEP_GRACE,
            at__gte=now - SWEEP_WINDOW,
        )
        .order_by()
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for entry_id in entry_ids:
        send_pass_granted.delay(entry_id, False)
    if entry_ids:
        logger.warning("pass email sweep: re-enqueued %d grant emails", len(entry_ids))
    return len(entry_ids)


@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def remind_expiring_passes() -> int:
    """Beat, hourly: enqueue the "ends soon" email of each pass that owes one; how many.

    Each send claims its pass first, so two beats (or a beat and a redelivery) send one email.
    """
    from practice import services

    now = timezone.now()
    days = settings.PASS_EXPIRY_REMINDER_DAYS
    pass_ids = list(
        Pass.objects.filter(expiry_reminder_sent_at__isnull=True)
        .filter(services.reminder_owed(days=days, now=now))
        .order_by("expires_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for pass_id in pass_ids:
        send_pass_expiry_reminder.delay(pass_id)
    if pass_ids:
        logger.info("pass reminders: %d passes end within %d days", len(pass_ids), days)
    return len(pass_ids)


@shared_task(ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def expire_passes() -> int:
    """Beat, every 15 minutes: the ``expire`` entry of each pass whose validity ended (once each)."""
    from practice import services

    expired = services.passes_expire_due(now=timezone.now())
    if expired:
        logger.info("passes: %d expired", expired)
    return expired
