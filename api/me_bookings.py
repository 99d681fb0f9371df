"""The coach API's bookings: the list (filters, cursor pagination), one booking, and the
coach's actions on it, through the dashboard's own actions (booking/views/coach.py
``ACTIONS``), so the API and the dashboard follow the same rules and give the same errors.

The list is ordered by (start, id); its cursor is the last row's (start, id), base64url-encoded
JSON, and is opaque to clients. Reading costs a fixed number of queries: the token (with its
coach), at most one UPDATE of its last use, the offering check when that filter is given, one
query for the page (with each booking's pass joined) and one for the page's ledger entries
(each booking's ``credit``). Every operation answers with ``by_alias``: the booking's ``pass``
is ``pass_`` in Python.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from http import HTTPStatus
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from api.auth import require_write, token_coach
from api.errors import field_error
from api.me_schemas import (
    AUTH_ERRORS,
    READ_ONE,
    WRITE_BODY,
    WRITE_ONE,
    BookingConflictOut,
    BookingPageOut,
    BookingQuery,
    CoachBookingIn,
    CoachBookingOut,
    CoachRescheduleIn,
    ReasonIn,
    conflict,
)
from api.schemas import ErrorOut
from booking import selectors
from booking.coach_view import coach_booking_data
from booking.models import Booking, BookingEvent
from booking.services import (
    Booker,
    BookingError,
    PolicyViolation,
    SeriesUnavailable,
    SlotUnavailable,
    booking_create,
    booking_reschedule,
    booking_series_create,
)
from booking.views.coach import ACTIONS
from coaching.models import Coach
from practice.services import PassError

router = Router()

REFERENCE_MAX_LENGTH = 16
NOT_FOUND = "No booking of yours with this reference."
NOT_ACTIVE = "This booking is not active, so it cannot be moved."
NOT_FREE = "This time isn't free. Please pick another time."


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def _encode_cursor(booking: Booking) -> str:
    raw = json.dumps([booking.start.isoformat(), booking.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (start, id) a cursor names; a 422 naming ``cursor`` for anything we did not write."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start_iso, pk = json.loads(raw)
        start = datetime.fromisoformat(start_iso)
        if timezone.is_naive(start) or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError("not a cursor")
        # Out-of-range ids would overflow the database's integer column.
        if not 0 <= pk < 2**63:
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise field_error(
            "query", "cursor", "Not a cursor from this API: pass a next_cursor unchanged."
        ) from None
    return start, pk


def _coach_bookings(coach: Coach) -> QuerySet[Booking]:
    # booking.selectors.coach_bookings with when=all: every status, in our own stable order; with
    # each booking's pass and ledger entries (its "pass" and "credit"), one more query a page.
    return selectors.with_credits(
        selectors.coach_bookings(coach=coach, now=timezone.now(), when=selectors.WHEN_ALL)
    ).order_by("start", "pk")


def _data(booking: Booking, coach: Coach) -> dict[str, Any]:
    # The coach is the token's: setting it spares coach_booking_data a query per row.
    booking.coach = coach
    booking.offering.coach = coach
    return coach_booking_data(booking)


def _booking_or_404(coach: Coach, reference: str) -> Booking:
    if len(reference) > REFERENCE_MAX_LENGTH or "\x00" in reference:
        raise Http404(NOT_FOUND)
    booking = selectors.coach_booking_get(coach=coach, reference=reference)
    if booking is None:
        raise Http404(NOT_FOUND)
    booking.coach = coach
    booking.offering.coach = coach
    return booking


@router.get(
    "",
    response={200: BookingPageOut, **AUTH_ERRORS},
    summary="Your bookings, filtered, soonest start first, a page at a time",
    description=(
        "Ordered by start (then by creation). `from` and `to` are instants with an offset compared with "
        "the start (`from` included, `to` excluded). Pass a page's `next_cursor` as `cursor` for the next one."
    ),
    by_alias=True,
)
def list_bookings(request: HttpRequest, filters: Query[BookingQuery]):
    coach = token_coach(request)
    qs = _coach_bookings(coach)
    if filters.from_ is not None:
        qs = qs.filter(start__gte=filters.from_)
    if filters.to is not None:
        qs = qs.filter(start__lt=filters.to)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.offering:
        if not coach.offerings.filter(slug=filters.offering).exists():
            raise field_error("query", "offering", "No offering of yours with this slug.")
        qs = qs.filter(offering__slug=filters.offering)
    if filters.client:
        qs = qs.filter(client_email__iexact=filters.client.strip())
    if filters.cursor:
        start, pk = _decode_cursor(filters.cursor)
        # The redundant start >= x lets the (coach, start, id) index seek to the page.
        qs = qs.filter(start__gte=start).filter(Q(start__gt=start) | Q(start=start, pk__gt=pk))
    rows = list(qs[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [_data(booking, coach) for booking in rows],
        "next_cursor": _encode_cursor(rows[-1]) if more else None,
    }


@router.post(
    "",
    response={
        201: CoachBookingOut,
        400: ErrorOut,
        403: ErrorOut,
        409: BookingConflictOut,
        **AUTH_ERRORS,
    },
    summary="Book a call, or a standing series, for a client",
    description=(
        "The slot must be free by your offering's rules, as for a client; the booking is confirmed at once "
        "(you approve your own bookings) and both sides get the confirmation with the invite. With `repeat`, "
        "a series: all of its calls or a 409 listing the `unavailable` dates, or the free ones with "
        "`skip_unavailable`. The answer is the (first) booking; a series' calls share its `series`."
    ),
    by_alias=True,
)
def create_booking(request: HttpRequest, payload: CoachBookingIn):
    coach = require_write(request)
    offering = coach.offerings.filter(slug=payload.offering).first()
    if offering is None:
        raise field_error("body", "offering", "No offering of yours with this slug.")
    offering.coach = coach
    if offering.asks_phone and not payload.phone:
        raise field_error("body", "phone", "This call is a phone call you place: send the client's number.")
    booker = Booker(
        name=payload.name,
        email=payload.email,
        time_zone=payload.timezone,
        phone=payload.phone if offering.asks_phone else "",
        note=payload.note,
        by=BookingEvent.Actor.COACH,
    )
    try:
        if payload.repeat is None:
            booking = booking_create(
                offering=offering,
                start=payload.start,
                client_name=booker.name,
                client_email=booker.email,
                client_time_zone=booker.time_zone,
                client_phone=booker.phone,
                note=booker.note,
                by=booker.by,
            ).booking
        else:
            booking = booking_series_create(
                offering=offering,
                start=payload.start,
                interval_weeks=payload.repeat.interval_weeks,
                count=payload.repeat.count,
                skip_unavailable=payload.skip_unavailable,
                booker=booker,
            ).bookings[0]
    except SeriesUnavailable as exc:
        return Status(
            HTTPStatus.CONFLICT,
            {"detail": exc.message, "unavailable": [day.isoformat() for day in exc.dates]},
        )
    except PolicyViolation as exc:
        raise field_error("body", "repeat", exc.message) from exc
    except PassError as exc:  # a call booked with a package only: the client books it with theirs
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    except BookingError as exc:
        return Status(
            HTTPStatus.CONFLICT, {"detail": NOT_FREE if isinstance(exc, SlotUnavailable) else exc.message}
        )
    booking.offering = offering
    return Status(HTTPStatus.CREATED, _data(booking, coach))


@router.get("/{reference}", response=READ_ONE, summary="One of your bookings", by_alias=True)
def get_booking(request: HttpRequest, reference: str):
    coach = token_coach(request)
    return _data(_booking_or_404(coach, reference), coach)


# ---------------------------------------------------------------------------
# The coach's actions (a write token)
# ---------------------------------------------------------------------------
def _act(request: HttpRequest, reference: str, action: str, reason: str = ""):
    coach = require_write(request)
    booking = _booking_or_404(coach, reference)
    try:
        booking = ACTIONS[action].run(booking, reason.strip(), timezone.now())
    except BookingError as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    return _data(booking, coach)


@router.post(
    "/{reference}/approve",
    response=WRITE_ONE,
    summary="Approve a booking waiting for approval",
    openapi_extra=conflict("Only a booking waiting for approval can be approved."),
    by_alias=True,
)
def approve_booking(request: HttpRequest, reference: str):
    return _act(request, reference, "approve")


@router.post(
    "/{reference}/decline",
    response=WRITE_BODY,
    summary="Decline a booking waiting for approval (with a reason)",
    openapi_extra=conflict("Only a booking waiting for approval can be declined."),
    by_alias=True,
)
def decline_booking(request: HttpRequest, reference: str, payload: ReasonIn | None = None):
    return _act(request, reference, "decline", payload.reason if payload else "")


@router.post(
    "/{reference}/cancel",
    response=WRITE_BODY,
    summary="Cancel a booking (with a reason)",
    openapi_extra=conflict("This booking is not active, so it cannot be cancelled."),
    by_alias=True,
)
def cancel_booking(request: HttpRequest, reference: str, payload: ReasonIn | None = None):
    return _act(request, reference, "cancel", payload.reason if payload else "")


@router.post(
    "/{reference}/cancel-rest",
    response=WRITE_BODY,
    summary="Cancel a call of a series and its later calls (with a reason)",
    description="The client gets one email with the shortened series for their calendar; earlier calls stay.",
    openapi_extra=conflict("This call is not part of a series."),
    by_alias=True,
)
def cancel_rest_of_series(request: HttpRequest, reference: str, payload: ReasonIn | None = None):
    return _act(request, reference, "cancel-rest", payload.reason if payload else "")


@router.post(
    "/{reference}/no-show",
    response=WRITE_ONE,
    summary="Mark a call that has started a no-show",
    openapi_extra=conflict("A call can only be marked once it has started."),
    by_alias=True,
)
def no_show_booking(request: HttpRequest, reference: str):
    return _act(request, reference, "no-show")


@router.post(
    "/{reference}/complete",
    response=WRITE_ONE,
    summary="Mark a call that has started completed",
    openapi_extra=conflict("A call can only be marked once it has started."),
    by_alias=True,
)
def complete_booking(request: HttpRequest, reference: str):
    return _act(request, reference, "complete")


@router.post(
    "/{reference}/reschedule",
    response=WRITE_BODY,
    summary="Move a booking to another free slot of its offering",
    description="As the coach: the offering's reschedule notice and limit on moves are the client's, not yours.",
    openapi_extra=conflict(NOT_FREE),
    by_alias=True,
)
def reschedule_booking(request: HttpRequest, reference: str, payload: CoachRescheduleIn):
    coach = require_write(request)
    booking = _booking_or_404(coach, reference)
    if not booking.is_active:
        return Status(HTTPStatus.CONFLICT, {"detail": NOT_ACTIVE})
    now = timezone.now()
    try:
        booking = booking_reschedule(
            booking=booking, new_start=payload.start, by=BookingEvent.Actor.COACH, now=now
        )
    except SlotUnavailable:
        # The dashboard's words for the same refusal (booking/views/reschedule.py).
        message = (
            "That time has already passed. Please pick another time." if payload.start <= now else NOT_FREE
        )
        return Status(HTTPStatus.CONFLICT, {"detail": message})
    except BookingError as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    return _data(booking, coach)
