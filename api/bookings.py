"""Create a booking; read, cancel or reschedule it with the manage token."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import ValidationError

from accounts.models import User
from api.errors import field_error
from api.schemas import (
    BookingCancelledOut,
    BookingCreatedOut,
    BookingDetailOut,
    BookingIn,
    BookingOut,
    CancelIn,
    ErrorOut,
    PassErrorOut,
    RepeatIn,
    RescheduleIn,
    SeriesUnavailableOut,
    SlotTakenOut,
    ValidationErrorOut,
    isoformat_in,
)
from booking.credits import credit_state
from booking.emails import manage_url
from booking.intake import clean_answers
from booking.invites import series_manage_url
from booking.location import place_of
from booking.models import Booking, BookingEvent
from booking.services import (
    Booker,
    BookingError,
    IdempotencyConflict,
    PolicyViolation,
    SeriesCreated,
    SeriesUnavailable,
    SlotUnavailable,
    booking_cancel,
    booking_create,
    booking_reschedule,
    booking_series_create,
    client_cancel_problem,
    client_reschedule_problem,
    request_fingerprint,
)
from booking.slots import next_free_slots
from booking.tokens import booking_for_manage_token
from coaching.models import Offering
from coaching.selectors import coach_has_offerings, offering_bookable_get
from common.hour_cycle import locale_from_request
from common.ratelimit import TOO_MANY_MESSAGE, booking_create_throttle, manage_lookup_throttle
from common.shortcuts import csrf_passes
from practice.models import Pass
from practice.selectors import pass_for_booking
from practice.services import PassError

router = Router(tags=["bookings"])

MAX_IDEMPOTENCY_KEY = 200
TOO_MANY = {"detail": TOO_MANY_MESSAGE}
CSRF_REFUSED = (
    "This request is signed in by a cookie but carries no valid CSRF token. Send the X-CSRFToken header, "
    "or book without the session."
)


def _out(booking: Booking) -> dict[str, str]:
    zone = ZoneInfo(booking.client_time_zone)
    url = manage_url(booking)
    return {
        "reference": booking.reference,
        "status": booking.status,
        "start": isoformat_in(booking.start, zone),
        "end": isoformat_in(booking.end, zone),
        "manage_url": url,
        "ics_url": f"{url}invite.ics",
    }


def _pass_field_error(message: str) -> ValidationError:
    """A 422 on the body's ``pass``, where pydantic puts its own errors on that field."""
    return ValidationError([{"type": "value_error", "loc": ["body", "payload", "pass"], "msg": message}])


def _pass_of(payload: BookingIn, offering: Offering) -> Pass | None:
    """The pass the body names (None without one); an unknown or altered token is a 422."""
    if payload.pass_ is None:
        return None
    client_pass = pass_for_booking(payload.pass_.strip(), offering=offering)
    if client_pass is None:
        raise _pass_field_error("No pass with this token: send the token from the pass's link unchanged.")
    return client_pass


def _taken(offering: Offering, booking_start: datetime, zone: ZoneInfo) -> Status:
    alternatives = next_free_slots(offering=offering, after=booking_start, limit=3)
    return Status(
        HTTPStatus.CONFLICT,
        {"detail": SlotUnavailable.message, "next_free": [isoformat_in(s, zone) for s in alternatives]},
    )


@router.post(
    "",
    response={
        422: ValidationErrorOut,
        400: ErrorOut,
        201: BookingCreatedOut,
        403: ErrorOut,
        409: SlotTakenOut | SeriesUnavailableOut | PassErrorOut | ErrorOut,
        429: ErrorOut,
    },
    summary="Book a free slot (send an Idempotency-Key header to make retries safe)",
    description=(
        "Anyone may book as a guest. A request that carries a signed-in session cookie books as that "
        "account (with its email address) and must send the CSRF token (X-CSRFToken), as the site's "
        "own pages do; without it the answer is 403.\n\n"
        "With `pass` (a package pass's token, for the same email address), one of its sessions pays "
        'for the call, in the same transaction: 409 with `"code": "pass_exhausted"` or '
        '`"pass_expired"` when it can\'t, and nothing is booked; a pass that does not cover the '
        "offering, or an offering bookable with a package only booked without one, is a 422 on `pass`.\n\n"
        'With `repeat` (`{"interval_weeks": 1, "count": 6}`), a standing series: every call at the '
        "same wall-clock time in the coach's zone, each a booking of its own with its own reminders, "
        'all in one transaction: 409 with `"unavailable": [dates]` when any can\'t be booked, or the '
        "free ones with `skip_unavailable`; with a pass, one session per call, all up front. The 201 "
        "describes the first call and adds `series`."
    ),
)
def create_booking(request: HttpRequest, payload: BookingIn):
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key and len(key) > MAX_IDEMPOTENCY_KEY:
        raise field_error("header", "Idempotency-Key", f"Use at most {MAX_IDEMPOTENCY_KEY} characters.")
    if not booking_create_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY)
    offering = offering_bookable_get(coach_slug=payload.coach, offering_slug=payload.offering)
    if offering is None:
        field = "offering" if coach_has_offerings(slug=payload.coach) else "coach"
        raise field_error("body", field, f"No bookable {field} with this slug.")
    try:
        answers = clean_answers(offering, payload.answers)
    except DjangoValidationError as exc:
        first_key, messages = next(iter(exc.message_dict.items()))
        raise field_error("body", f"answers.{first_key}", messages[0]) from exc
    if offering.asks_phone and not payload.phone:
        raise field_error(
            "body", "phone", "This call is a phone call the coach places: send the client's number."
        )
    client_pass = _pass_of(payload, offering)
    user = request.user if request.user.is_authenticated else None
    if user is not None and not csrf_passes(request):
        return Status(HTTPStatus.FORBIDDEN, {"detail": CSRF_REFUSED})
    if payload.repeat is not None:
        return _create_series(
            request,
            payload,
            payload.repeat,
            offering,
            user=user,
            client_pass=client_pass,
            key=key,
            answers=answers,
        )
    try:
        result = booking_create(
            offering=offering,
            start=payload.start,
            client_name=payload.name,
            # A signed-in client books under their account's address, as on the booking page.
            client_email=user.email if user is not None else payload.email,
            client_time_zone=payload.timezone,
            answers=answers,
            note=payload.note,
            client_phone=payload.phone if offering.asks_phone else "",
            client_locale=locale_from_request(request),
            client=user,
            client_pass=client_pass,
            idempotency_key=f"api:{key}" if key else None,
            # Leave the opt-in, the phone and the pass out while unset, so a retry of an older
            # client's body matches.
            fingerprint=request_fingerprint(
                payload.model_dump(
                    mode="json",
                    exclude={name for name in _OPTIONAL if not getattr(payload, name)},
                )
            ),
            join_community=payload.join_community,
        )
    except IdempotencyConflict as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    except SlotUnavailable:
        return _taken(offering, payload.start, ZoneInfo(payload.timezone))
    except PassError as exc:
        # Exhausted or expired: the state of the pass (409 with its code); not for this call
        # (another offering, coach or email) or a pass needed: the field is wrong (422).
        if exc.status == HTTPStatus.CONFLICT:
            return Status(HTTPStatus.CONFLICT, {"detail": exc.message, "code": exc.code})
        raise _pass_field_error(exc.message) from exc
    return Status(HTTPStatus.CREATED, _out(result.booking))


# Left out of the fingerprint while unset, so that a retry of an older client's body matches.
_OPTIONAL = ("join_community", "phone", "pass_", "repeat", "skip_unavailable")


def _create_series(
    request: HttpRequest,
    payload: BookingIn,
    repeat: RepeatIn,
    offering: Offering,
    *,
    user: User | None,
    client_pass: Pass | None,
    key: str | None,
    answers: dict[str, Any],
) -> Status:
    """``create_booking`` with ``repeat``: the series, or why it can't be booked."""
    try:
        made = booking_series_create(
            offering=offering,
            start=payload.start,
            interval_weeks=repeat.interval_weeks,
            count=repeat.count,
            skip_unavailable=payload.skip_unavailable,
            booker=Booker(
                name=payload.name,
                email=user.email if user is not None else payload.email,
                time_zone=payload.timezone,
                locale=locale_from_request(request),
                phone=payload.phone if offering.asks_phone else "",
                answers=answers,
                note=payload.note,
                user=user,
                client_pass=client_pass,
            ),
            idempotency_key=f"api:{key}" if key else None,
            fingerprint=request_fingerprint(
                payload.model_dump(
                    mode="json", exclude={name for name in _OPTIONAL if not getattr(payload, name)}
                )
            ),
        )
    except IdempotencyConflict as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    except SeriesUnavailable as exc:
        return Status(
            HTTPStatus.CONFLICT,
            {"detail": exc.message, "unavailable": [day.isoformat() for day in exc.dates]},
        )
    except SlotUnavailable as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    except PolicyViolation as exc:
        raise field_error("body", "repeat", exc.message) from exc
    except PassError as exc:
        if exc.status == HTTPStatus.CONFLICT:
            return Status(HTTPStatus.CONFLICT, {"detail": exc.message, "code": exc.code})
        raise _pass_field_error(exc.message) from exc
    return Status(HTTPStatus.CREATED, _series_out(made))


def _series_out(made: SeriesCreated) -> dict[str, Any]:
    first = made.bookings[0]
    zone = ZoneInfo(first.client_time_zone)
    return {
        **_out(first),
        "series": {
            "reference": made.series.reference,
            "manage_url": series_manage_url(made.series),
            "interval_weeks": made.series.interval_weeks,
            "occurrences": [
                {
                    "reference": b.reference,
                    "start": isoformat_in(b.start, zone),
                    "end": isoformat_in(b.end, zone),
                    "manage_url": manage_url(b),
                }
                for b in made.bookings
            ],
            "skipped": [day.isoformat() for day in made.skipped],
        },
    }


def _booking_or_404(request: HttpRequest, token: str) -> Booking:
    booking = booking_for_manage_token(token)
    if booking is None:
        raise Http404("No booking for this link.")
    return booking


@router.get(
    "/{token}",
    response={422: ValidationErrorOut, 200: BookingDetailOut, 404: ErrorOut, 429: ErrorOut},
    summary="A booking",
)
def get_booking(request: HttpRequest, token: str):
    if not manage_lookup_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY)
    booking = _booking_or_404(request, token)
    now = timezone.now()
    cancel_problem = client_cancel_problem(booking, now=now)
    reschedule_problem = client_reschedule_problem(booking, now=now)
    return {
        **_out(booking),
        "coach": booking.coach.slug,
        "offering": booking.offering.slug,
        "timezone": booking.client_time_zone,
        "can_cancel": not cancel_problem,
        "can_reschedule": not reschedule_problem,
        "policy": cancel_problem or reschedule_problem,
        "location": _location_out(booking),
    }


def _location_out(booking: Booking) -> dict[str, str]:
    place = place_of(booking, audience="client")
    return {"kind": place.kind, "join_url": place.join_url, "text": place.location, "detail": place.detail}


@router.post(
    "/{token}/cancel",
    response={
        422: ValidationErrorOut,
        400: ErrorOut,
        200: BookingCancelledOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
    summary="Cancel a booking (within the offering's notice)",
    description=(
        "A call paid with a package session answers what became of that session's `credit`, by the "
        "cancellation policy in force when it was booked: `returned` (cancelled in time) or "
        "`forfeited` (too late); null for a call without a pass."
    ),
)
def cancel_booking(request: HttpRequest, token: str, payload: CancelIn | None = None):
    if not manage_lookup_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY)
    booking = _booking_or_404(request, token)
    reason = payload.reason.strip() if payload else ""
    try:
        booking = booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, reason=reason)
    except BookingError as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    credit = credit_state(booking)
    return {**_out(booking), "credit": credit if credit in ("returned", "forfeited") else None}


@router.post(
    "/{token}/reschedule",
    response={
        422: ValidationErrorOut,
        400: ErrorOut,
        200: BookingOut,
        404: ErrorOut,
        409: SlotTakenOut | ErrorOut,
        429: ErrorOut,
    },
    summary="Move a booking to another free slot (within the offering's policy)",
)
def reschedule_booking(request: HttpRequest, token: str, payload: RescheduleIn):
    if not manage_lookup_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, TOO_MANY)
    booking = _booking_or_404(request, token)
    try:
        booking = booking_reschedule(booking=booking, new_start=payload.start, by=BookingEvent.Actor.CLIENT)
    except SlotUnavailable:
        return _taken(booking.offering, payload.start, ZoneInfo(booking.client_time_zone))
    except BookingError as exc:
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    return _out(booking)
