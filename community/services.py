"""Every write of the email community: signup with double opt-in, confirm, unsubscribe, broadcasts.

Each state change happens here in a transaction, emails are enqueued on commit
(community/tasks.py loads rows and calls back in here). Signup never tells a stranger who
is subscribed; broadcasts are sent row by row as in docs/architecture.md, "The database is
the queue" and "The email community".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from coaching.models import Coach
from common.emails import RETRYABLE, describe_error, is_permanent, retry_delay
from common.queue import attempt_finished, enqueue_on_commit
from community import emails, tasks
from community.models import Broadcast, BroadcastDelivery, Subscriber
from community.selectors import NOTICE_OWED, broadcast_progress_counts
from community.tokens import new_subscriber_key

logger = logging.getLogger(__name__)

# At most one confirmation / "already in" email per address and coach this often.
NOTICE_EVERY = timedelta(minutes=10)

BATCH_SIZE = 50
# A claimed row is the claimer's for this long: well over one SMTP send (EMAIL_TIMEOUT).
DELIVERY_LEASE = timedelta(minutes=5)
MAX_DELIVERY_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)

Status = Subscriber.Status
DeliveryStatus = BroadcastDelivery.Status
OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def normalize_email(email: str) -> str:
    """One spelling per address: trimmed and lower-cased (how mailboxes are matched in practice)."""
    return email.strip().lower()


# ---------------------------------------------------------------------------
# Subscribers
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SignupResult:
    subscriber: Subscriber
    # "new", "pending" (signed up before, not confirmed yet), "already" (confirmed),
    # "resubscribed" (had unsubscribed): for the tests and the log, never the page.
    outcome: str
    email_queued: bool


def _enqueue_notice(subscriber_id: int) -> None:
    enqueue_on_commit(tasks.send_subscriber_notice, subscriber_id)


def subscriber_subscribe(
    *,
    coach: Coach,
    email: str,
    first_name: str = "",
    source: str = Subscriber.Source.FORM,
    consent_text: str,
    now: datetime | None = None,
) -> SignupResult:
    """Sign ``email`` up to ``coach``'s community (double opt-in); safe to repeat."""
    frozen_now = now or timezone.now()
    address = normalize_email(email)
    first_name = first_name.strip()[:100]
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _subscribe(coach, address, first_name, source, consent_text, frozen_now)
        except IntegrityError:
            # Two signups of one new address raced; the second finds the first's row.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _subscribe(
    coach: Coach, address: str, first_name: str, source: str, consent_text: str, now: datetime
) -> SignupResult:
    subscriber = Subscriber.objects.select_for_update().filter(coach=coach, email=address).first()
    if subscriber is None:
        subscriber = Subscriber.objects.create(
            coach=coach,
            email=address,
            first_name=first_name,
            source=source,
            consent_text=consent_text,
            consented_at=now,
            key=new_subscriber_key(),
            notice_requested_at=now,
        )
        _enqueue_notice(subscriber.pk)
        logger.info("community: coach %s, subscriber %s signed up (pending)", coach.pk, subscriber.pk)
        return SignupResult(subscriber, "new", email_queued=True)

    outcome = {
        Status.PENDING: "pending",
        Status.CONFIRMED: "already",
        Status.UNSUBSCRIBED: "resubscribed",
    }[Status(subscriber.status)]
    fields: dict[str, Any] = {}
    if first_name and first_name != subscriber.first_name:
        fields["first_name"] = first_name
    if subscriber.status != Status.CONFIRMED:
        # The latest agreement is the one on record.
        fields.update(consent_text=consent_text, consented_at=now, source=source)
    if subscriber.status == Status.UNSUBSCRIBED:
        fields.update(status=Status.PENDING, confirmed_at=None)
    due = subscriber.notice_requested_at is None or subscriber.notice_requested_at <= now - NOTICE_EVERY
    if due:
        fields["notice_requested_at"] = now
    if fields:
        Subscriber.objects.filter(pk=subscriber.pk).update(**fields)
        for name, value in fields.items():
            setattr(subscriber, name, value)
    if due:
        _enqueue_notice(subscriber.pk)
    logger.info(
        "community: coach %s, subscriber %s signed up again (%s, email %s)",
        coach.pk,
        subscriber.pk,
        outcome,
        "queued" if due else "held back",
    )
    return SignupResult(subscriber, outcome, email_queued=due)


def subscriber_confirm(*, subscriber: Subscriber, now: datetime | None = None) -> str:
    """Confirm a pending subscriber: "confirmed" now, or "already" / "unsubscribed" (nothing changes)."""
    frozen_now = now or timezone.now()
    changed = Subscriber.objects.filter(pk=subscriber.pk, status=Status.PENDING).update(
        status=Status.CONFIRMED, confirmed_at=frozen_now
    )
    subscriber.refresh_from_db(fields=["status", "confirmed_at"])
    if changed:
        logger.info("community: subscriber %s confirmed", subscriber.pk)
        return "confirmed"
    return "already" if subscriber.status == Status.CONFIRMED else "unsubscribed"


def subscriber_unsubscribe(*, subscriber: Subscriber, now: datetime | None = None) -> bool:
    """Unsubscribe; True if this call did it, False if they had already left."""
    frozen_now = now or timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status__in=(Status.PENDING, Status.CONFIRMED)
    ).update(status=Status.UNSUBSCRIBED, unsubscribed_at=frozen_now)
    subscriber.refresh_from_db(fields=["status", "unsubscribed_at"])
    if changed:
        logger.info("community: subscriber %s unsubscribed", subscriber.pk)
    return bool(changed)


def claim_notice(subscriber_id: int, *, now: datetime) -> Subscriber | None:
    """Claim the owed confirmation / "already in" email of a subscriber; None if none is owed.

    The conditional update makes two workers (or a redelivered message) send it once.
    """
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id, notice_requested_at__isnull=False)
        .filter(NOTICE_OWED)
        .update(notice_sent_at=now)
    )
    if not claimed:
        return None
    return Subscriber.objects.select_related("coach__user").filter(pk=subscriber_id).first()


def release_notice(subscriber_id: int, *, previous: datetime | None) -> None:
    """A claimed notice was not sent after all: owe it again (the task retries)."""
    Subscriber.objects.filter(pk=subscriber_id).update(notice_sent_at=previous)


# ---------------------------------------------------------------------------
# Broadcasts
# ---------------------------------------------------------------------------
def broadcast_send_test(*, broadcast: Broadcast, now: datetime | None = None) -> None:
    """Email the draft to the coach, marked as a test."""
    frozen_now = now or timezone.now()
    Broadcast.objects.filter(pk=broadcast.pk).update(test_sent_at=frozen_now)
    broadcast.test_sent_at = frozen_now
    enqueue_on_commit(tasks.send_broadcast_test, broadcast.pk)


def broadcast_start(*, broadcast: Broadcast, now: datetime | None = None) -> bool:
    """Start sending a draft; False if it was already started (a second click does nothing)."""
    frozen_now = now or timezone.now()
    with transaction.atomic():
        started = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.DRAFT).update(
            status=Broadcast.Status.SENDING, started_at=frozen_now, progress_at=frozen_now
        )
        if started:
            enqueue_on_commit(tasks.plan_broadcast, broadcast.pk)
    broadcast.refresh_from_db()
    if started:
        logger.info("broadcast %s (coach %s): sending started", broadcast.pk, broadcast.coach_id)
    return bool(started)


def broadcast_plan(*, broadcast_id: int, now: datetime | None = None) -> int:
    """One delivery row per confirmed subscriber, once; the number of recipients."""
    frozen_now = now or timezone.now()
    with transaction.atomic():
        broadcast = (
            Broadcast.objects.select_for_update()
            .filter(pk=broadcast_id, status=Broadcast.Status.SENDING)
            .first()
        )
        if broadcast is None:
            return 0
        if broadcast.planned_at is not None:
            return broadcast.recipient_count
        subscriber_ids = Subscriber.objects.filter(
            coach_id=broadcast.coach_id, status=Status.CONFIRMED
        ).values_list("pk", flat=True)
        BroadcastDelivery.objects.bulk_create(
            (
                BroadcastDelivery(broadcast_id=broadcast_id, subscriber_id=pk)
                for pk in subscriber_ids.iterator()
            ),
            batch_size=1000,
            ignore_conflicts=True,
        )
        count = BroadcastDelivery.objects.filter(broadcast_id=broadcast_id).count()
        Broadcast.objects.filter(pk=broadcast_id).update(
            planned_at=frozen_now, recipient_count=count, progress_at=frozen_now
        )
    logger.info("broadcast %s: %d recipients", broadcast_id, count)
    return count


@dataclass(frozen=True)
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_later: int = 0
    # Rows that can be claimed right now: the task chains another batch.
    more: bool = False
    finished: bool = False


def _retry_after(attempts: int) -> timedelta:
    """How long a delivery waits after its ``attempts``-th failure (the common backoff)."""
    seconds = retry_delay(attempts - 1, base=RETRY_BASE.total_seconds(), maximum=RETRY_MAX.total_seconds())
    return timedelta(seconds=seconds)


def _claimable(now: datetime) -> Q:
    return Q(status__in=OPEN_DELIVERY_STATUSES) & (Q(locked_until__isnull=True) | Q(locked_until__lte=now))


def broadcast_send_batch(
    *,
    broadcast_id: int,
    batch_size: int | None = None,
    now: Callable[[], datetime] = timezone.now,
) -> BatchOutcome:
    """Send up to ``batch_size`` deliveries of a broadcast, each claimed first (see the module)."""
    broadcast = (
        Broadcast.objects.select_related("coach__user")
        .filter(pk=broadcast_id, status=Broadcast.Status.SENDING, planned_at__isnull=False)
        .first()
    )
    if broadcast is None:
        return BatchOutcome()
    rows = list(
        BroadcastDelivery.objects.select_related("subscriber")
        .filter(broadcast_id=broadcast_id)
        .filter(_claimable(now()))
        .order_by("pk")[: batch_size or BATCH_SIZE]
    )
    sent = failed = skipped = retry_later = 0
    connection = get_connection()
    try:
        for delivery in rows:
            claimed_at = now()
            claimed = (
                BroadcastDelivery.objects.filter(pk=delivery.pk)
                .filter(_claimable(claimed_at))
                .update(
                    status=DeliveryStatus.SENDING,
                    claimed_at=claimed_at,
                    locked_until=claimed_at + DELIVERY_LEASE,
                    attempts=F("attempts") + 1,
                )
            )
            if not claimed:
                continue  # another worker has it
            subscriber = delivery.subscriber
            subscriber.refresh_from_db(fields=["status", "email", "first_name", "key"])
            if subscriber.status != Status.CONFIRMED:
                _finish_delivery(delivery.pk, status=DeliveryStatus.SKIPPED)
                skipped += 1
                continue
            attempts = delivery.attempts + 1
            try:
                message = emails.broadcast_message(broadcast, delivery, subscriber)
                connection.send_messages([message])
            except RETRYABLE as exc:
                error = describe_error(exc)
                if is_permanent(exc) or attempts >= MAX_DELIVERY_ATTEMPTS:
                    _finish_delivery(delivery.pk, status=DeliveryStatus.FAILED, error=error)
                    failed += 1
                    logger.error(
                        "broadcast %s: delivery %s failed for good: %s", broadcast_id, delivery.pk, error
                    )
                else:
                    _finish_delivery(
                        delivery.pk,
                        status=DeliveryStatus.PENDING,
                        error=error,
                        locked_until=now() + _retry_after(attempts),
                    )
                    retry_later += 1
                    logger.warning(
                        "broadcast %s: delivery %s will be retried: %s", broadcast_id, delivery.pk, error
                    )
                # A broken connection is not reused for the next message.
                connection.close()
                continue
            except Exception as exc:
                # A bug, not the mail server: the row must not stay "sending" for ever.
                _finish_delivery(
                    delivery.pk,
                    status=DeliveryStatus.FAILED,
                    error=f"Unexpected error [{type(exc).__name__}]",
                )
                raise
            _finish_delivery(delivery.pk, status=DeliveryStatus.SENT, sent_at=now())
            sent += 1
    finally:
        connection.close()

    finished_at = now()
    Broadcast.objects.filter(pk=broadcast_id).update(progress_at=finished_at)
    finished = broadcast_finish_if_done(broadcast_id=broadcast_id, now=finished_at)
    more = (
        not finished
        and BroadcastDelivery.objects.filter(broadcast_id=broadcast_id)
        .filter(_claimable(finished_at))
        .exists()
    )
    logger.info(
        "broadcast %s: batch sent %d, failed %d, skipped %d, retrying %d",
        broadcast_id,
        sent,
        failed,
        skipped,
        retry_later,
    )
    return BatchOutcome(sent, failed, skipped, retry_later, more=more, finished=finished)


def _finish_delivery(delivery_id: int, *, status: str, **fields: Any) -> None:
    """End an attempt (``error``, ``sent_at``); the lease ends too unless ``locked_until`` says when."""
    fields.setdefault("locked_until", None)
    BroadcastDelivery.objects.filter(pk=delivery_id).update(**attempt_finished(status, **fields))


def broadcast_finish_if_done(*, broadcast_id: int, now: datetime | None = None) -> bool:
    """Mark a planned broadcast sent once no delivery is waiting or in flight; True if it is done."""
    frozen_now = now or timezone.now()
    if BroadcastDelivery.objects.filter(
        broadcast_id=broadcast_id, status__in=OPEN_DELIVERY_STATUSES
    ).exists():
        return False
    progress = broadcast_progress_counts(broadcast_id)
    done = Broadcast.objects.filter(
        pk=broadcast_id, status=Broadcast.Status.SENDING, planned_at__isnull=False
    ).update(
        status=Broadcast.Status.SENT,
        finished_at=frozen_now,
        sent_count=progress["sent"],
        failed_count=progress["failed"],
    )
    if done:
        logger.info(
            "broadcast %s: finished, %d sent, %d failed", broadcast_id, progress["sent"], progress["failed"]
        )
    return Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENT).exists()


def broadcast_save_draft(*, coach: Coach, broadcast: Broadcast) -> Broadcast:
    """Save a new or edited draft (cleaned by a form) as ``coach``'s."""
    broadcast.coach = coach
    broadcast.save()
    return broadcast


def broadcast_delete_draft(*, broadcast: Broadcast) -> bool:
    """Delete a draft; False if it was sent meanwhile (a sent email stays on record)."""
    deleted, _ = Broadcast.objects.filter(
        pk=broadcast.pk, coach_id=broadcast.coach_id, status=Broadcast.Status.DRAFT
    ).delete()
    return bool(deleted)


# ---------------------------------------------------------------------------
# A person's own data (registered with accounts in community/apps.py)
# ---------------------------------------------------------------------------
def memberships_export(user: User, emails: list[str]) -> list[dict[str, Any]]:
    """The person's memberships of every coach's community, for "download my data"."""
    return [
        {
            "coach": sub.coach.display_name,
            "status": sub.status,
            "first_name": sub.first_name,
            "consent": sub.consent_text,
            "consented_at": sub.consented_at.isoformat(),
            "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
            "unsubscribed_at": sub.unsubscribed_at.isoformat() if sub.unsubscribed_at else None,
        }
        for sub in Subscriber.objects.filter(email__in=emails)
        .select_related("coach")
        .order_by("coach__display_name")
    ]


def memberships_delete(user: User, emails: list[str], now: datetime) -> int:
    """The person asked us to forget them: their memberships go entirely, consent records included."""
    deleted, _ = Subscriber.objects.filter(email__in=emails).delete()
    return deleted
