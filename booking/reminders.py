"""When a booking's reminders and its follow-up are due, and whether one may still go out.

Pure functions over plain values (no ORM, no clock): booking/services.py feeds them the
offering's settings, the booking's times and ``now`` and writes the rows; booking/tasks.py
asks ``send_problem`` before each email. The rules: docs/architecture.md, "Reminders".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from coaching.models import DEFAULT_REMINDER_OFFSETS

CLIENT = "client"
COACH = "coach"
RECIPIENTS = (CLIENT, COACH)

# Minutes before the start, per recipient, when the offering says nothing.
# The offsets used when an offering sets none (an offering setting, so coaching holds it).
DEFAULT_OFFSETS = DEFAULT_REMINDER_OFFSETS
# The coach dashboard accepts 1 minute to 30 days; hand-edited values outside are ignored.
MAX_OFFSET_MINUTES = 30 * 24 * 60

FOLLOW_UP = "follow-up"
FOLLOW_UP_AFTER = timedelta(hours=1)
_BEFORE = "before-"

# What a row's status is called in booking.models.Reminder.Status (kept as plain
# strings here so that this module needs no models).
SCHEDULED = "scheduled"
SENDING = "sending"
SENT = "sent"
CANCELLED = "cancelled"
FAILED = "failed"

CONFIRMED = "confirmed"
COMPLETED = "completed"


def before_kind(minutes: int) -> str:
    """The kind of the reminder ``minutes`` before the start: ``before-1440``."""
    return f"{_BEFORE}{minutes}"


def minutes_before(kind: str) -> int | None:
    """1440 for ``before-1440``; None for the follow-up or anything else."""
    if not kind.startswith(_BEFORE):
        return None
    digits = kind.removeprefix(_BEFORE)
    return int(digits) if digits.isdigit() else None


def offsets_for(reminder_offsets: object) -> dict[str, tuple[int, ...]]:
    """The offering's ``reminder_offsets`` read safely, defaults filled in, latest last.

    ``{}`` -> the defaults; ``{"client": [60], "coach": []}`` -> a client reminder an
    hour before and none for the coach. Values that are not whole minutes between 1
    and 30 days are ignored (the dashboard never writes them; admin might).
    """
    given: Mapping[object, object] = reminder_offsets if isinstance(reminder_offsets, Mapping) else {}
    offsets: dict[str, tuple[int, ...]] = {}
    for recipient in RECIPIENTS:
        raw = given.get(recipient)
        if raw is None:
            offsets[recipient] = DEFAULT_OFFSETS[recipient]
            continue
        values = raw if isinstance(raw, list | tuple) else []
        minutes = {
            value
            for value in values
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_OFFSET_MINUTES
        }
        offsets[recipient] = tuple(sorted(minutes, reverse=True))
    return offsets


@dataclass(frozen=True)
class Planned:
    """A reminder a booking should have: to whom, which, and when."""

    recipient: str
    kind: str
    due_at: datetime


def plan_reminders(
    *,
    offsets: Mapping[str, Iterable[int]],
    follow_up: bool,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Planned]:
    """The reminders a confirmed call from ``start`` to ``end`` gets when planned at ``now``.

    Only those still ahead (``due_at > now``), soonest first. Due times are UTC:
    subtracting in a local zone would count wall-clock hours, not real ones.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    planned = [
        Planned(recipient, before_kind(minutes), start - timedelta(minutes=minutes))
        for recipient in RECIPIENTS
        for minutes in sorted(set(offsets.get(recipient, ())), reverse=True)
    ]
    if follow_up:
        planned.append(Planned(CLIENT, FOLLOW_UP, end + FOLLOW_UP_AFTER))
    return sorted(
        (p for p in planned if p.due_at > now), key=lambda p: (p.due_at, RECIPIENTS.index(p.recipient))
    )


@dataclass(frozen=True)
class Existing:
    """A reminder row as ``reconcile`` needs it."""

    id: int
    recipient: str
    kind: str
    status: str


@dataclass(frozen=True)
class Changes:
    """What to write so that a booking's rows match a new plan (see the module's decisions)."""

    create: list[Planned] = field(default_factory=list)
    # Still scheduled: only the due time changes.
    move: list[tuple[int, datetime]] = field(default_factory=list)
    # Had left "scheduled": scheduled again at this time, next generation.
    rearm: list[tuple[int, datetime]] = field(default_factory=list)
    cancel: list[int] = field(default_factory=list)


def reconcile(existing: Iterable[Existing], planned: Iterable[Planned]) -> Changes:
    """Match a booking's rows to the plan for its new time, by recipient and kind."""
    wanted = {(p.recipient, p.kind): p for p in planned}
    changes = Changes()
    seen: set[tuple[str, str]] = set()
    for row in existing:
        key = (row.recipient, row.kind)
        seen.add(key)
        plan = wanted.get(key)
        if plan is None:
            # Its new time has passed, or the offering no longer has it.
            if row.status in (SCHEDULED, SENDING):
                changes.cancel.append(row.id)
        elif row.status == SCHEDULED:
            changes.move.append((row.id, plan.due_at))
        else:
            changes.rearm.append((row.id, plan.due_at))
    changes.create.extend(p for key, p in wanted.items() if key not in seen)
    return changes


def send_problem(
    *,
    kind: str,
    recipient: str,
    booking_status: str,
    start: datetime,
    follow_up_enabled: bool,
    client_gone: bool,
    now: datetime,
) -> tuple[str, str] | None:
    """Why this reminder must not be sent now, as ``(new status, reason)``; None to send it.

    Asked just before sending, because a booking can change between the claim and the
    send. The reason is shown to the coach: it names no person.
    """
    if recipient == CLIENT and client_gone:
        return CANCELLED, "The client closed their account."
    if kind == FOLLOW_UP:
        if booking_status not in (CONFIRMED, COMPLETED):
            return CANCELLED, "No follow-up: the call did not take place."
        if not follow_up_enabled:
            return CANCELLED, "Follow-up emails are turned off for this offering."
        return None
    if booking_status != CONFIRMED:
        return CANCELLED, "The booking is no longer confirmed."
    if now >= start:
        return FAILED, "Not sent before the call started."
    return None


def describe_lead(delta: timedelta) -> str:
    """How far off the call is, as the email says it: ``in 24 hours``, ``in 1 hour 25 minutes``, ``in 30 minutes``.

    From the moment of sending; hours are rounded to 5 minutes, so a reminder sent a
    few seconds (or a beat tick) after its minute still says "in 24 hours".
    """
    minutes = max(round(delta.total_seconds() / 60), 1)
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    if minutes < 48 * 60:
        hours, rest = divmod(5 * round(minutes / 5), 60)
        text = f"in {hours} hour{'s' if hours != 1 else ''}"
        return f"{text} {rest} minutes" if rest else text
    days = round(minutes / (24 * 60))
    return f"in {days} days"


def describe_kind(kind: str) -> str:
    """How the dashboard names a reminder: ``24 hours before``, ``Follow-up``."""
    if kind == FOLLOW_UP:
        return "Follow-up after the call"
    minutes = minutes_before(kind)
    if minutes is None:
        return kind
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        amount = f"{days} day{'s' if days != 1 else ''}"
        if days == 1:
            amount = "24 hours"
    elif minutes % 60 == 0:
        hours = minutes // 60
        amount = f"{hours} hour{'s' if hours != 1 else ''}"
    else:
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{amount} before"
