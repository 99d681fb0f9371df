"""The email community: signup with double opt-in, confirm, unsubscribe, and broadcasts.

Every state change of a Subscriber or a Broadcast happens here, inside a transaction,
and emails are enqueued on commit (coaching/community_tasks.py only loads rows and
sends). Views and tasks stay thin.

Links
-----
- The confirmation link is ``django.core.signing`` output (salted, timestamped): it
  expires after ``CONFIRM_MAX_AGE``. A tampered link is "not found"; an expired one
  says so and points back at the signup form.
- The unsubscribe link never expires (it is in every email ever sent): it is
  ``<id>.<mac>``, an HMAC of the subscriber's id and random key, like booking manage
  links. Both honour ``SECRET_KEY_FALLBACKS`` so a key rotation breaks no link.

Signup states
-------------
new address -> pending + confirmation email; pending -> the confirmation again;
confirmed -> unchanged + a "you're already in" email; unsubscribed -> pending again
+ a confirmation (double opt-in afresh). At most one such email per address and
coach every ``NOTICE_EVERY``, so the form cannot be used to flood someone's inbox.
The page answers the same in every case ("check your inbox"), so it never tells a
stranger who is subscribed; the email tells the owner of the address.

Broadcast sending
-----------------
1. ``broadcast_start`` moves a draft to ``sending`` (a conditional update: a double
   click starts it once) and enqueues ``plan_broadcast`` on commit.
2. ``broadcast_plan`` creates one BroadcastDelivery per confirmed subscriber, in one
   transaction (idempotent: unique per broadcast and subscriber).
3. ``broadcast_send_batch`` takes up to ``BATCH_SIZE`` rows and, one row at a time,
   claims it (conditional update on status and ``locked_until``: a lease), sends it
   with a stable Message-ID and marks it sent. A worker killed mid-batch leaves at
   most the row it was sending leased; once the lease lapses that row goes out again
   with the same Message-ID (receiving systems drop the duplicate), and every row
   marked sent is never sent again.
4. A beat sweep (``broadcasts_to_resume``) re-enqueues broadcasts that stopped making
   progress: a lost broker message or a dead worker only delays them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from coaching.models import Broadcast, BroadcastDelivery, Coach, Subscriber

logger = logging.getLogger(__name__)

CONFIRM_SALT = "coaching.community.confirm"
UNSUBSCRIBE_SALT = "coaching.community.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)
# At most one confirmation / "already in" email per address and coach this often.
NOTICE_EVERY = timedelta(minutes=10)
# Sweep: work whose message should have run by now, and how far back to look.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_WINDOW = timedelta(days=2)

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


def new_subscriber_key() -> str:
    return secrets.token_hex(16)


# ---------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------
def _key_digest(key: str) -> str:
    # The token carries a digest of the key, not the key: it only has to match it.
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "k": _key_digest(subscriber.key)}, salt=CONFIRM_SALT)


class ConfirmLinkExpired(Exception):
    """A genuine confirmation link, too old to use: the person should sign up again."""

    def __init__(self, coach: Coach | None) -> None:
        super().__init__("confirmation link expired")
        self.coach = coach


def subscriber_for_confirm_token(token: str) -> Subscriber | None:
    """The subscriber a confirmation link names; None if unknown or tampered.

    Raises ConfirmLinkExpired for a genuine link older than CONFIRM_MAX_AGE.
    """
    if not token or len(token) > 300:
        return None
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        payload = signing.loads(token, salt=CONFIRM_SALT)  # genuine, only old: whose was it?
        found = _subscriber_for_payload(payload)
        raise ConfirmLinkExpired(found.coach if found else None) from None
    except signing.BadSignature:
        return None
    return _subscriber_for_payload(payload)


def _subscriber_for_payload(payload: Any) -> Subscriber | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    found = Subscriber.objects.select_related("coach").filter(pk=payload["s"]).first()
    if found is None or not constant_time_compare(str(payload.get("k", "")), _key_digest(found.key)):
        return None
    return found


def _unsubscribe_mac(pk: int, key: str, secret: str) -> str:
    digest = salted_hmac(UNSUBSCRIBE_SALT, f"{pk}:{key}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def unsubscribe_token(subscriber: Subscriber) -> str:
    return f"{subscriber.pk}.{_unsubscribe_mac(subscriber.pk, subscriber.key, settings.SECRET_KEY)}"


def subscriber_for_unsubscribe_token(token: str) -> Subscriber | None:
    """The subscriber an unsubscribe link names, or None for anything unknown or tampered."""
    pk_text, sep, mac = (token or "").partition(".")
    if not sep or not pk_text.isdigit() or len(pk_text) > 18 or not mac or len(mac) > 64:
        return None
    found = Subscriber.objects.select_related("coach").filter(pk=int(pk_text)).first()
    if found is None:
        return None
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if constant_time_compare(mac, _unsubscribe_mac(found.pk, found.key, secret)):
            return found
    return None


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
    from coaching import community_tasks

    transaction.on_commit(lambda: community_tasks.send_subscriber_notice.delay(subscriber_id), robust=True)


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


def subscriber_counts(coach: Coach) -> dict[str, int]:
    """How many subscribers ``coach`` has in each status (one query)."""
    rows = Subscriber.objects.filter(coach=coach).order_by().values("status").annotate(n=Count("pk"))
    counts = {status.value: 0 for status in Status}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def claim_notice(subscriber_id: int, *, now: datetime) -> Subscriber | None:
    """Claim the owed confirmation / "already in" email of a subscriber; None if none is owed.

    The conditional update makes two workers (or a redelivered message) send it once.
    """
    owed = Q(notice_sent_at__isnull=True) | Q(notice_sent_at__lt=F("notice_requested_at"))
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id, notice_requested_at__isnull=False)
        .filter(owed)
        .update(notice_sent_at=now)
    )
    if not claimed:
        return None
    return Subscriber.objects.select_related("coach__user").filter(pk=subscriber_id).first()


def release_notice(subscriber_id: int, *, previous: datetime | None) -> None:
    """A claimed notice was not sent after all: owe it again (the task retries)."""
    Subscriber.objects.filter(pk=subscriber_id).update(notice_sent_at=previous)


def notices_to_resend(*, now: datetime, limit: int = 500) -> list[int]:
    """Subscribers owed an email for a while: its message was lost (the beat sweep resends)."""
    owed = Q(notice_sent_at__isnull=True) | Q(notice_sent_at__lt=F("notice_requested_at"))
    return list(
        Subscriber.objects.filter(
            notice_requested_at__lt=now - SWEEP_GRACE, notice_requested_at__gte=now - SWEEP_WINDOW
        )
        .filter(owed)
        .order_by()
        .values_list("pk", flat=True)[:limit]
    )


# ---------------------------------------------------------------------------
# Broadcasts
# ---------------------------------------------------------------------------
def broadcast_send_test(*, broadcast: Broadcast, now: datetime | None = None) -> None:
    """Email the draft to the coach, marked as a test."""
    from coaching import community_tasks

    frozen_now = now or timezone.now()
    Broadcast.objects.filter(pk=broadcast.pk).update(test_sent_at=frozen_now)
    broadcast.test_sent_at = frozen_now
    transaction.on_commit(lambda: community_tasks.send_broadcast_test.delay(broadcast.pk), robust=True)


def broadcast_start(*, broadcast: Broadcast, now: datetime | None = None) -> bool:
    """Start sending a draft; False if it was already started (a second click does nothing)."""
    from coaching import community_tasks

    frozen_now = now or timezone.now()
    with transaction.atomic():
        started = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.DRAFT).update(
            status=Broadcast.Status.SENDING, started_at=frozen_now, progress_at=frozen_now
        )
        if started:
            transaction.on_commit(lambda: community_tasks.plan_broadcast.delay(broadcast.pk), robust=True)
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


def _claimable(now: datetime) -> Q:
    return Q(status__in=OPEN_DELIVERY_STATUSES) & (Q(locked_until__isnull=True) | Q(locked_until__lte=now))


def _retry_delay(attempts: int) -> timedelta:
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def _is_permanent(exc: BaseException) -> bool:
    """A 5xx refusal of the address or message: the same answer every time."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and 500 <= max(codes) < 600
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def broadcast_send_batch(
    *,
    broadcast_id: int,
    batch_size: int | None = None,
    now: Callable[[], datetime] = timezone.now,
) -> BatchOutcome:
    """Send up to ``batch_size`` deliveries of a broadcast, each claimed first (see the module)."""
    from booking.tasks import RETRYABLE, describe_error
    from coaching import community_emails

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
                message = community_emails.broadcast_message(broadcast, delivery, subscriber)
                connection.send_messages([message])
            except RETRYABLE as exc:
                error = describe_error(exc)
                if _is_permanent(exc) or attempts >= MAX_DELIVERY_ATTEMPTS:
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
                        locked_until=now() + _retry_delay(attempts),
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


def _finish_delivery(
    delivery_id: int,
    *,
    status: str,
    error: str | None = None,
    sent_at: datetime | None = None,
    locked_until: datetime | None = None,
) -> None:
    fields: dict[str, Any] = {"status": status, "locked_until": locked_until}
    if error is not None:
        fields["last_error"] = error[:300]
    if sent_at is not None:
        fields["sent_at"] = sent_at
    BroadcastDelivery.objects.filter(pk=delivery_id).update(**fields)


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


def broadcast_progress_counts(broadcast_id: int) -> dict[str, int]:
    """Deliveries of a broadcast per status, plus ``total`` (one query)."""
    rows = (
        BroadcastDelivery.objects.filter(broadcast_id=broadcast_id)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = {status.value: 0 for status in DeliveryStatus}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


@dataclass(frozen=True)
class ResumeWork:
    to_plan: list[int]
    to_send: list[int]


def broadcasts_to_resume(*, now: datetime | None = None) -> ResumeWork:
    """Broadcasts in ``sending`` that made no progress for a while (their message was lost)."""
    frozen_now = now or timezone.now()
    stalled = Broadcast.objects.filter(status=Broadcast.Status.SENDING).filter(
        Q(progress_at__isnull=True) | Q(progress_at__lt=frozen_now - SWEEP_GRACE)
    )
    return ResumeWork(
        to_plan=list(stalled.filter(planned_at__isnull=True).order_by().values_list("pk", flat=True)[:100]),
        to_send=list(stalled.filter(planned_at__isnull=False).order_by().values_list("pk", flat=True)[:100]),
    )
