"""Every state change of a booking, in one place.

Each function runs in ``transaction.atomic``, takes a lock on the coach's row so that
bookings of one coach are decided one at a time (the re-check and the daily cap stay
true under concurrency; on SQLite the IMMEDIATE transaction does the same), re-checks
availability with the slot engine, records a history event, and enqueues its side
effects with ``transaction.on_commit`` so nothing is sent for a write that did not
commit. On PostgreSQL the exclusion constraint is the last line of defence: if two
writers ever got past the re-check, the database refuses the second and the caller
gets ``SlotUnavailable``, never a 500.

Reminders (invariant 5) are rows written in the same transactions: planned when a
booking is confirmed (created confirmed, or approved), matched to the new time on
reschedule, cancelled on cancel and decline; booking/reminders.py decides which and
when, booking/tasks.py sends them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from booking import reminders
from booking.models import Booking, BookingEvent, IdempotencyKey, Reminder
from booking.tokens import new_manage_key, new_reference
from coaching.models import Coach, Offering
from coaching.selectors import offering_slot_is_free

Actor = BookingEvent.Actor
Status = Booking.Status


class BookingError(Exception):
    """A booking request that cannot be carried out; ``message`` is safe to show."""

    message = "This booking could not be changed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class SlotUnavailable(BookingError):
    message = "This time was just taken or is no longer available. Please pick another time."


class IdempotencyConflict(BookingError):
    message = "This Idempotency-Key was already used for a different request."


class PolicyViolation(BookingError):
    pass


class InvalidTransition(BookingError):
    pass


@dataclass(frozen=True)
class BookingCreated:
    booking: Booking
    created: bool


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a create request, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def booking_create(
    *,
    offering: Offering,
    start: datetime,
    client_name: str,
    client_email: str,
    client_time_zone: str,
    answers: dict[str, Any] | None = None,
    note: str = "",
    client: User | None = None,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    now: datetime | None = None,
) -> BookingCreated:
    """Book ``start`` for a client: pending when the offering needs approval, else confirmed.

    With an ``idempotency_key``, a repeat of the same request returns the first booking
    (``created=False``); the same key with another ``fingerprint`` raises
    ``IdempotencyConflict``.
    """
    now = now or timezone.now()
    if timezone.is_naive(start):
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    if not offering.is_active:
        raise SlotUnavailable("This call is not open for booking at the moment.")
    if idempotency_key:
        replay = _replay(idempotency_key, fingerprint)
        if replay is not None:
            return replay
    try:
        with transaction.atomic():
            _lock_coach(offering.coach_id)
            if idempotency_key:
                # A concurrent request with the same key may have committed while we waited.
                replay = _replay(idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            if not offering_slot_is_free(offering=offering, start=start, now=now):
                raise SlotUnavailable()
            end = start + offering.duration
            booking = Booking.objects.create(
                reference=new_reference(),
                coach_id=offering.coach_id,
                offering=offering,
                client=client,
                client_name=client_name,
                client_email=client_email,
                client_time_zone=client_time_zone,
                answers=answers or {},
                note=note,
                start=start,
                end=end,
                blocked_start=start - timedelta(minutes=offering.buffer_before_minutes),
                blocked_end=end + timedelta(minutes=offering.buffer_after_minutes),
                status=Status.PENDING if offering.requires_approval else Status.CONFIRMED,
                manage_key=new_manage_key(),
            )
            if idempotency_key:
                IdempotencyKey.objects.create(
                    key=idempotency_key, fingerprint=fingerprint or "", booking=booking
                )
            if booking.status == Status.CONFIRMED:
                _plan_reminders(booking, now=now, new=True)
            _record(booking, BookingEvent.Kind.CREATED, Actor.CLIENT, now, {"start": start.isoformat()})
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotUnavailable() from exc
        if idempotency_key:
            replay = _replay(idempotency_key, fingerprint)
            if replay is not None:
                return replay
        raise
    return BookingCreated(booking=booking, created=True)


def booking_approve(*, booking: Booking, now: datetime | None = None) -> Booking:
    """The coach accepts a pending booking: it becomes confirmed."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status != Status.PENDING:
            raise InvalidTransition("Only a booking waiting for approval can be approved.")
        if booking.start <= now:
            raise InvalidTransition("This call has already started; it can no longer be approved.")
        booking.status = Status.CONFIRMED
        booking.sequence += 1
        booking.save(update_fields=["status", "sequence", "updated_at"])
        _plan_reminders(booking, now=now)
        _record(booking, BookingEvent.Kind.APPROVED, Actor.COACH, now)
    return booking


def booking_decline(*, booking: Booking, reason: str = "", now: datetime | None = None) -> Booking:
    """The coach turns down a pending booking; its time is free again."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status != Status.PENDING:
            raise InvalidTransition("Only a booking waiting for approval can be declined.")
        booking.status = Status.DECLINED
        booking.cancel_reason = reason
        booking.cancelled_by = Actor.COACH
        booking.sequence += 1
        booking.save(update_fields=["status", "cancel_reason", "cancelled_by", "sequence", "updated_at"])
        _cancel_reminders(booking, now=now)
        _record(booking, BookingEvent.Kind.DECLINED, Actor.COACH, now, {"reason": reason})
    return booking


def booking_cancel(*, booking: Booking, by: str, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel an active booking. A client must respect the offering's cancellation notice."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status not in Booking.ACTIVE_STATUSES:
            raise InvalidTransition("This booking is not active, so it cannot be cancelled.")
        if by == Actor.CLIENT:
            problem = client_cancel_problem(booking, now=now)
            if problem:
                raise PolicyViolation(problem)
        booking.status = Status.CANCELLED
        booking.cancel_reason = reason
        booking.cancelled_by = by
        booking.sequence += 1
        booking.save(update_fields=["status", "cancel_reason", "cancelled_by", "sequence", "updated_at"])
        _cancel_reminders(booking, now=now)
        _record(booking, BookingEvent.Kind.CANCELLED, by, now, {"reason": reason})
    return booking


def booking_reschedule(
    *, booking: Booking, new_start: datetime, by: str, now: datetime | None = None
) -> Booking:
    """Move an active booking to another free slot; same booking, same invite UID, history kept.

    A client must respect the offering's reschedule notice and maximum number of moves.
    """
    now = now or timezone.now()
    if timezone.is_naive(new_start):
        raise ValueError("new_start must be an aware datetime")
    new_start = new_start.astimezone(UTC)
    try:
        with transaction.atomic():
            _lock_coach(booking.coach_id)
            booking = _lock_booking(booking)
            if booking.status not in Booking.ACTIVE_STATUSES:
                raise InvalidTransition("This booking is not active, so it cannot be moved.")
            if by == Actor.CLIENT:
                problem = client_reschedule_problem(booking, now=now)
                if problem:
                    raise PolicyViolation(problem)
            if new_start == booking.start:
                raise InvalidTransition("The booking is already at this time.")
            offering = booking.offering
            if not offering_slot_is_free(
                offering=offering, start=new_start, now=now, exclude_booking_id=booking.pk
            ):
                raise SlotUnavailable()
            old_start = booking.start
            booking.start = new_start
            booking.end = new_start + offering.duration
            booking.blocked_start = new_start - timedelta(minutes=offering.buffer_before_minutes)
            booking.blocked_end = booking.end + timedelta(minutes=offering.buffer_after_minutes)
            booking.sequence += 1
            if by == Actor.CLIENT:
                booking.reschedule_count += 1
            booking.save(
                update_fields=[
                    "start",
                    "end",
                    "blocked_start",
                    "blocked_end",
                    "sequence",
                    "reschedule_count",
                    "updated_at",
                ]
            )
            if booking.status == Status.CONFIRMED:
                # A pending booking has no reminders yet: approval plans them.
                _plan_reminders(booking, now=now)
            _record(
                booking,
                BookingEvent.Kind.RESCHEDULED,
                by,
                now,
                {"from": old_start.isoformat(), "to": new_start.isoformat()},
            )
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotUnavailable() from exc
        raise
    return booking


def booking_mark_outcome(*, booking: Booking, outcome: str, now: datetime | None = None) -> Booking:
    """After a confirmed call has started, the coach marks it completed or a no-show."""
    now = now or timezone.now()
    if outcome not in (Status.COMPLETED, Status.NO_SHOW):
        raise InvalidTransition("Choose completed or no-show.")
    with transaction.atomic():
        booking = _lock_booking(booking)
        if booking.status not in (Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW):
            raise InvalidTransition("Only a confirmed call can be marked completed or no-show.")
        if booking.start > now:
            raise InvalidTransition("A call can only be marked once it has started.")
        booking.status = outcome
        booking.save(update_fields=["status", "updated_at"])
        kind = BookingEvent.Kind.COMPLETED if outcome == Status.COMPLETED else BookingEvent.Kind.NO_SHOW
        _record(booking, kind, Actor.COACH, now)
    return booking


def booking_reset_manage_link(*, booking: Booking, now: datetime | None = None) -> Booking:
    """Replace the manage key: the old link stops working at once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking)
        booking.manage_key = new_manage_key()
        booking.save(update_fields=["manage_key", "updated_at"])
        _record(booking, BookingEvent.Kind.LINK_RESET, Actor.COACH, now)
    return booking


def reminders_retry(*, queryset: QuerySet[Reminder], now: datetime | None = None) -> int:
    """Send failed reminders again at the next dispatch (admin's "retry" action); returns how many.

    The same email: same generation, so the same Message-ID. The send task checks the
    booking again, so a reminder for a call that was cancelled or has started is not sent.
    """
    now = now or timezone.now()
    return queryset.filter(status=Reminder.Status.FAILED).update(
        status=Reminder.Status.SCHEDULED,
        due_at=now,
        attempts=0,
        last_error="",
        claim="",
        claimed_at=None,
        updated_at=now,
    )


# --- Policy: what a client may do from their link -------------------------------------


def client_cancel_problem(booking: Booking, *, now: datetime) -> str:
    """Why the client can't cancel now, or "" if they can."""
    if booking.status not in Booking.ACTIVE_STATUSES:
        return "This booking is no longer active."
    notice = timedelta(minutes=booking.offering.cancel_notice_minutes)
    if now > booking.start - notice:
        return (
            f"Calls can be cancelled online until {_describe(notice)} before they start. "
            "Please contact your coach directly."
        )
    return ""


def client_reschedule_problem(booking: Booking, *, now: datetime) -> str:
    """Why the client can't reschedule now, or "" if they can."""
    if booking.status not in Booking.ACTIVE_STATUSES:
        return "This booking is no longer active."
    offering = booking.offering
    if booking.reschedule_count >= offering.max_reschedules:
        return (
            f"This booking has already been moved {booking.reschedule_count} time"
            f"{'s' if booking.reschedule_count != 1 else ''}, the most allowed online. "
            "Please contact your coach directly."
        )
    notice = timedelta(minutes=offering.reschedule_notice_minutes)
    if now > booking.start - notice:
        return (
            f"Calls can be moved online until {_describe(notice)} before they start. "
            "Please contact your coach directly."
        )
    return ""


def _describe(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0 and minutes:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- Internals --------------------------------------------------------------------------


def _lock_coach(coach_id: int) -> None:
    # One booking decision per coach at a time (a no-op on SQLite, where the
    # IMMEDIATE transaction already holds the database's write lock).
    Coach.objects.select_for_update().filter(pk=coach_id).values_list("pk", flat=True).first()


def _lock_booking(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("offering", "coach").get(pk=booking.pk)


def _replay(key: str, fingerprint: str | None) -> BookingCreated | None:
    record = IdempotencyKey.objects.select_related("booking").filter(key=key).first()
    if record is None:
        return None
    if fingerprint is not None and record.fingerprint != fingerprint:
        raise IdempotencyConflict()
    return BookingCreated(booking=record.booking, created=False)


def _is_overlap(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return getattr(getattr(cause, "diag", None), "constraint_name", None) == "booking_no_overlap_per_coach"


def _plan_reminders(booking: Booking, *, now: datetime, new: bool = False) -> None:
    """Make the booking's reminder rows match its time (booking/reminders.py decides which).

    Runs inside the caller's transaction with the booking locked. The booking's rows
    are locked too, so a dispatch run claims a row before this reads it or after
    this commits, never in between (on PostgreSQL its SKIP LOCKED passes over them;
    on SQLite the IMMEDIATE transaction already keeps everyone else out).
    """
    offering = booking.offering
    planned = reminders.plan_reminders(
        offsets=reminders.offsets_for(offering.reminder_offsets),
        follow_up=offering.follow_up_enabled,
        start=booking.start,
        end=booking.end,
        now=now,
    )
    existing = (
        []
        if new
        else [
            reminders.Existing(*row)
            for row in Reminder.objects.select_for_update()
            .filter(booking=booking)
            .order_by("pk")
            .values_list("pk", "recipient", "kind", "status")
        ]
    )
    changes = reminders.reconcile(existing, planned)
    if changes.create:
        Reminder.objects.bulk_create(
            Reminder(booking=booking, recipient=p.recipient, kind=p.kind, due_at=p.due_at)
            for p in changes.create
        )
    for pk, due_at in changes.move:
        Reminder.objects.filter(pk=pk).update(due_at=due_at, updated_at=now)
    for pk, due_at in changes.rearm:
        Reminder.objects.filter(pk=pk).update(
            status=Reminder.Status.SCHEDULED,
            due_at=due_at,
            generation=F("generation") + 1,
            attempts=0,
            last_error="",
            claim="",
            claimed_at=None,
            sent_at=None,
            updated_at=now,
        )
    if changes.cancel:
        Reminder.objects.filter(pk__in=changes.cancel).update(
            status=Reminder.Status.CANCELLED, claim="", updated_at=now
        )


def _cancel_reminders(booking: Booking, *, now: datetime) -> None:
    """The booking is off: what has not gone out never will.

    A row a worker has claimed ("sending") is cancelled too; the send task checks the
    row again before sending and finds nothing to do.
    """
    Reminder.objects.filter(
        booking=booking, status__in=(Reminder.Status.SCHEDULED, Reminder.Status.SENDING)
    ).update(status=Reminder.Status.CANCELLED, claim="", updated_at=now)


def _record(
    booking: Booking, kind: str, actor: str, now: datetime, detail: dict[str, Any] | None = None
) -> None:
    event = BookingEvent.objects.create(booking=booking, kind=kind, actor=actor, at=now, detail=detail or {})
    from booking import tasks

    # robust: with the broker down the booking still stands and the request still
    # answers; booking.tasks.sweep_unsent_emails enqueues the event once it is back.
    transaction.on_commit(lambda: tasks.notify_booking_event.delay(event.pk), robust=True)
