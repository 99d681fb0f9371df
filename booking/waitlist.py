"""The waitlist's writes: joining (double opt-in), holding freed times for the line, taking a
held time, letting it go, and the beat's sweep (docs/architecture.md, "The waitlist").

A hold claims the coach's time like a booking does: it is written under the coach's row lock
(``booking.services.lock_coach``, which every booking, move and series takes first) after a
re-check through the same slot engine that counts live holds as busy, so a held time can be
neither booked by someone else nor held twice (on PostgreSQL an exclusion constraint also keeps
live holds apart). Who gets a freed time: the first confirmed entry in line (``confirmed_at``,
then id) whose range has a free start they have not been offered before; each hold has one
offer email (a WaitlistEmail row), so a person gets at most one email per opening. Everything
that must happen later is a row the beat's sweep finds again: expired holds, ranges that passed,
emails whose message was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from booking import tasks
from booking.models import Booking, WaitlistEmail, WaitlistEntry, WaitlistHold
from booking.services import BookingError, SlotUnavailable, booking_create, lock_coach
from booking.slots import offering_free_between
from booking.tokens import new_manage_key, new_waitlist_reference
from coaching.availability import local_day_bounds
from coaching.models import Offering
from common.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

E = WaitlistEntry.Status
H = WaitlistHold.Status
# The longest range one entry may wait for (the coach's horizon may be shorter).
MAX_RANGE_DAYS = 92
# A hold shorter than this is no use to anyone: such a start is not held (it starts too soon).
MIN_HOLD = timedelta(minutes=10)
# A second join with the same address and call within this long sends no second email.
JOIN_QUIET = timedelta(minutes=10)
# Entries looked at per coach and run: the line's head; the next run sees the rest.
MATCH_BATCH = 200


class WaitlistError(BookingError):
    """A join or a take that cannot be done; ``field`` names the input at fault ("" for none)."""

    default_message = "This could not be done."

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SweepResult:
    ended: int
    coaches: list[int]
    emails: list[int]


def entry_range(time_zone: str, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The instants of the days ``date_from``..``date_to`` (inclusive) in ``time_zone``."""
    zone = ZoneInfo(time_zone)
    return local_day_bounds(zone, date_from)[0], local_day_bounds(zone, date_to)[1]


def join_problem(
    *, offering: Offering, time_zone: str, date_from: date, date_to: date, now: datetime
) -> tuple[str, str] | None:
    """Why these dates cannot go on the list, as ``(field, message)``; None if they can."""
    if not offering.is_active:
        return "offering", "This call is not open for booking at the moment."
    if offering.package_only:
        return "offering", "This call is booked with a package: ask the coach for one."
    if date_to < date_from:
        return "to", "The last day must be on or after the first day."
    today = now.astimezone(ZoneInfo(time_zone)).date()
    if date_to < today:
        return "to", "These dates have passed. Choose days from today on."
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        return "to", f"Choose at most {MAX_RANGE_DAYS} days."
    last_bookable = today + timedelta(days=offering.horizon_days)
    if date_from > last_bookable:
        return (
            "from",
            f"{offering.coach.display_name} takes bookings up to {offering.horizon_days} days ahead.",
        )
    return None


def waitlist_join(
    *,
    offering: Offering,
    name: str,
    email: str,
    time_zone: str,
    date_from: date,
    date_to: date,
    locale: str = "",
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put someone on the list, unconfirmed, and send them one "please confirm" email.

    The answer is the same whether or not the address was on the list already, so nobody
    learns who waits for whom; a repeat within ``JOIN_QUIET`` changes nothing and sends nothing
    (so nobody can rewrite another person's request either).
    """
    now = now or timezone.now()
    problem = join_problem(
        offering=offering, time_zone=time_zone, date_from=date_from, date_to=date_to, now=now
    )
    if problem is not None:
        raise WaitlistError(problem[1], field=problem[0])
    range_start, range_end = entry_range(time_zone, date_from, date_to)
    fields: dict[str, Any] = {
        "name": name,
        "time_zone": time_zone,
        "locale": locale[:35],
        "date_from": date_from,
        "date_to": date_to,
        "range_start": range_start,
        "range_end": range_end,
    }
    with transaction.atomic():
        recent = (
            WaitlistEntry.objects.filter(
                offering=offering, email__iexact=email, status=E.UNCONFIRMED, created_at__gte=now - JOIN_QUIET
            )
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            return recent
        entry = WaitlistEntry.objects.create(
            reference=new_waitlist_reference(),
            coach_id=offering.coach_id,
            offering=offering,
            email=email,
            manage_key=new_manage_key(),
            **fields,
        )
        _owe_email(entry, WaitlistEmail.Kind.CONFIRM)
    logger.info("waitlist %s (coach %s): joined, confirmation owed", entry.reference, entry.coach_id)
    return entry


def waitlist_confirm(*, entry: WaitlistEntry, now: datetime | None = None) -> str:
    """The owner confirmed: the entry joins the line. ``"confirmed"``, ``"already"`` or ``"ended"``.

    Their older entries for the same call end (the new dates replace them) and the line is
    offered what is free.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lock_coach(entry.coach_id)
        # Times already free in the days are the client's to book, not openings to hold for them
        # (holding them would hide free time): only what frees up from now on is offered.
        entry.offering.coach = entry.coach
        free = offering_free_between(
            offering=entry.offering, start=entry.range_start, end=entry.range_end, now=now
        )
        if not WaitlistEntry.objects.filter(pk=entry.pk, status=E.UNCONFIRMED).update(
            status=E.WAITING, confirmed_at=now, free_when_confirmed=[s.isoformat() for s in free]
        ):
            entry.refresh_from_db()
            return "already" if entry.status == E.WAITING else "ended"
        older = WaitlistEntry.objects.filter(
            offering_id=entry.offering_id, email__iexact=entry.email, status__in=WaitlistEntry.OPEN_STATUSES
        ).exclude(pk=entry.pk)
        _end_entries(older, status=E.LEFT, now=now)
        enqueue_on_commit(tasks.waitlist_match, entry.coach_id)
    entry.refresh_from_db()
    logger.info("waitlist %s: confirmed", entry.reference)
    return "confirmed"


def waitlist_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> bool:
    """Take the entry off the list; a time held for it passes on. False if it had ended already."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_coach(entry.coach_id)
        left = _end_entries(WaitlistEntry.objects.filter(pk=entry.pk), status=E.LEFT, now=now)
    entry.refresh_from_db()
    if left:
        logger.info("waitlist %s: left", entry.reference)
    return bool(left)


def waitlist_release(*, entry: WaitlistEntry, hold_id: int, now: datetime | None = None) -> bool:
    """The holder does not want the held time: it passes on now; they stay on the list."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_coach(entry.coach_id)
        released = WaitlistHold.objects.filter(pk=hold_id, entry_id=entry.pk, status=H.HELD).update(
            status=H.RELEASED, ended_at=now
        )
        if released:
            _skip_offer_emails([hold_id])
            enqueue_on_commit(tasks.waitlist_match, entry.coach_id)
    return bool(released)


def waitlist_take(
    *, entry: WaitlistEntry, hold_id: int, answers: dict[str, Any] | None = None, now: datetime | None = None
) -> Booking:
    """Book the held time for the holder. A hold that lapsed still books if the time is free;
    taken already (a second click) answers the same booking. Raises SlotUnavailable when the
    time went to someone else, WaitlistError when the hold is not this entry's."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_coach(entry.coach_id)
        hold = (
            WaitlistHold.objects.select_for_update()
            .select_related("offering__coach")
            .filter(pk=hold_id, entry_id=entry.pk)
            .first()
        )
        if hold is None:
            raise WaitlistError("This time is not held for you.")
        if hold.status == H.TAKEN and hold.booking_id is not None:
            return Booking.objects.select_related("coach__user", "offering").get(pk=hold.booking_id)
        if WaitlistEntry.objects.filter(pk=entry.pk).values_list("status", flat=True).first() != E.WAITING:
            raise WaitlistError("This waitlist entry has ended, so it holds no time any more.")
        if hold.status == H.RELEASED:
            raise WaitlistError("You passed this time on. You're still on the list for another.")
        # A hold that lapsed still books if nobody took the time meanwhile.
        live = hold.status == H.HELD and hold.expires_at > now
        created = booking_create(
            offering=hold.offering,
            start=hold.start,
            client_name=entry.name,
            client_email=entry.email,
            client_time_zone=entry.time_zone,
            client_locale=entry.locale,
            answers=answers,
            hold_id=hold.pk if live else None,
            now=now,
        )
        WaitlistHold.objects.filter(pk=hold.pk).update(status=H.TAKEN, booking=created.booking, ended_at=now)
        _skip_offer_emails([hold.pk])
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=E.BOOKED, ended_at=now)
    logger.info("waitlist %s: took hold %s as %s", entry.reference, hold.pk, created.booking.reference)
    return created.booking


def waitlist_match(*, coach_id: int, now: datetime | None = None) -> list[WaitlistHold]:
    """Hold free times of the coach for the line, first in line first; the new holds.

    Under the coach's lock: expired holds lapse first (their time is free again, and goes to the
    next in line), then each waiting entry without a live hold gets the earliest free start in
    its range it was never offered. A hold's one email is enqueued on commit.
    """
    now = now or timezone.now()
    made: list[WaitlistHold] = []
    if not (
        WaitlistEntry.objects.filter(coach_id=coach_id, status=E.WAITING).exists()
        or WaitlistHold.objects.filter(coach_id=coach_id, status=H.HELD, expires_at__lte=now).exists()
    ):
        return made  # no line, nothing to lapse: no lock taken
    with transaction.atomic():
        lock_coach(coach_id)
        _lapse(WaitlistHold.objects.filter(coach_id=coach_id), now=now)
        live = WaitlistHold.objects.filter(entry_id=OuterRef("pk"), status=H.HELD)
        entries = list(
            WaitlistEntry.objects.filter(coach_id=coach_id, status=E.WAITING, range_end__gt=now)
            .exclude(Exists(live))
            .select_related("offering__coach")
            .order_by("confirmed_at", "id")[:MATCH_BATCH]
        )
        if not entries:
            return made
        offered: dict[int, set[datetime]] = {entry.pk: set() for entry in entries}
        for entry_id, start in WaitlistHold.objects.filter(entry_id__in=offered).values_list(
            "entry_id", "start"
        ):
            offered[entry_id].add(start)
        minutes = settings.WAITLIST_HOLD_MINUTES
        for entry in entries:
            offering = entry.offering
            if not offering.is_active or offering.package_only:
                continue
            free = offering_free_between(
                offering=offering, start=entry.range_start, end=entry.range_end, now=now
            )
            # A start free since the entry was confirmed is no opening; once it is taken it drops
            # off the list, so when it frees up again it is one.
            was_free = {datetime.fromisoformat(value) for value in entry.free_when_confirmed}
            still_free = was_free.intersection(free)
            if still_free != was_free:
                entry.free_when_confirmed = sorted(s.isoformat() for s in still_free)
                entry.save(update_fields=["free_when_confirmed"])
            # The hold ends when the booking's notice would close the time anyway.
            notice = timedelta(minutes=offering.min_notice_minutes)
            start = next(
                (
                    s
                    for s in free
                    if s not in offered[entry.pk] and s not in still_free and s - notice - now >= MIN_HOLD
                ),
                None,
            )
            if start is None:
                continue
            end = start + offering.duration
            hold = WaitlistHold.objects.create(
                entry=entry,
                coach_id=coach_id,
                offering=offering,
                start=start,
                end=end,
                blocked_start=start - timedelta(minutes=offering.buffer_before_minutes),
                blocked_end=end + timedelta(minutes=offering.buffer_after_minutes),
                expires_at=min(now + timedelta(minutes=minutes), start - notice),
            )
            _owe_email(entry, WaitlistEmail.Kind.OFFER, hold=hold)
            made.append(hold)
    for hold in made:
        logger.info("waitlist %s: hold %s (coach %s)", hold.entry.reference, hold.pk, coach_id)
    return made


def waitlist_sweep(*, now: datetime | None = None) -> SweepResult:
    """The beat's minute: end entries whose days passed (each coach under its lock), and name the
    coaches with expired holds (to lapse and pass on) and the emails whose message was lost or
    whose retry is overdue; the task enqueues both."""
    now = now or timezone.now()
    ended = 0
    passed = WaitlistEntry.objects.filter(status__in=WaitlistEntry.OPEN_STATUSES, range_end__lte=now)
    for coach_id in set(passed.order_by().values_list("coach_id", flat=True).distinct()):
        with transaction.atomic():
            lock_coach(coach_id)
            ended += _end_entries(passed.filter(coach_id=coach_id), status=E.ENDED, now=now, rematch=False)
    expired = set(
        WaitlistHold.objects.filter(status=H.HELD, expires_at__lte=now)
        .order_by()
        .values_list("coach_id", flat=True)
        .distinct()
    )
    # As booking emails: never attempted for a while, or a retry long overdue (a retry waiting for
    # its countdown is not lost, and must not get a second chain of retries).
    overdue = now - tasks.SWEEP_GRACE - timedelta(seconds=settings.EMAIL_RETRY_MAX_SECONDS)
    lost = list(
        WaitlistEmail.objects.filter(status=WaitlistEmail.Status.PENDING)
        .filter(
            Q(attempts=0, created_at__lt=now - tasks.SWEEP_GRACE)
            | Q(attempts__gt=0, last_attempt_at__lt=overdue)
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by()
        .values_list("pk", flat=True)[:1000]
    )
    return SweepResult(ended=ended, coaches=sorted(expired), emails=lost)


def waiting_coaches(*, now: datetime | None = None) -> list[int]:
    """Every coach with someone in line: the catch-all rematch (changes no event announced)."""
    now = now or timezone.now()
    return sorted(
        set(
            WaitlistEntry.objects.filter(status=E.WAITING, range_end__gt=now)
            .order_by()
            .values_list("coach_id", flat=True)
            .distinct()
        )
    )


def waitlist_availability_changed(coach_id: int) -> None:
    """Coaching's hours, overrides or busy calendars changed (inside that transaction): the line
    is offered what is free once it commits."""
    enqueue_on_commit(tasks.waitlist_match, coach_id)


def _owe_email(entry: WaitlistEntry, kind: str, *, hold: WaitlistHold | None = None) -> None:
    email = WaitlistEmail.objects.create(entry=entry, hold=hold, kind=kind)
    enqueue_on_commit(tasks.send_waitlist_email, email.pk)


def _skip_offer_emails(hold_ids: list[int]) -> None:
    """An offer not sent yet is not needed once its hold ended (the time is gone or passed on)."""
    WaitlistEmail.objects.filter(
        hold_id__in=hold_ids, status=WaitlistEmail.Status.PENDING, attempts=0
    ).update(status=WaitlistEmail.Status.SKIPPED)


def _lapse(holds: Any, *, now: datetime) -> list[int]:
    """Expired live holds among ``holds`` lapse (their entries stay in line for another time)."""
    expired = list(holds.filter(status=H.HELD, expires_at__lte=now).values_list("pk", "entry_id"))
    if not expired:
        return []
    ids = [pk for pk, _ in expired]
    WaitlistHold.objects.filter(pk__in=ids, status=H.HELD).update(status=H.LAPSED, ended_at=now)
    _skip_offer_emails(ids)
    return ids


def _end_entries(entries: Any, *, status: str, now: datetime, rematch: bool = True) -> int:
    """End the open ``entries``; their live holds are let go and, with ``rematch``, the coaches'
    lines offered the freed time."""
    ids = list(entries.filter(status__in=WaitlistEntry.OPEN_STATUSES).values_list("pk", flat=True))
    if not ids:
        return 0
    WaitlistEntry.objects.filter(pk__in=ids, status__in=WaitlistEntry.OPEN_STATUSES).update(
        status=status, ended_at=now
    )
    held = list(WaitlistHold.objects.filter(entry_id__in=ids, status=H.HELD).values_list("pk", "coach_id"))
    if held:
        WaitlistHold.objects.filter(pk__in=[pk for pk, _ in held]).update(status=H.RELEASED, ended_at=now)
        _skip_offer_emails([pk for pk, _ in held])
        if rematch:
            for coach_id in {coach_id for _, coach_id in held}:
                enqueue_on_commit(tasks.waitlist_match, coach_id)
    WaitlistEmail.objects.filter(
        entry_id__in=ids, kind=WaitlistEmail.Kind.CONFIRM, status=WaitlistEmail.Status.PENDING, attempts=0
    ).update(status=WaitlistEmail.Status.SKIPPED)
    return len(ids)


__all__ = [
    "MAX_RANGE_DAYS",
    "SlotUnavailable",
    "SweepResult",
    "WaitlistError",
    "entry_range",
    "join_problem",
    "waiting_coaches",
    "waitlist_availability_changed",
    "waitlist_confirm",
    "waitlist_email_retry",
    "waitlist_remove",
    "waitlist_entries_export",
    "waitlist_entries_forget",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_match",
    "waitlist_release",
    "waitlist_sweep",
    "waitlist_take",
]


def waitlist_entries_export(user: Any, emails: list[str]) -> list[dict[str, Any]]:
    """The person's waitlist entries (by any of their addresses), for "download my data"."""
    entries = (
        WaitlistEntry.objects.filter(_email_in(emails))
        .select_related("coach", "offering")
        .order_by("created_at")
    )
    return [
        {
            "reference": e.reference,
            "coach": e.coach.display_name,
            "offering": e.offering.title,
            "name": e.name,
            "email": e.email,
            "time_zone": e.time_zone,
            "from": e.date_from.isoformat(),
            "to": e.date_to.isoformat(),
            "status": e.status,
            "created_at": e.created_at.isoformat(),
            "holds": [
                {"start": h.start.isoformat(), "status": h.status, "until": h.expires_at.isoformat()}
                for h in e.holds.order_by("created_at")
            ],
        }
        for e in entries
    ]


def waitlist_entries_forget(user: Any, emails: list[str], now: datetime) -> int:
    """Account deletion: the person's entries go (their holds pass on); the coach keeps nothing of them."""
    with transaction.atomic():
        entries = WaitlistEntry.objects.filter(_email_in(emails))
        coaches = set(
            WaitlistHold.objects.filter(entry__in=entries, status=H.HELD).values_list("coach_id", flat=True)
        )
        deleted = entries.count()
        entries.delete()
        for coach_id in coaches:
            enqueue_on_commit(tasks.waitlist_match, coach_id)
    return deleted


def _email_in(emails: list[str]) -> Q:
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(email__iexact=email)
    return query


def waitlist_remove(*, entry: WaitlistEntry, now: datetime | None = None) -> bool:
    """The coach takes someone off the line (a time held for them passes on)."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_coach(entry.coach_id)
        removed = _end_entries(WaitlistEntry.objects.filter(pk=entry.pk), status=E.LEFT, now=now)
    if removed:
        logger.info("waitlist %s: removed by the coach", entry.reference)
    return bool(removed)


def waitlist_email_retry(*, email: WaitlistEmail) -> bool:
    """Send a failed waitlist email again (a fresh round of retries); False if it is not failed.
    An offer whose hold has ended is not sent: the send task skips it."""
    with transaction.atomic():
        retried = WaitlistEmail.objects.filter(pk=email.pk, status=WaitlistEmail.Status.FAILED).update(
            status=WaitlistEmail.Status.PENDING, locked_until=None, attempts=0
        )
        if retried:
            enqueue_on_commit(tasks.send_waitlist_email, email.pk)
    return bool(retried)
