"""Reads for booking pages: a client's own bookings and a coach's own bookings.

Every function takes the person whose rows it reads, so a view can never reach
someone else's bookings through these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce, Lower, RowNumber

from accounts.models import User
from booking import invites
from booking.models import (
    Booking,
    BookingEvent,
    EmailDelivery,
    Reminder,
    WaitlistEmail,
    WaitlistEntry,
    WaitlistHold,
    WebhookDelivery,
    WebhookEndpoint,
)
from coaching.models import BusyBlock, Coach
from common.shortcuts import is_slug
from practice.models import Client, Pass

# The coach dashboard's "when" filter.
WHEN_UPCOMING = "upcoming"
WHEN_PAST = "past"
WHEN_ALL = "all"
WHEN_CHOICES = ((WHEN_UPCOMING, "Upcoming"), (WHEN_PAST, "Past"), (WHEN_ALL, "All"))
# Statuses that no longer hold time: the calendar and the upcoming list leave them out.
CALENDAR_HIDDEN_STATUSES = (Booking.Status.CANCELLED, Booking.Status.DECLINED)
# The longest search term the bookings list uses (a name or an email address).
SEARCH_MAX_LENGTH = 100
# How far back feeds reach, and how long a cancellation stays in them.
FEED_PAST = timedelta(days=30)
FAILED_EMAILS_SHOWN = 50
# What a feed's events show that is not the booking's own (``updated_at`` covers those): the
# offering's and the coach's fields that booking/invites.py renders into SUMMARY, DESCRIPTION,
# LOCATION and URL. Changing any of them must change the feed's ETag.
FEED_SHOWN_FIELDS = (
    "offering_id",
    "offering__title",
    "offering__location_kind",
    "offering__location_details",
    "offering__phone_caller",
    "offering__duration_minutes",
    "coach_id",
    "coach__display_name",
    "coach__default_meeting_url",
)


def client_bookings(*, user: User, now: datetime, upcoming: bool) -> QuerySet[Booking]:
    """The user's bookings (linked through ``client``): upcoming soonest first, past latest first.

    A call is upcoming until it ends, so one in progress still shows its link.
    """
    qs = Booking.objects.filter(client=user).select_related("coach", "offering")
    if upcoming:
        return qs.filter(end__gt=now).order_by("start", "pk")
    return qs.filter(end__lte=now).order_by("-start", "-pk")


def coach_bookings(
    *,
    coach: Coach,
    now: datetime,
    when: str = WHEN_UPCOMING,
    status: str = "",
    offering_id: int | None = None,
    q: str = "",
) -> QuerySet[Booking]:
    """The coach's bookings, filtered; upcoming soonest first, otherwise latest first.

    ``q`` finds the client by a part of their name or email, in any case. Upcoming calls leave
    out cancelled and declined ones unless ``status`` asks for exactly those.
    """
    qs = Booking.objects.filter(coach=coach).select_related("offering", "series")
    if status:
        qs = qs.filter(status=status)
    if offering_id is not None:
        qs = qs.filter(offering_id=offering_id)
    if q:
        # icontains: UPPER(...) LIKE on PostgreSQL, LIKE (case-blind for ASCII) on SQLite; Django
        # escapes % and _ in the term.
        qs = qs.filter(Q(client_name__icontains=q) | Q(client_email__icontains=q))
    if when == WHEN_UPCOMING:
        if not status:
            qs = qs.exclude(status__in=CALENDAR_HIDDEN_STATUSES)
        return qs.filter(end__gt=now).order_by("start", "pk")
    if when == WHEN_PAST:
        qs = qs.filter(end__lte=now)
    return qs.order_by("-start", "-pk")


def with_credits(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """``bookings`` with their pass and ledger entries read along (booking.credits.credit_state):
    one more query for the whole page, whatever its length."""
    return bookings.select_related("client_pass").prefetch_related("pass_entries")


def coach_pending_bookings(*, coach: Coach, now: datetime) -> QuerySet[Booking]:
    """Bookings waiting for the coach's answer that can still be approved."""
    return (
        Booking.objects.filter(coach=coach, status=Booking.Status.PENDING, start__gt=now)
        .select_related("offering")
        .order_by("start", "pk")
    )


def coach_booking_get(*, coach: Coach, reference: str) -> Booking | None:
    """One of the coach's bookings by reference; None for anyone else's."""
    return (
        Booking.objects.filter(coach=coach, reference=reference)
        .select_related("offering", "client_pass", "series")
        .first()
    )


def booking_history(*, booking: Booking) -> QuerySet[BookingEvent]:
    return BookingEvent.objects.filter(booking=booking).order_by("at", "pk")


def booking_reminders(*, booking: Booking) -> QuerySet[Reminder]:
    return Reminder.objects.filter(booking=booking).order_by("due_at", "pk")


def coach_failed_email_count(*, coach: Coach) -> int:
    return EmailDelivery.objects.filter(booking__coach=coach, status=EmailDelivery.Status.FAILED).count()


def coach_failed_emails(*, coach: Coach, limit: int = FAILED_EMAILS_SHOWN) -> list[EmailDelivery]:
    """The latest emails about the coach's bookings that could not be sent."""
    return list(
        EmailDelivery.objects.filter(booking__coach=coach, status=EmailDelivery.Status.FAILED)
        .select_related("booking")
        .order_by("-last_attempt_at", "-pk")[:limit]
    )


def coach_failed_email_get(*, coach: Coach, pk: int) -> EmailDelivery | None:
    return (
        EmailDelivery.objects.filter(pk=pk, booking__coach=coach, status=EmailDelivery.Status.FAILED)
        .select_related("booking")
        .first()
    )


def feed_bookings(
    *, now: datetime, coach: Coach | None = None, client: User | None = None
) -> QuerySet[Booking]:
    """The bookings of the coach's (or the client's) feed: not over for more than 30 days, or
    cancelled in the last 30 days."""
    since = now - FEED_PAST
    cancelled = invites.CANCELLED_STATUSES
    bookings = (
        Booking.objects.filter(coach=coach) if coach is not None else Booking.objects.filter(client=client)
    )
    return bookings.filter(
        (Q(end__gte=since) & ~Q(status__in=cancelled)) | Q(status__in=cancelled, updated_at__gte=since)
    )


def feed_stats(bookings: QuerySet[Booking]) -> dict[str, Any]:
    """A feed's validators, in one query: ``count``, the ``latest`` change, the sum of ``sequences``,
    and ``shown``, a digest of the offering and coach fields its events show.

    Grouped by those fields, so there is a row per offering in the feed, not per booking.
    """
    groups = (
        bookings.order_by()
        .values(*FEED_SHOWN_FIELDS)
        .annotate(count=Count("pk"), latest=Max("updated_at"), sequences=Sum("sequence"))
    )
    count = sequences = 0
    latest: datetime | None = None
    shown: list[tuple[Any, ...]] = []
    for group in groups:
        count += group["count"]
        sequences += group["sequences"] or 0
        if group["latest"] is not None and (latest is None or group["latest"] > latest):
            latest = group["latest"]
        shown.append(tuple(group[field] for field in FEED_SHOWN_FIELDS))
    digest = hashlib.sha256(repr(sorted(shown, key=repr)).encode()).hexdigest()
    return {"count": count, "latest": latest, "sequences": sequences, "shown": digest}


def feed_rows(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """A feed's bookings in order, with what their events show: one query."""
    return bookings.select_related("offering", "coach", "series").order_by("start", "pk")


# ---------------------------------------------------------------------------
# The coach's agenda, week calendar and the pending count of the navigation
# ---------------------------------------------------------------------------
def coach_calls_between(*, coach: Coach, start: datetime, end: datetime) -> list[Booking]:
    """The coach's pending and confirmed calls overlapping ``[start, end)``, soonest first: one query.

    ``coach`` is set on each row from the argument (no join), so booking/invites.py can read
    the meeting link.
    """
    rows = list(
        Booking.objects.filter(coach=coach, status__in=Booking.ACTIVE_STATUSES, start__lt=end, end__gt=start)
        # Implied by end > start (blocked_end >= end), but it lets the planner use the
        # ``booking_coach_blocked`` b-tree rather than the no-overlap GiST index.
        .filter(blocked_end__gt=start)
        .select_related("offering")
        .order_by("start", "pk")
    )
    for booking in rows:
        booking.coach = coach
    return rows


def coach_calls_needing_outcome(*, coach: Coach, now: datetime, limit: int) -> list[Booking]:
    """Confirmed calls that have ended without being marked completed or no-show, latest first.

    At most ``limit`` rows (one query); a caller asks for one more to know whether there are more.
    """
    return list(
        # start < now is implied by end <= now; it bounds the walk of the ``booking_confirmed`` index.
        Booking.objects.filter(coach=coach, status=Booking.Status.CONFIRMED, end__lte=now, start__lt=now)
        .select_related("offering")
        .order_by("-start", "-pk")[:limit]
    )


def coach_calendar_bookings(*, coach: Coach, start: datetime, end: datetime) -> list[Booking]:
    """The coach's bookings overlapping ``[start, end)`` that still hold or held time (not cancelled
    or declined), soonest first: one query (``blocked_end > start`` as in coach_calls_between)."""
    return list(
        Booking.objects.filter(coach=coach, start__lt=end, end__gt=start, blocked_end__gt=start)
        .exclude(status__in=CALENDAR_HIDDEN_STATUSES)
        .select_related("offering")
        .order_by("start", "pk")
    )


def coach_busy_between(
    *, coach: Coach, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """Busy time from the coach's connected calendars overlapping ``[start, end)``:
    ``(start, end, calendar name)`` rows, soonest first, in one query. The events' own text is
    not read: the calendar shows that the time is taken, not what the coach does then."""
    return [
        (block_start, block_end, name or "")
        for block_start, block_end, name in BusyBlock.objects.filter(
            coach=coach, start__lt=end, end__gt=start
        )
        .order_by("start", "end", "pk")
        .values_list("start", "end", "calendar__name")
    ]


def pending_approval_count(*, user_id: int, now: datetime) -> int:
    """How many of the bookings of ``user_id``'s coach profile wait for approval (0 without one).

    One query through the coach's user, so the navigation needs no extra query for the coach.
    """
    return Booking.objects.filter(
        coach__user_id=user_id, status=Booking.Status.PENDING, start__gt=now
    ).count()


def coach_clients(*, coach: Coach, now: datetime) -> QuerySet[Booking]:
    """The coach's clients, one row per email address (case-insensitive), in one query.

    Each row is the client's latest booking (its name and email address), annotated with
    ``bookings``, ``upcoming``, ``last_call`` and ``next_call`` over all of that address's
    bookings; ordered by the address so that pages are stable. Window functions, not GROUP
    BY: the latest name comes with the row instead of a subquery per client.
    """
    S = Booking.Status
    upcoming = Q(status__in=Booking.ACTIVE_STATUSES, start__gt=now)
    held = Q(start__lte=now) & ~Q(status__in=(S.CANCELLED, S.DECLINED))

    def per_client(expression: Any) -> Window:
        return Window(expression, partition_by=[Lower("client_email")])

    return (
        Booking.objects.filter(coach=coach)
        .annotate(
            email_key=Lower("client_email"),
            newest=Window(
                RowNumber(),
                partition_by=[Lower("client_email")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            ),
            bookings=per_client(Count("pk")),
            upcoming=per_client(Count("pk", filter=upcoming)),
            last_call=per_client(Max("start", filter=held)),
            next_call=per_client(Min("start", filter=upcoming)),
        )
        .filter(newest=1)
        .order_by("email_key", "pk")
        .values("client_name", "client_email", "bookings", "upcoming", "last_call", "next_call")
    )


def coach_webhook_endpoints(*, coach: Coach) -> QuerySet[WebhookEndpoint]:
    """The coach's webhook endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(coach=coach).order_by("created_at", "pk")


def coach_webhook_endpoint_get(*, coach: Coach, pk: int) -> WebhookEndpoint | None:
    """One of the coach's endpoints (None for another coach's: a 404, never a 403)."""
    return WebhookEndpoint.objects.filter(coach=coach, pk=pk).first()


def webhook_deliveries(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their booking's reference in the same query."""
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("booking").order_by("-pk")
    return qs.filter(status=status) if status else qs


def webhook_delivery_get(*, endpoint: WebhookEndpoint, pk: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(endpoint=endpoint, pk=pk).select_related("booking").first()


def webhook_last_deliveries(*, endpoints: list[WebhookEndpoint]) -> dict[int, WebhookDelivery]:
    """Each endpoint's newest delivery by endpoint id (none yet: absent), in one query whatever
    the number of endpoints; the bodies are left out (the dashboard's list shows the status)."""
    if not endpoints:
        return {}
    newest = WebhookDelivery.objects.filter(endpoint_id=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    ids = WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).values(newest_id=Subquery(newest))
    rows = WebhookDelivery.objects.filter(pk__in=ids).defer("payload")
    return {delivery.endpoint_id: delivery for delivery in rows}


# --- The coach's client pages (booking/views/clients.py): practice's client records with
# their bookings ---------------------------------------------------------------------------
CLIENT_SORT_NAME = "name"
CLIENT_SORT_LAST = "last"
CLIENT_SORT_MOST = "most"
# A session that took (or takes) the coach's time: not called off.
_HELD_STATUSES = (
    Booking.Status.PENDING,
    Booking.Status.CONFIRMED,
    Booking.Status.COMPLETED,
    Booking.Status.NO_SHOW,
)


def coach_client_rows(
    *, coach: Coach, now: datetime, q: str = "", sort: str = CLIENT_SORT_NAME
) -> QuerySet[Client]:
    """The coach's clients (practice's records) in the list's order, with ``live_passes``
    (sessions left, not ended); client_booking_counts adds the counts for a page of them.

    The default order (by name) is read from the ``client_coach_lower_name`` index, so a page
    costs the same however many clients and bookings there are; ordering by the last session or
    by the most sessions works that figure out for each of the coach's clients (a subquery).
    """
    qs = Client.objects.filter(coach=coach)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q))
    if sort == CLIENT_SORT_LAST:
        last = _per_client(_held_before(now), Max("start"))
        qs = qs.annotate(last_at=last).order_by(F("last_at").desc(nulls_last=True), Lower("name"), "pk")
    elif sort == CLIENT_SORT_MOST:
        sessions = Coalesce(_per_client(Q(status__in=_HELD_STATUSES), Count("pk")), 0)
        qs = qs.annotate(held=sessions).order_by("-held", Lower("name"), "pk")
    else:
        qs = qs.order_by(Lower("name"), "email", "pk")
    live = Pass.objects.filter(remaining__gt=0, expires_at__gt=now).order_by("expires_at", "pk")
    return qs.prefetch_related(Prefetch("passes", queryset=live, to_attr="live_passes"))


def client_booking_counts(*, clients: Iterable[Client], now: datetime) -> None:
    """Set ``upcoming`` and ``past`` (counts) and ``last_session`` (or None) on each of
    ``clients``: one query over their bookings alone, whatever the practice's size."""
    by_id = {client.pk: client for client in clients}
    for client in by_id.values():
        client.upcoming = client.past = 0
        client.last_session = None
    if not by_id:
        return
    past = _held_before(now)
    rows = (
        Booking.objects.filter(client_record_id__in=by_id)
        .order_by()
        .values("client_record_id")
        .annotate(
            upcoming=Count("pk", filter=Q(end__gt=now, status__in=Booking.ACTIVE_STATUSES)),
            past=Count("pk", filter=past),
            last_session=Max("start", filter=past),
        )
    )
    for row in rows:
        client = by_id[row["client_record_id"]]
        client.upcoming, client.past, client.last_session = row["upcoming"], row["past"], row["last_session"]


def _held_before(now: datetime) -> Q:
    """A session that took place (or was missed) before ``now``."""
    return Q(
        end__lte=now,
        status__in=(Booking.Status.CONFIRMED, Booking.Status.COMPLETED, Booking.Status.NO_SHOW),
    )


def _per_client(where: Q, aggregate: Count | Max) -> Subquery:
    """``aggregate`` over the outer client's bookings matching ``where`` (NULL without any)."""
    rows = (
        Booking.objects.filter(where, client_record=OuterRef("pk"))
        .order_by()
        .values("client_record")
        .annotate(value=aggregate)
        .values("value")
    )
    return Subquery(rows)


def client_sessions(*, client: Client, now: datetime, upcoming: bool) -> QuerySet[Booking]:
    """A client's sessions with the coach, with what the client page shows of each in the same
    two queries (offering, pass, private note; the ledger entries for the credit): upcoming
    soonest first, or the others (past, cancelled, declined) latest first."""
    qs = (
        Booking.objects.filter(coach_id=client.coach_id, client_record=client)
        .select_related("offering", "client_pass", "private_note")
        .prefetch_related("pass_entries")
    )
    coming = Q(end__gt=now) & ~Q(status__in=CALENDAR_HIDDEN_STATUSES)
    if upcoming:
        return qs.filter(coming).order_by("start", "pk")
    return qs.exclude(coming).order_by("-start", "-pk")


def client_session_get(*, client: Client, reference: str) -> Booking | None:
    """One of the client's sessions with the coach, by reference; None for any other booking."""
    if not is_slug(reference):
        return None
    return Booking.objects.filter(
        coach_id=client.coach_id, client_record=client, reference=reference[:16]
    ).first()


def coach_waitlist(*, coach: Coach, now: datetime) -> list[WaitlistEntry]:
    """The coach's line, first first: confirmed entries still waiting, each with ``live_hold`` (the
    time held for it now, or None). Two queries."""
    live = Prefetch(
        "holds",
        queryset=WaitlistHold.objects.filter(status=WaitlistHold.Status.HELD, expires_at__gt=now),
        to_attr="live_holds",
    )
    entries = list(
        WaitlistEntry.objects.filter(coach=coach, status=WaitlistEntry.Status.WAITING, range_end__gt=now)
        .select_related("offering")
        .prefetch_related(live)
        .order_by("confirmed_at", "id")
    )
    for entry in entries:
        entry.live_hold = entry.live_holds[0] if entry.live_holds else None
    return entries


def coach_waitlist_unconfirmed_count(*, coach: Coach, now: datetime) -> int:
    return WaitlistEntry.objects.filter(
        coach=coach, status=WaitlistEntry.Status.UNCONFIRMED, range_end__gt=now
    ).count()


def coach_waitlist_failed_emails(*, coach: Coach, limit: int = FAILED_EMAILS_SHOWN) -> list[WaitlistEmail]:
    """The latest waitlist emails of the coach's line that could not be sent."""
    return list(
        WaitlistEmail.objects.filter(entry__coach=coach, status=WaitlistEmail.Status.FAILED)
        .select_related("entry__offering", "hold")
        .order_by("-last_attempt_at", "-id")[:limit]
    )


def coach_waitlist_entry_get(*, coach: Coach, reference: str) -> WaitlistEntry | None:
    return WaitlistEntry.objects.filter(coach=coach, reference=reference).select_related("offering").first()


def coach_waitlist_email_get(*, coach: Coach, pk: int) -> WaitlistEmail | None:
    return WaitlistEmail.objects.filter(entry__coach=coach, pk=pk, status=WaitlistEmail.Status.FAILED).first()
