"""``POST /api/v1/waitlist``: join an offering's waitlist (double opt-in, booking/waitlist.py)."""

from __future__ import annotations

import re
from datetime import date
from http import HTTPStatus

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from api.errors import field_error
from api.schemas import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    ErrorOut,
    Text,
    ValidationErrorOut,
    ZoneIn,
    known_zone,
    person_email,
    person_name,
)
from booking.waitlist import WaitlistError, waitlist_join
from coaching.selectors import coach_has_offerings, offering_bookable_get
from common.display import EARLIEST_YEAR, LATEST_YEAR
from common.hour_cycle import locale_from_request
from common.ratelimit import TOO_MANY_MESSAGE, waitlist_join_throttle

router = Router(tags=["waitlist"])

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str) -> date:
    if not re.fullmatch(DATE_PATTERN, value):
        raise ValueError("Use a date like 2026-12-24.")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("No such date; use one like 2026-12-24.") from exc
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValueError(f"Use a year from {EARLIEST_YEAR} to {LATEST_YEAR}.")
    return day


class WaitlistIn(Schema):
    model_config = ConfigDict(populate_by_name=True)

    coach: Text = Field(min_length=1, max_length=60, description="The coach's slug")
    offering: Text = Field(min_length=1, max_length=60, description="The offering's slug")
    name: Text = Field(min_length=1, max_length=120)
    email: Text = Field(
        min_length=3,
        max_length=EMAIL_MAX_LENGTH,
        description="Where the confirmation and the offers go",
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    )
    timezone: ZoneIn = Field(max_length=64, description="The client's IANA zone: the days are theirs")
    from_: str = Field(
        alias="from",
        max_length=10,
        description="The first day wanted, YYYY-MM-DD, in `timezone`",
        json_schema_extra={"format": "date", "pattern": DATE_PATTERN},
    )
    to: str = Field(
        max_length=10,
        description="The last day wanted (included), YYYY-MM-DD",
        json_schema_extra={"format": "date", "pattern": DATE_PATTERN},
    )

    _name_has_text = field_validator("name")(lambda value: person_name(value))
    _email_is_valid = field_validator("email")(lambda value: person_email(value))
    _zone_is_known = field_validator("timezone")(lambda value: known_zone(value))
    _days_are_dates = field_validator("from_", "to")(lambda value: _day(value).isoformat())


class WaitlistOut(Schema):
    status: str = Field(
        description="Always `confirmation-sent`: the answer says nothing of who is on the list"
    )
    detail: str


@router.post(
    "",
    response={201: WaitlistOut, 400: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut},
    summary="Join an offering's waitlist for a range of days",
    description=(
        "Sends one email asking to confirm (double opt-in); only confirmed entries are offered times. "
        "When a time in the range frees up, the first confirmed person in line gets it held for "
        "`WAITLIST_HOLD_MINUTES` (30) and one email with a link to book it; unclaimed, it passes to the "
        "next. The answer is the same whether or not the address was on the list already."
    ),
)
def join_waitlist(request: HttpRequest, payload: WaitlistIn):
    if not waitlist_join_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, {"detail": TOO_MANY_MESSAGE})
    offering = offering_bookable_get(coach_slug=payload.coach, offering_slug=payload.offering)
    if offering is None:
        field = "offering" if coach_has_offerings(slug=payload.coach) else "coach"
        raise field_error("body", field, f"No bookable {field} with this slug.")
    try:
        waitlist_join(
            offering=offering,
            name=payload.name,
            email=payload.email,
            time_zone=payload.timezone,
            date_from=date.fromisoformat(payload.from_),
            date_to=date.fromisoformat(payload.to),
            locale=locale_from_request(request),
        )
    except WaitlistError as exc:
        raise field_error("body", exc.field or "offering", exc.message) from exc
    return Status(
        HTTPStatus.CREATED,
        {"status": "confirmation-sent", "detail": "Check your inbox: confirm to take your place in line."},
    )
