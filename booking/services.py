"""Every state change of a booking, in one place.

Each function runs in ``transaction.atomic``, locks the coach's row (one booking decision
per coach at a time), re-checks availability, writes the reminder rows and a history
event, and enqueues side effects on commit. PostgreSQL's exclusion constraint is the last
line: an overlap that got past the re-check is ``SlotUnavailable``, never a 500.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from booking import credits, reminders, tasks, webhooks
from booking import series as series_dates
from booking.coach_view import coach_booking_data
from booking.emails import ANONYMISED_EMAIL
from booking.models import (
    Booking,
    BookingEvent,
    BookingSeries,
    EmailDelivery,
    IdempotencyKey,
    Reminder,
    WaitlistEntry,
    WaitlistHold,
    WebhookDelivery,
    WebhookEndpoint,
)
from booking.slots import offering_free_among, offering_slot_is_free
from booking.tokens import new_feed_key, new_manage_key, new_reference, new_room_key, new_series_reference
from coaching.models import Coach, Offering
from common.display import duration_text
from common.errors import UserFacingError
from common.outbound import OutboundError
from common.queue import enqueue_on_commit
from community.landing import consent_label
from community.models import Subscriber
from community.services import subscriber_subscribe
from practice import services as practice
from practice.models import Pass, PassEntry

Actor = BookingEvent.Actor
Status = Booking.Status


class BookingError(UserFacingError):
    """A booking request that cannot be carried out."""

    message = "This booking could not be changed."


class SlotUnavailable(BookingError):
    message = "This time was just taken or is no longer available. Please pick another time."


class IdempotencyConflict(BookingError):
    message = "This Idempotency-Key was already used for a different request."


class PolicyViolation(BookingError):
    pass


class InvalidTransition(BookingError):
    pass


class SeriesUnavailable(BookingError):
    """Dates of a series that can't be booked (taken, outside the hours, past the horizon, or
    a time the DST change skips): ``dates`` lists them, in the coach's zone."""

    message = "Some dates of this series are not available."

    def __init__(self, dates: list[date], message: str | None = None) -> None:
        super().__init__(message)
        self.dates = dates


@dataclass(frozen=True)
class SeriesCreated:
    series: BookingSeries
    bookings: list[Booking]
    # The dates left out with ``skip_unavailable`` (the invite's EXDATEs).
    skipped: list[date]
    created: bool = True


@dataclass(frozen=True)
class BookingCreated:
    booking: Booking
    created: bool


# How long an idempotency key answers: a retry comes within minutes; a day is plenty.
IDEMPOTENCY_TTL = timedelta(days=1)


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a create request, to tell a retry from a different request.

    Keyed with the secret key: the stored value says nothing about the name, address or
    note it was made from, even to someone who guesses them.
    """
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return salted_hmac("booking.request-fingerprint", canonical, algorithm="sha256").hexdigest()


def idempotency_scope(*, client: User | None, client_email: str, offering: Offering) -> str:
    """Whose idempotency key it is: the signed-in account, else the guest's address for this offering.

    Two callers who send the same key get a booking each, never each other's answer or a 409.
    A guest's address is only kept as a keyed hash.
    """
    if client is not None:
        return f"user:{client.pk}"
    digest = salted_hmac(
        "booking.idempotency-scope", f"{offering.pk}:{client_email.strip().lower()}", algorithm="sha256"
    ).hexdigest()
    return f"guest:{digest}"


def booking_create(
    *,
    offering: Offering,
    start: datetime,
    client_name: str,
    client_email: str,
    client_time_zone: str,
    answers: dict[str, Any] | None = None,
    note: str = "",
    client_locale: str = "",
    client_phone: str = "",
    client: User | None = None,
    client_pass: Pass | None = None,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    join_community: bool = False,
    hold_id: int | None = None,
    by: str = Actor.CLIENT,
    now: datetime | None = None,
) -> BookingCreated:
    """Book ``start`` for a client: pending when the offering needs approval, else confirmed.

    With an ``idempotency_key``, a repeat of the same request by the same caller (see
    ``idempotency_scope``) within ``IDEMPOTENCY_TTL`` returns the first booking
    (``created=False``); the same key with another ``fingerprint`` raises
    ``IdempotencyConflict``. An expired key is a new key.

    With ``client_pass``, one of its credits pays for the session, used in the same
    transaction: a PassError (exhausted, expired, not for this call) leaves nothing behind.
    ``hold_id``: the waitlist hold this client takes (booking/waitlist.py): its time is free to them.
    ``by`` the coach: booked for the client, confirmed at once.
    """
    now = now or timezone.now()
    if timezone.is_naive(start):
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    if not offering.is_active:
        raise SlotUnavailable("This call is not open for booking at the moment.")
    scope = idempotency_scope(client=client, client_email=client_email, offering=offering)
    if idempotency_key:
        replay = _replay(scope, idempotency_key, fingerprint, now=now)
        if replay is not None:
            return replay
    # After the replay: a retry of a booking that used the last credit answers the booking.
    credits.check_pass(client_pass=client_pass, offering=offering, start=start, client_email=client_email)
    try:
        with transaction.atomic(), _endpoints_read_once():
            _lock_coach(offering.coach_id)
            if idempotency_key:
                # A concurrent request with the same key may have committed while we waited.
                replay = _replay(scope, idempotency_key, fingerprint, now=now)
                if replay is not None:
                    return replay
                # An expired row the sweep has not deleted yet must not block the key's reuse.
                IdempotencyKey.objects.filter(scope=scope, key=idempotency_key, expires_at__lte=now).delete()
            if not offering_slot_is_free(offering=offering, start=start, now=now, exclude_hold_id=hold_id):
                raise SlotUnavailable()
            booking = _insert_booking(
                offering,
                start,
                Booker(
                    name=client_name,
                    email=client_email,
                    time_zone=client_time_zone,
                    locale=client_locale,
                    phone=client_phone,
                    answers=answers or {},
                    note=note,
                    user=client,
                    client_pass=client_pass,
                    by=by,
                ),
                now=now,
            )
            if idempotency_key:
                IdempotencyKey.objects.create(
                    scope=scope,
                    key=idempotency_key,
                    fingerprint=fingerprint or "",
                    booking=booking,
                    expires_at=now + IDEMPOTENCY_TTL,
                )
            _end_waiting(offering, client_email, now=now, taken_hold_id=hold_id)
            if join_community and offering.coach.community_enabled:
                # Double opt-in, as from the signup form: a pending subscriber and a
                # confirmation email, committed (or not) with the booking.
                subscriber_subscribe(
                    coach=offering.coach,
                    email=client_email,
                    first_name=client_name.split()[0] if client_name.split() else "",
                    source=Subscriber.Source.BOOKING,
                    consent_text=consent_label(offering.coach),
                    now=now,
                )
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotUnavailable() from exc
        if idempotency_key:
            replay = _replay(scope, idempotency_key, fingerprint, now=now)
            if replay is not None:
                return replay
        raise
    return BookingCreated(booking=booking, created=True)


@dataclass(frozen=True)
class Booker:
    """Who books, as a new booking (or each occurrence of a series) records them."""

    name: str
    email: str
    time_zone: str
    locale: str = ""
    phone: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    user: User | None = None
    client_pass: Pass | None = None
    # Who books: the client, or the coach for them (confirmed at once: the coach approves).
    by: str = Actor.CLIENT


def _insert_booking(
    offering: Offering,
    start: datetime,
    booker: Booker,
    *,
    now: datetime,
    series: BookingSeries | None = None,
    series_index: int | None = None,
    event_detail: dict[str, Any] | None = None,
) -> Booking:
    """One new booking with its reminders, its "created" event and its credit, inside the
    caller's transaction (under the coach's lock, the slot checked free)."""
    end = start + offering.duration
    record = practice.client_record(
        coach_id=offering.coach_id,
        email=booker.email,
        name=booker.name,
        user_id=booker.user.pk if booker.user is not None else None,
        # The pass's client is this record (check_pass matched the address).
        known=booker.client_pass.client if booker.client_pass is not None else None,
    )
    booking = Booking.objects.create(
        reference=new_reference(),
        coach_id=offering.coach_id,
        offering=offering,
        client=booker.user,
        client_name=booker.name,
        client_email=booker.email,
        client_time_zone=booker.time_zone,
        client_locale=booker.locale[:35],
        client_phone=booker.phone,
        answers=booker.answers,
        note=booker.note,
        start=start,
        end=end,
        blocked_start=start - timedelta(minutes=offering.buffer_before_minutes),
        blocked_end=end + timedelta(minutes=offering.buffer_after_minutes),
        status=Status.PENDING
        if offering.requires_approval and booker.by == Actor.CLIENT
        else Status.CONFIRMED,
        manage_key=new_manage_key(),
        room_key=new_room_key(),
        client_record=record,
        client_pass=booker.client_pass,
        series=series,
        series_index=series_index,
        **credits.policy_fields(offering),
    )
    if booking.status == Status.CONFIRMED:
        _plan_reminders(booking, now=now, new=True)
    _record(
        booking,
        BookingEvent.Kind.CREATED,
        booker.by,
        now,
        {"start": start.isoformat(), **(event_detail or {})},
    )
    # After the booking's own event (its webhooks come first); PassExhausted or
    # PassExpired here rolls the whole booking back.
    credits.use_credit(booking, now=now)
    return booking


def booking_series_create(
    *,
    offering: Offering,
    start: datetime,
    interval_weeks: int,
    count: int,
    booker: Booker,
    skip_unavailable: bool = False,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    now: datetime | None = None,
) -> SeriesCreated:
    """Book a standing series: ``count`` calls every ``interval_weeks`` weeks from ``start``
    at its wall-clock time in the coach's zone, each a booking of its own, all in one
    transaction under the coach's lock: all of them or SeriesUnavailable naming the dates
    that can't be booked; with ``skip_unavailable``, the free ones (SeriesUnavailable only
    when none is). With ``booker.client_pass``, one credit per occurrence, all up front.
    An ``idempotency_key`` works as for ``booking_create``: a retry answers the same series.
    """
    now = now or timezone.now()
    if timezone.is_naive(start):
        raise ValueError("start must be an aware datetime")
    if not offering.is_active:
        raise SlotUnavailable("This call is not open for booking at the moment.")
    if not 1 <= interval_weeks <= series_dates.MAX_INTERVAL_WEEKS:
        raise PolicyViolation(f"Repeat every 1 to {series_dates.MAX_INTERVAL_WEEKS} weeks.")
    if not 2 <= count <= series_dates.MAX_OCCURRENCES:
        raise PolicyViolation(f"A series has 2 to {series_dates.MAX_OCCURRENCES} calls.")
    if offering.requires_approval and booker.by == Actor.CLIENT:
        # One request per call would ask the coach N times and leave holes in the rule.
        raise PolicyViolation("This call needs the coach's approval: book one call at a time.")
    zone = offering.coach.zone
    dates = series_dates.occurrences(start, zone=zone, interval_weeks=interval_weeks, count=count)
    scope = idempotency_scope(client=booker.user, client_email=booker.email, offering=offering)
    if idempotency_key:
        replay = _replay(scope, idempotency_key, fingerprint, now=now)
        if replay is not None:
            return _series_replayed(replay.booking, dates)
    credits.check_pass(
        client_pass=booker.client_pass, offering=offering, start=start, client_email=booker.email
    )
    try:
        with transaction.atomic(), _endpoints_read_once():
            _lock_coach(offering.coach_id)
            if idempotency_key:
                replay = _replay(scope, idempotency_key, fingerprint, now=now)
                if replay is not None:
                    return _series_replayed(replay.booking, dates)
                IdempotencyKey.objects.filter(scope=scope, key=idempotency_key, expires_at__lte=now).delete()
            free = offering_free_among(
                offering=offering, starts=[o.start for o in dates if o.start is not None], now=now
            )
            bookable = [o for o in dates if o.start is not None and o.start.astimezone(UTC) in free]
            skipped = [o.day for o in dates if o not in bookable]
            if not bookable or (skipped and not skip_unavailable):
                raise SeriesUnavailable(skipped)
            client_pass = booker.client_pass
            if client_pass is not None and client_pass.remaining < len(bookable):
                raise practice.PassExhausted(
                    f"This pass has {client_pass.remaining} sessions left; the series needs {len(bookable)}."
                )
            series = BookingSeries.objects.create(
                reference=new_series_reference(),
                coach_id=offering.coach_id,
                offering=offering,
                client_name=booker.name,
                client_email=booker.email,
                client_time_zone=booker.time_zone,
                time_zone=str(zone),
                first_start=start,
                interval_weeks=interval_weeks,
                count=count,
                manage_key=new_manage_key(),
            )
            bookings = [
                _insert_booking(
                    offering,
                    occurrence.start,
                    booker,
                    now=now,
                    series=series,
                    series_index=occurrence.index,
                    # One email for the whole series, sent with the first call's event.
                    event_detail={"series": series.reference, **({"series_first": True} if n == 0 else {})},
                )
                for n, occurrence in enumerate(o for o in bookable if o.start is not None)
            ]
            _end_waiting(offering, booker.email, now=now)
            if idempotency_key:
                IdempotencyKey.objects.create(
                    scope=scope,
                    key=idempotency_key,
                    fingerprint=fingerprint or "",
                    booking=bookings[0],
                    expires_at=now + IDEMPOTENCY_TTL,
                )
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotUnavailable() from exc
        if idempotency_key:
            replay = _replay(scope, idempotency_key, fingerprint, now=now)
            if replay is not None:
                return _series_replayed(replay.booking, dates)
        raise
    return SeriesCreated(series=series, bookings=bookings, skipped=skipped)


def _series_replayed(first: Booking, dates: list[series_dates.Occurrence]) -> SeriesCreated:
    """The answer a retry gets: the series its key made (``first`` is its first call)."""
    series = first.series
    if series is None:
        raise IdempotencyConflict()  # the key made a single booking: another request
    bookings = list(series.occurrences.order_by("series_index"))
    held = {b.series_index for b in bookings}
    return SeriesCreated(
        series=series, bookings=bookings, skipped=[o.day for o in dates if o.index not in held], created=False
    )


def booking_series_cancel_from(
    *, series: BookingSeries, from_index: int, by: str, reason: str = "", now: datetime | None = None
) -> list[Booking]:
    """Cancel the series' calls from occurrence ``from_index`` on, each by its own policy (a
    client must be within every one's notice, or nothing is cancelled), and end the rule
    there (COUNT shortened, SEQUENCE up): one email for all of them, with the series' invite.
    Returns the calls cancelled."""
    now = now or timezone.now()
    with transaction.atomic(), _endpoints_read_once():
        _lock_coach(series.coach_id)
        series = BookingSeries.objects.select_for_update().get(pk=series.pk)
        if not 0 <= from_index < series.count:
            raise InvalidTransition("This series has no such call.")
        calls = list(
            series.occurrences.select_for_update()
            .select_related("offering", "coach")
            .filter(series_index__gte=from_index, status__in=Booking.ACTIVE_STATUSES)
            .order_by("series_index")
        )
        if not calls:
            raise InvalidTransition("There is no call left to cancel from that date on.")
        for booking in calls:
            _check_may_change(booking, by=by, now=now, change="cancelled", policy=client_cancel_problem)
        if from_index:
            series.count = from_index  # the rule ends before it; from 0, the whole series is off
        series.sequence += 1
        series.save(update_fields=["count", "sequence", "updated_at"])
        for n, booking in enumerate(calls):
            _call_off(
                booking,
                status=Status.CANCELLED,
                by=by,
                reason=reason,
                now=now,
                extra={"series_rest": series.reference, **({"series_first": True} if n == 0 else {})},
            )
    return calls


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
        _call_off(booking, status=Status.DECLINED, by=Actor.COACH, reason=reason, now=now)
    return booking


def booking_cancel(*, booking: Booking, by: str, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel an active booking. A client must respect the offering's cancellation notice."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking)
        _check_may_change(booking, by=by, now=now, change="cancelled", policy=client_cancel_problem)
        _call_off(booking, status=Status.CANCELLED, by=by, reason=reason, now=now)
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
            _check_may_change(booking, by=by, now=now, change="moved", policy=client_reschedule_problem)
            if new_start == booking.start:
                raise InvalidTransition("The booking is already at this time.")
            problem = credits.move_problem(booking, new_start=new_start)
            if problem:
                raise PolicyViolation(problem)
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
        credit = (
            credits.outcome(booking, status=outcome, by=Actor.COACH, now=now)
            if outcome == Status.NO_SHOW
            else None
        )
        _record(booking, kind, Actor.COACH, now, credits.detail(credit))
        credits.settle(booking, credit, by=Actor.COACH, now=now)
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


def feed_key_replace(*, owner: Coach | User) -> None:
    """Give ``owner`` (a coach or a client) a new calendar-feed link; the old one stops working at once."""
    owner.feed_key = new_feed_key()
    owner.save(update_fields=["feed_key"])


def idempotency_keys_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the idempotency keys that no longer answer (beat, hourly); returns how many."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now).delete()
    return deleted


def email_delivery_retry(*, delivery: EmailDelivery) -> bool:
    """Send a failed email again (a fresh round of retries); False if it is not failed any more."""
    with transaction.atomic():
        retried = EmailDelivery.objects.filter(pk=delivery.pk, status=EmailDelivery.Status.FAILED).update(
            status=EmailDelivery.Status.PENDING, locked_until=None
        )
        if retried:
            enqueue_on_commit(tasks.send_booking_email, delivery.pk)
    return bool(retried)


# --- Webhook endpoints: a coach's addresses for booking events -------------------------


class WebhookError(BookingError):
    """A webhook endpoint that cannot be saved as asked; ``field`` names the culprit."""

    message = "This webhook endpoint could not be saved."

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


PAUSED_BY_COACH = "Paused by the coach."


def _clean_event_types(event_types: Any) -> list[str]:
    if event_types is None:
        return []
    if isinstance(event_types, str) or not all(isinstance(item, str) for item in event_types):
        raise WebhookError("Event types must be a list of names.", field="event_types")
    unknown = [item for item in event_types if item not in webhooks.EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event type: {unknown[0][:60]}. Choose from {', '.join(webhooks.EVENT_TYPES)}.",
            field="event_types",
        )
    return list(dict.fromkeys(event_types))


def _clean_url(url: str) -> str:
    try:
        return webhooks.check_endpoint_url(url)
    except OutboundError as exc:
        raise WebhookError(exc.message, field="url") from exc


def webhook_endpoint_create(
    *, coach: Coach, url: str, event_types: Any = (), description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an address for ``event_types`` (none: all); returns it and its secret, shown once."""
    description = (description or "").strip()
    if len(description) > 200:
        raise WebhookError("Keep the description under 200 characters.", field="description")
    secret = webhooks.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        coach=coach,
        url=_clean_url(url),
        event_types=_clean_event_types(event_types),
        description=description,
        secret=secret,
    )
    return endpoint, secret


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> str:
    """A new secret, returned once; the old one still signs deliveries for a day (both sign)."""
    now = now or timezone.now()
    secret = webhooks.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + webhooks.ROTATION_OVERLAP
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return secret


def webhook_endpoint_pause(
    *, endpoint: WebhookEndpoint, reason: str = PAUSED_BY_COACH, now: datetime | None = None
) -> bool:
    """Stop sending to the endpoint: new events are not recorded for it, open deliveries wait."""
    now = now or timezone.now()
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint.pk, is_paused=False).update(
            is_paused=True, paused_reason=reason[:300], paused_at=now
        )
    )


def webhook_endpoint_resume(*, endpoint: WebhookEndpoint) -> bool:
    """Send to the endpoint again: the deliveries that waited go out, in order, from now."""
    with transaction.atomic():
        resumed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_paused=True).update(
            is_paused=False, paused_reason="", paused_at=None, consecutive_failures=0
        )
        if resumed:
            waiting = WebhookDelivery.objects.filter(
                endpoint_id=endpoint.pk, status=WebhookDelivery.Status.PENDING
            ).order_by("pk")
            # The rest (a long backlog) the sweep picks up, a batch a minute.
            for delivery_id in waiting.values_list("pk", flat=True)[: tasks.WEBHOOK_SWEEP_BATCH]:
                enqueue_on_commit(tasks.send_webhook, delivery_id)
    return bool(resumed)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Forget the endpoint and its deliveries; an attempt under way finds its row gone."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def webhook_send_test(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookDelivery:
    """A ``webhook.test`` delivery (no booking), sent even to a paused endpoint, to check it."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type=webhooks.WEBHOOK_TEST,
            webhook_id=webhooks.new_webhook_id(),
            payload=webhooks.ping_payload(endpoint, now=now),
            next_attempt_at=now,
        )
        enqueue_on_commit(tasks.send_webhook, delivery.pk)
    return delivery


def webhook_delivery_resend(*, delivery: WebhookDelivery, now: datetime | None = None) -> bool:
    """Send a delivery again now, same body and same ``webhook-id``, with a fresh three days of
    retries; False while an attempt is under way."""
    now = now or timezone.now()
    with transaction.atomic():
        resent = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(status=WebhookDelivery.Status.SENDING)
            .update(
                status=WebhookDelivery.Status.PENDING,
                attempts=0,
                first_attempt_at=None,
                next_attempt_at=now,
                locked_until=None,
            )
        )
        if resent:
            enqueue_on_commit(tasks.send_webhook, delivery.pk)
    return bool(resent)


# --- Policy: what a client may do from their link -------------------------------------


def client_cancel_problem(booking: Booking, *, now: datetime) -> str:
    """Why the client can't cancel now, or "" if they can."""
    if booking.status not in Booking.ACTIVE_STATUSES:
        return "This booking is no longer active."
    if credits.in_free_window(booking, now=now):
        return ""  # before the notice window, or in the grace period right after booking
    if booking.client_pass_id and now < booking.start:
        return ""  # a late cancellation of a package session: its credit goes by the policy
    minutes = credits.policy_of(booking).notice_minutes
    return (
        f"Calls can be cancelled online until {duration_text(minutes)} before they start. "
        "Please contact your coach directly."
    )


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
    minutes = offering.reschedule_notice_minutes
    if now > booking.start - timedelta(minutes=minutes):
        return (
            f"Calls can be moved online until {duration_text(minutes)} before they start. "
            "Please contact your coach directly."
        )
    return ""


# --- Internals --------------------------------------------------------------------------


def _check_may_change(
    booking: Booking, *, by: str, now: datetime, change: str, policy: Callable[..., str]
) -> None:
    """The booking must be active; a client must also be within the offering's policy."""
    if booking.status not in Booking.ACTIVE_STATUSES:
        raise InvalidTransition(f"This booking is not active, so it cannot be {change}.")
    if by == Actor.CLIENT:
        problem = policy(booking, now=now)
        if problem:
            raise PolicyViolation(problem)


def _end_waiting(offering: Offering, email: str, *, now: datetime, taken_hold_id: int | None = None) -> None:
    """The client booked this call: their waitlist entries for it end in the booking's own
    transaction (one query when there are none), and a time held for them passes on."""
    ended = WaitlistEntry.objects.filter(
        offering_id=offering.pk, email__iexact=email, status__in=WaitlistEntry.OPEN_STATUSES
    ).update(status=WaitlistEntry.Status.BOOKED, ended_at=now)
    if not ended:
        return
    released = (
        WaitlistHold.objects.filter(
            entry__offering_id=offering.pk,
            entry__email__iexact=email,
            entry__status=WaitlistEntry.Status.BOOKED,
            status=WaitlistHold.Status.HELD,
        )
        .exclude(pk=taken_hold_id)
        .update(status=WaitlistHold.Status.RELEASED, ended_at=now)
    )
    if released:
        enqueue_on_commit(tasks.waitlist_match, offering.coach_id)


def lock_coach(coach_id: int) -> None:
    """Take the coach's row lock: every write that claims a coach's time (a booking, a move, a
    waitlist hold) does it first, so claims of one coach's time run one at a time."""
    _lock_coach(coach_id)


def _lock_coach(coach_id: int) -> None:
    # One booking decision per coach at a time (a no-op on SQLite, where the
    # IMMEDIATE transaction already holds the database's write lock).
    Coach.objects.select_for_update().filter(pk=coach_id).values_list("pk", flat=True).first()


def _lock_booking(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("offering", "coach").get(pk=booking.pk)


def _replay(scope: str, key: str, fingerprint: str | None, *, now: datetime) -> BookingCreated | None:
    record = (
        IdempotencyKey.objects.select_related("booking")
        .filter(scope=scope, key=key, expires_at__gt=now)
        .first()
    )
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


def _call_off(
    booking: Booking, *, status: str, by: str, reason: str, now: datetime, extra: dict[str, Any] | None = None
) -> None:
    """The locked booking is declined or cancelled: its time is free, its reminders off, both sides told."""
    booking.status = status
    booking.cancel_reason = reason
    booking.cancelled_by = by
    booking.sequence += 1
    booking.save(update_fields=["status", "cancel_reason", "cancelled_by", "sequence", "updated_at"])
    _cancel_reminders(booking, now=now)
    kind = BookingEvent.Kind.DECLINED if status == Status.DECLINED else BookingEvent.Kind.CANCELLED
    credit = credits.outcome(booking, status=status, by=by, now=now)
    _record(booking, kind, by, now, {"reason": reason, **credits.detail(credit), **(extra or {})})
    credits.settle(booking, credit, by=by, reason=reason, now=now)


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
    # robust: with the broker down the booking still stands and the request still
    # answers; booking.tasks.sweep_unsent_emails enqueues the event once it is back.
    enqueue_on_commit(tasks.notify_booking_event, event.pk)
    _write_webhooks(booking, kind, actor, now, detail or {})


def _write_webhooks(booking: Booking, kind: str, actor: str, now: datetime, detail: dict[str, Any]) -> None:
    """One WebhookDelivery per subscribed, active endpoint of the coach, in the change's transaction.

    Committed (or rolled back) with the change, so no event is lost with the broker: the
    send is enqueued on commit, and booking.tasks.sweep_webhooks sends what that missed.
    """
    types = webhooks.event_types_for(kind, status=booking.status)
    if types:
        changes = webhooks.changes_for(kind, actor, detail)
        # A new booking's credit is the one its transaction uses right after this event.
        credit = "used" if kind == BookingEvent.Kind.CREATED and booking.client_pass_id else None
        # Read once for all the change's events ("created" and "confirmed"), and only when an
        # endpoint wants one.
        booking_data = functools.cache(lambda: coach_booking_data(booking, credit=credit))
        _deliver(
            coach_id=booking.coach_id,
            booking_id=booking.pk,
            events=[
                (event_type, lambda t: webhooks.build_payload(t, booking_data(), changes, now=now))
                for event_type in types
            ],
            now=now,
        )


def write_pass_webhooks(entry: PassEntry) -> None:
    """The pass event of a new ledger entry (practice calls this inside its transaction)."""
    event_type = webhooks.pass_event_type(entry)
    if event_type:
        _deliver(
            coach_id=entry.pass_obj.coach_id,
            booking_id=entry.booking_id,
            events=[(event_type, lambda t: webhooks.build_pass_payload(t, entry, now=entry.at))],
            now=entry.at,
        )


# Within ``_endpoints_read_once``: each coach's active endpoints, read once.
_endpoints_read: ContextVar[dict[int, list[WebhookEndpoint]] | None] = ContextVar(
    "booking_endpoints_read", default=None
)


@contextlib.contextmanager
def _endpoints_read_once() -> Iterator[None]:
    """Within: the coach's endpoints are read once, so a new booking's events and the pass
    entry it writes share one read (one transaction, under the coach's lock)."""
    token = _endpoints_read.set({})
    try:
        yield
    finally:
        _endpoints_read.reset(token)


def _deliver(
    *,
    coach_id: int,
    booking_id: int | None,
    events: list[tuple[str, Callable[[str], dict[str, Any]]]],
    now: datetime,
) -> None:
    """Write the deliveries of ``events`` (type, payload builder) to the coach's subscribed endpoints."""
    read = _endpoints_read.get()
    endpoints = read.get(coach_id) if read is not None else None
    if endpoints is None:
        endpoints = list(WebhookEndpoint.objects.filter(coach_id=coach_id, is_paused=False).order_by("pk"))
        if read is not None:
            read[coach_id] = endpoints
    if not endpoints:
        return
    rows = []
    # In the given order ("created" before "confirmed"): ids order the deliveries of a booking.
    for event_type, build in events:
        wanted = [endpoint for endpoint in endpoints if endpoint.wants(event_type)]
        if not wanted:
            continue
        payload = build(event_type)
        rows += [
            WebhookDelivery(
                endpoint=endpoint,
                booking_id=booking_id,
                event_type=event_type,
                webhook_id=webhooks.new_webhook_id(),
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in wanted
        ]
    for delivery in WebhookDelivery.objects.bulk_create(rows):
        enqueue_on_commit(tasks.send_webhook, delivery.pk)


# --- A client's own data (registered with accounts in booking/apps.py) ------------------

# Set on the bookings of a client who deleted their account.
ANONYMOUS_NAME = "Deleted client"
# Why the calls of a client who deleted their account were cancelled: our words, not theirs.
ACCOUNT_CLOSED_REASON = "The client closed their account."
# What a BookingEvent's detail may keep once its client is forgotten: instants, never text.
INSTANT_DETAIL_KEYS = frozenset({"start", "from", "to"})


def _client_bookings(user: User, emails: list[str]) -> QuerySet[Booking]:
    query = Q(client=user)
    for email in emails:
        query |= Q(client_email__iexact=email)
    return Booking.objects.filter(query)


def client_bookings_export(user: User, emails: list[str]) -> list[dict[str, Any]]:
    """Every booking made by the person (signed in, or as a guest with one of their addresses)."""
    bookings = (
        _client_bookings(user, emails)
        .select_related("coach", "offering")
        .prefetch_related("events")
        .order_by("start")
    )
    return [
        {
            "reference": b.reference,
            "coach": b.coach.display_name,
            "offering": b.offering.title,
            "start": b.start.isoformat(),
            "end": b.end.isoformat(),
            "status": b.status,
            "name": b.client_name,
            "email": b.client_email,
            "time_zone": b.client_time_zone,
            "note": b.note,
            "answers": b.answers,
            "cancel_reason": b.cancel_reason,
            "created_at": b.created_at.isoformat(),
            "history": [
                {"what": e.kind, "by": e.actor, "at": e.at.isoformat(), "detail": e.detail}
                for e in b.events.all()
            ],
        }
        for b in bookings
    ]


def client_bookings_forget(user: User, emails: list[str], now: datetime) -> int:
    """Cancel the person's upcoming calls (so the coach is told), then anonymise all their bookings.

    The coaches' history stays whole (times, statuses, history) but loses every free text the
    client or the coach wrote about them: name, address, note, intake answers, the reasons
    given for a cancellation or a decline (in the booking and in its history). Their
    idempotency keys go, and emails to them that have not gone out never will; the old manage
    links stop working. Returns how many bookings were anonymised.
    """
    closed: list[int] = []
    for booking in list(_client_bookings(user, emails).select_for_update()):
        if booking.is_active and booking.start > now:
            # If it changed meanwhile, anonymise it all the same.
            with contextlib.suppress(BookingError):
                booking_cancel(booking=booking, by=Actor.SYSTEM, reason=ACCOUNT_CLOSED_REASON, now=now)
                closed.append(booking.pk)
    ids = list(_client_bookings(user, emails).values_list("pk", flat=True))
    IdempotencyKey.objects.filter(Q(booking_id__in=ids) | Q(scope=f"user:{user.pk}")).delete()
    EmailDelivery.objects.filter(
        booking_id__in=ids, recipient=EmailDelivery.Recipient.CLIENT, status=EmailDelivery.Status.PENDING
    ).update(status=EmailDelivery.Status.SKIPPED, locked_until=None)
    scrubbed = []
    for event in BookingEvent.objects.filter(booking_id__in=ids).only("pk", "detail"):
        detail = _instants_only(event.detail)
        if detail != event.detail:
            event.detail = detail
            scrubbed.append(event)
    BookingEvent.objects.bulk_update(scrubbed, ["detail"], batch_size=500)
    # The coach's tools get the events still to be sent, without the person in them.
    deliveries = list(WebhookDelivery.objects.filter(booking_id__in=ids).only("pk", "payload"))
    for delivery in deliveries:
        delivery.payload = webhooks.anonymised_payload(
            delivery.payload, name=ANONYMOUS_NAME, email=ANONYMISED_EMAIL, kept_reason=ACCOUNT_CLOSED_REASON
        )
    WebhookDelivery.objects.bulk_update(deliveries, ["payload"], batch_size=500)
    # Their standing series too: the name and address go, and the series link stops working.
    BookingSeries.objects.filter(pk__in=Booking.objects.filter(pk__in=ids).values("series_id")).update(
        client_name=ANONYMOUS_NAME, client_email=ANONYMISED_EMAIL, manage_key=new_manage_key()
    )
    return Booking.objects.filter(pk__in=ids).update(
        client=None,
        client_name=ANONYMOUS_NAME,
        client_email=ANONYMISED_EMAIL,
        client_phone="",
        note="",
        answers={},
        # The reason our own cancellation gave stays, for the coach's email about it.
        cancel_reason=Case(When(pk__in=closed, then=Value(ACCOUNT_CLOSED_REASON)), default=Value("")),
        manage_key=new_manage_key(),
        # Feeds and invites show the name: their validators must see the change.
        updated_at=now,
    )


def _instants_only(detail: Any) -> dict[str, Any]:
    """A history entry's facts without the text anyone wrote: the instants, and our own reason."""
    if not isinstance(detail, dict):
        return {}
    kept = {key: value for key, value in detail.items() if key in INSTANT_DETAIL_KEYS}
    if detail.get("reason") == ACCOUNT_CLOSED_REASON:
        kept["reason"] = ACCOUNT_CLOSED_REASON
    return kept
