"""Writes of the practice: client records, packages, passes and their credit ledger.

Every credit change locks the pass row (``SELECT ... FOR UPDATE``, or for a booking's use
the conditional ``UPDATE`` that takes the credit), writes one ledger entry and moves
``remaining`` by the entry's amount in the same transaction, so the balance is always the
ledger's sum and never goes below zero (the check constraint is the last line).
Booking's services call ``pass_use`` and ``credit_settle`` inside their own transactions,
after locking the coach and the booking: the pass is always the last lock taken.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from coaching.models import Coach, Offering
from common.errors import UserFacingError
from common.queue import enqueue_on_commit
from practice import policy, selectors, tasks
from practice.models import Client, Package, Pass, PassEntry, SessionNote
from practice.tokens import new_pass_key, new_pass_reference

Kind = PassEntry.Kind
Actor = PassEntry.Actor


class PassError(UserFacingError):
    """A pass can't be used for this booking; ``code`` is the API's error code."""

    code = "pass_invalid"
    status = 409


class PassExhausted(PassError):
    code = "pass_exhausted"
    message = "This pass has no sessions left."


class PassExpired(PassError):
    code = "pass_expired"
    message = "This pass has expired: sessions must start before it ends."


class PassNotValidHere(PassError):
    code = "pass_not_valid"
    status = 422
    message = "This pass does not cover this call."


class PassRequired(PassError):
    code = "pass_required"
    status = 422
    message = "This call is booked with a package: use one of its sessions."


class PracticeError(UserFacingError):
    """A coach's change to a pass or package that can't be made; ``field`` names the input."""

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# Called with each new ledger entry inside its transaction: booking registers the pass
# webhooks here (it sits above us in the layers, so we can't call it).
_entry_listeners: list[Callable[[PassEntry], None]] = []


def register_entry_listener(listener: Callable[[PassEntry], None]) -> None:
    if listener not in _entry_listeners:
        _entry_listeners.append(listener)


# --- Clients ---------------------------------------------------------------------------


def client_record(
    *, coach_id: int, email: str, name: str, user_id: int | None = None, known: Client | None = None
) -> Client:
    """The coach's client for ``email``, made on first sight; a later name or account fills gaps.

    Safe under concurrent first bookings: the insert skips on the unique (coach, email).
    ``known``: the record when the caller has already read it (a pass's client), so neither
    the insert nor the read is needed.
    """
    email = email.strip().lower()
    if known is not None and known.coach_id == coach_id and known.email == email:
        client = known
    else:
        Client.objects.bulk_create(
            [Client(coach_id=coach_id, email=email, name=name[:120], user_id=user_id)], ignore_conflicts=True
        )
        client = Client.objects.get(coach_id=coach_id, email=email)
    updates = {}
    if user_id and client.user_id is None:
        updates["user_id"] = user_id
    if name and not client.name:
        updates["name"] = name[:120]
    if updates:
        Client.objects.filter(pk=client.pk).update(**updates, updated_at=timezone.now())
        for field, value in updates.items():
            setattr(client, field, value)
    return client


# Who a client who deleted their account is, on their coaches' records.
ANONYMOUS_NAME = "Deleted client"


def clients_forget(user: Any, emails: list[str], now: datetime) -> int:
    """A client deleted their account: their identity leaves every coach's client records
    (the coach keeps the history, the passes and their own notes, under no name)."""
    records = Client.objects.filter(Q(user=user) | Q(email__in=[email.lower() for email in emails]))
    count = 0
    for client in records:
        client.name = ANONYMOUS_NAME
        client.email = f"deleted-{client.pk}@invalid.invalid"
        client.user = None
        client.save(update_fields=["name", "email", "user", "updated_at"])
        count += 1
    return count


def client_notes_update(*, client: Client, notes: str) -> Client:
    client.notes = notes
    client.save(update_fields=["notes", "updated_at"])
    return client


def session_note_save(*, client: Client, booking: Any, body: str) -> SessionNote | None:
    """The coach's private note on one of the client's sessions: written, replaced, or removed
    when ``body`` is blank (None then). The booking must be this client's, with this coach."""
    if booking.coach_id != client.coach_id or booking.client_record_id != client.pk:
        raise PracticeError("This session is not one of this client's.", field="body")
    body = body.strip()
    limit = SessionNote._meta.get_field("body").max_length
    if limit and len(body) > limit:
        raise PracticeError(f"A note can be at most {limit} characters long.", field="body")
    if not body:
        SessionNote.objects.filter(booking_id=booking.pk).delete()
        return None
    try:
        with transaction.atomic():
            note, _ = SessionNote.objects.update_or_create(
                booking_id=booking.pk, defaults={"client": client, "body": body}
            )
    except IntegrityError:
        # Another save made the note between our read and our insert: update that one.
        note = SessionNote.objects.get(booking_id=booking.pk)
        note.client, note.body = client, body
        note.save(update_fields=["client", "body", "updated_at"])
    return note


# --- Packages --------------------------------------------------------------------------


def package_save(
    *,
    coach: Coach,
    name: str,
    sessions: int,
    offerings: list[Offering],
    validity_days: int | None = None,
    valid_until: date | None = None,
    description: str = "",
    price_amount: Any = None,
    price_currency: str = "",
    is_active: bool = True,
    package: Package | None = None,
) -> Package:
    """Create (or, with ``package``, update) a package. Passes already granted keep their terms."""
    if not offerings:
        raise PracticeError("Choose at least one of your calls the package covers.", field="offerings")
    if any(offering.coach_id != coach.pk for offering in offerings):
        raise PracticeError("A package covers your own calls only.", field="offerings")
    if (validity_days is None) == (valid_until is None):
        raise PracticeError(
            "Give either a number of days from the grant or a last day.", field="validity_days"
        )
    with transaction.atomic():
        package = package or Package(coach=coach)
        package.name = name
        package.description = description
        package.sessions = sessions
        package.validity_days = validity_days
        package.valid_until = valid_until
        package.price_amount = price_amount
        package.price_currency = price_currency
        package.is_active = is_active
        package.save()
        package.offerings.set(offerings)
    return package


def package_set_active(*, package: Package, active: bool) -> Package:
    """Retire a package (it can no longer be granted; passes already granted stay) or bring it back."""
    Package.objects.filter(pk=package.pk).update(is_active=active)
    package.is_active = active
    return package


def pass_expiry(*, package: Package, coach: Coach, now: datetime) -> datetime:
    """When a pass granted now ends: ``validity_days`` from now, or the end of the fixed last
    day in the coach's zone."""
    if package.validity_days or package.valid_until is None:
        return now + timedelta(days=package.validity_days or 0)
    zone = ZoneInfo(coach.time_zone)
    return datetime.combine(package.valid_until + timedelta(days=1), time(0), tzinfo=zone)


# --- Passes and the ledger ---------------------------------------------------------------


def pass_grant(
    *,
    package: Package,
    client_email: str,
    client_name: str,
    actor: str = Actor.COACH,
    reason: str = "",
    now: datetime | None = None,
) -> Pass:
    """Give one client a pass: its client record, the pass and the grant entry, in one transaction."""
    now = now or timezone.now()
    coach = package.coach
    if not package.is_active:
        raise PracticeError("This package is retired; it can no longer be granted.", field="package")
    expires_at = pass_expiry(package=package, coach=coach, now=now)
    if expires_at <= now:
        raise PracticeError("This package's last day has passed.", field="package")
    with transaction.atomic():
        client = client_record(coach_id=coach.pk, email=client_email, name=client_name)
        pass_obj = Pass.objects.create(
            reference=new_pass_reference(),
            key=new_pass_key(),
            coach=coach,
            package=package,
            client=client,
            name=package.name,
            sessions=package.sessions,
            remaining=0,
            expires_at=expires_at,
        )
        entry = _write(pass_obj, Kind.GRANT, package.sessions, actor=actor, reason=reason, now=now)
        # robust: with the broker down the grant still stands; practice.tasks.sweep_pass_emails
        # enqueues the client's email once it is back.
        enqueue_on_commit(tasks.send_pass_granted, entry.pk)
    return pass_obj


def pass_check(*, pass_obj: Pass, offering: Offering, start: datetime) -> None:
    """Raise the PassError that stops ``pass_obj`` from paying for ``offering`` at ``start``.

    Read without a lock (for a clear answer before any work); ``pass_use`` checks again
    under the lock.
    """
    if pass_obj.coach_id != offering.coach_id or not selectors.pass_covers(pass_obj, offering):
        raise PassNotValidHere()
    if start >= pass_obj.expires_at:
        raise PassExpired()
    if pass_obj.remaining <= 0:
        raise PassExhausted()


def pass_use(*, pass_obj: Pass, booking: Any, start: datetime, actor: str, now: datetime) -> PassEntry:
    """Use one credit of ``pass_obj`` for the new ``booking``, inside the booking's transaction.

    The hot path of booking with a pass, so two statements: one conditional UPDATE takes the
    pass's row lock and the credit together (``remaining`` comes back, so ``pass_obj`` holds
    the balance after it), then the ledger entry. No savepoint: any error here rolls the
    whole booking back, which is what must happen anyway.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Pass._meta.db_table} SET remaining = remaining - 1"  # noqa: S608 (our table name)
            " WHERE id = %s AND remaining > 0 AND expires_at > %s RETURNING remaining",
            [pass_obj.pk, start],
        )
        row = cursor.fetchone()
    if row is None:
        # Nothing updated: tell the two reasons apart (the session starts after the end,
        # or the last credit went meanwhile).
        expires_at = Pass.objects.filter(pk=pass_obj.pk).values_list("expires_at", flat=True).first()
        if expires_at is not None and start >= expires_at:
            raise PassExpired()
        raise PassExhausted()
    pass_obj.remaining = row[0]
    entry = PassEntry.objects.create(
        pass_obj=pass_obj, kind=Kind.USE, amount=-1, booking=booking, actor=actor, at=now
    )
    _announce(entry)
    return entry


def credit_settle(
    *,
    pass_id: int,
    booking_id: int,
    outcome: policy.CreditOutcome,
    actor: str,
    reason: str = "",
    now: datetime,
) -> PassEntry | None:
    """Record what a call-off or a no-show does to a booking's credit (inside its transaction).

    Nothing when the credit was already given back (a second settlement can't double it).
    """
    pass_obj = _lock(pass_id)
    if PassEntry.objects.filter(booking_id=booking_id, kind=Kind.RETURN).exists():
        return None
    if outcome.credit == policy.RETURNED:
        return _write(
            pass_obj,
            Kind.RETURN,
            1,
            booking_id=booking_id,
            actor=actor,
            reason=reason,
            late=outcome.late,
            now=now,
        )
    if PassEntry.objects.filter(booking_id=booking_id, kind=Kind.FORFEIT).exists():
        return None
    return _write(pass_obj, Kind.FORFEIT, 0, booking_id=booking_id, actor=actor, reason=reason, now=now)


def credit_return_forfeited(
    *, pass_id: int, booking_id: int, reason: str, now: datetime | None = None
) -> PassEntry:
    """The coach gives back a credit a late cancellation or a no-show forfeited, with a reason."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise PracticeError("Say why the credit is given back: the client sees it.", field="reason")
    with transaction.atomic():
        pass_obj = _lock(pass_id)
        entries = set(PassEntry.objects.filter(booking_id=booking_id).values_list("kind", flat=True))
        if Kind.RETURN in entries:
            raise PracticeError("This session's credit has already been given back.")
        if Kind.FORFEIT not in entries:
            raise PracticeError("Only a forfeited credit can be given back.")
        return _write(
            pass_obj, Kind.RETURN, 1, booking_id=booking_id, actor=Actor.COACH, reason=reason, now=now
        )


def pass_adjust(*, pass_obj: Pass, amount: int, reason: str, now: datetime | None = None) -> PassEntry:
    """The coach adds (or takes away) credits, with a reason; never below zero."""
    now = now or timezone.now()
    reason = reason.strip()
    if amount == 0:
        raise PracticeError("Add or remove at least one session.", field="amount")
    if not reason:
        raise PracticeError("Say why: the client sees it in the pass's history.", field="reason")
    with transaction.atomic():
        locked = _lock(pass_obj.pk)
        if locked.remaining + amount < 0:
            raise PracticeError(
                f"The pass has {locked.remaining} session{'s' if locked.remaining != 1 else ''} left; "
                "you can't remove more than that.",
                field="amount",
            )
        return _write(locked, Kind.ADJUST, amount, actor=Actor.COACH, reason=reason, now=now)


def passes_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire what is left on passes whose validity ended: one ``expire`` entry each.

    Idempotent under crashes and concurrent runs: each pass is locked and re-read, and an
    expired pass has nothing left to expire (a credit given back later expires on the next run).
    """
    now = now or timezone.now()
    expired = 0
    ids = list(
        Pass.objects.filter(expires_at__lte=now, remaining__gt=0)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pass_id in ids:
        with transaction.atomic():
            pass_obj = Pass.objects.select_for_update(skip_locked=True).filter(pk=pass_id).first()
            if pass_obj is None or pass_obj.remaining <= 0 or pass_obj.expires_at > now:
                continue
            _write(pass_obj, Kind.EXPIRE, -pass_obj.remaining, actor=Actor.SYSTEM, now=now)
            expired += 1
    return expired


# --- The client's emails: claimed by a conditional update, so each goes out once ---------


def pass_notice_claim(*, entry_id: int, now: datetime) -> PassEntry | None:
    """Claim the email a grant owes its client; None when it went out (or is going out) already.

    The conditional update makes two workers, a redelivered message or the sweep send it once.
    """
    claimed = PassEntry.objects.filter(pk=entry_id, kind=Kind.GRANT, notified_at__isnull=True).update(
        notified_at=now
    )
    if not claimed:
        return None
    return (
        PassEntry.objects.select_related("pass_obj__coach__user", "pass_obj__client", "pass_obj__package")
        .filter(pk=entry_id)
        .first()
    )


def pass_notice_release(*, entry_id: int) -> None:
    """A claimed grant email was not sent after all: owe it again (the task retries, the sweep too)."""
    PassEntry.objects.filter(pk=entry_id, kind=Kind.GRANT).update(notified_at=None)


def pass_expiry_reminder_claim(*, pass_id: int, days: int, now: datetime) -> Pass | None:
    """Claim a pass's one "ends soon" reminder; None unless it is owed now.

    Owed while sessions are left and the pass ends within ``days``, for passes granted more than
    ``days`` before their end (a short pass was just told its end in the grant email). The
    conditional update of ``expiry_reminder_sent_at`` makes two beats send it once.
    """
    claimed = (
        Pass.objects.filter(pk=pass_id, expiry_reminder_sent_at__isnull=True)
        .filter(reminder_owed(days=days, now=now))
        .update(expiry_reminder_sent_at=now)
    )
    if not claimed:
        return None
    return Pass.objects.select_related("coach__user", "client", "package").filter(pk=pass_id).first()


def pass_expiry_reminder_release(*, pass_id: int) -> None:
    """A claimed reminder was not sent after all: owe it again."""
    Pass.objects.filter(pk=pass_id).update(expiry_reminder_sent_at=None)


def reminder_owed(*, days: int, now: datetime) -> Q:
    """The passes whose "ends soon" reminder is due at ``now`` (sent or not)."""
    window = timedelta(days=days)
    return Q(
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + window,
        created_at__lt=F("expires_at") - window,
    )


# --- Internals -------------------------------------------------------------------------


def _lock(pass_id: int) -> Pass:
    return Pass.objects.select_for_update().get(pk=pass_id)


def _write(
    pass_obj: Pass,
    kind: str,
    amount: int,
    *,
    actor: str,
    now: datetime,
    booking_id: int | None = None,
    reason: str = "",
    late: bool = False,
) -> PassEntry:
    """One ledger entry and the balance moved by its amount (the caller holds the pass's lock)."""
    try:
        with transaction.atomic():
            entry = PassEntry.objects.create(
                pass_obj=pass_obj,
                kind=kind,
                amount=amount,
                booking_id=booking_id,
                actor=actor,
                reason=reason[:300],
                late=late,
                at=now,
            )
            if amount:
                Pass.objects.filter(pk=pass_obj.pk).update(remaining=F("remaining") + amount)
                pass_obj.remaining += amount
    except IntegrityError as exc:
        # The balance check or one-use/one-return per booking: the last line held.
        if kind in (Kind.USE, Kind.ADJUST):
            raise PassExhausted() from exc
        raise
    _announce(entry)
    return entry


def _announce(entry: PassEntry) -> None:
    for listener in _entry_listeners:
        listener(entry)
