"""Request and response shapes of the coach API's bookings (``/api/v1/me/bookings``).

The booking itself is ``booking.coach_view.coach_booking_data``: the same shape the webhooks
carry, so ``CoachBookingOut`` describes that dict field by field. Every shape carries an
example for the OpenAPI schema (tests/api/test_me_openapi.py checks each /me operation's).
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema
from pydantic import StrictBool, field_validator

from api.schemas import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    ErrorOut,
    Instant,
    QueryInt,
    RepeatIn,
    Text,
    ValidationErrorOut,
    ZoneIn,
    ZoneOut,
    known_zone,
    person_email,
    person_name,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR_LENGTH = 200
MAX_SLUG_LENGTH = 100

BookingStatus = Literal["pending", "confirmed", "declined", "cancelled", "completed", "no_show"]

EXAMPLE_BOOKING = {
    "reference": "K7QW2M9XPA",
    "status": "confirmed",
    "start": "2026-12-02T15:00:00Z",
    "end": "2026-12-02T15:30:00Z",
    "offering": {"slug": "intro-call", "title": "Intro call"},
    "client": {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "time_zone": "Europe/Berlin",
        "phone": "",
    },
    "answers": {"What would you like to talk about?": "Compilers"},
    "note": "",
    "location": {
        "kind": "video",
        "join_url": "https://meet.example.com/ada",
        "text": "https://meet.example.com/ada",
    },
    "pass": "PS-4K8M2QXR",
    "credit": "used",
    "series": None,
    "reschedule_count": 0,
    "cancel_reason": "",
    "cancelled_by": "",
    "created_at": "2026-12-01T12:00:00Z",
    "updated_at": "2026-12-01T12:00:00Z",
    "dashboard_url": "https://coaching.example.com/dashboard/bookings/K7QW2M9XPA/",
}


class BookingQuery(Schema):
    """The list's filters. ``from`` and ``to`` are instants (ISO 8601 with an offset) that the
    call's start is compared with: ``from`` included, ``to`` excluded."""

    from_: Instant | None = Field(
        None,
        alias="from",
        description="Calls starting at or after this instant (ISO 8601 with offset)",
        examples=["2026-12-01T00:00:00Z"],
    )
    to: Instant | None = Field(
        None,
        description="Calls starting before this instant (ISO 8601 with offset)",
        examples=["2027-01-01T00:00:00+01:00"],
    )
    status: BookingStatus | None = Field(
        None, description="Only bookings in this status", examples=["pending"]
    )
    offering: Text | None = Field(
        None,
        max_length=MAX_SLUG_LENGTH,
        description="Only this offering's bookings (its slug)",
        examples=["intro-call"],
    )
    client: Text | None = Field(
        None,
        max_length=EMAIL_MAX_LENGTH,
        description="Only this client's bookings (their email address, in any case)",
        examples=["grace@example.com"],
    )
    limit: QueryInt = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many bookings per page")
    cursor: Text | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="The previous page's next_cursor, to read the next page (opaque)",
    )


class OfferingRefOut(Schema):
    slug: str
    title: str


class ClientOut(Schema):
    name: str
    email: str
    time_zone: ZoneOut
    phone: str = Field(description="Empty unless the offering asks for a phone number")


class CoachLocationOut(Schema):
    kind: str = Field(description="room, video, phone or in_person")
    join_url: str = Field(description="The link to join a video call; empty otherwise")
    text: str = Field(description="One line: the link, the phone number or the address")


class SeriesRefOut(Schema):
    reference: str = Field(description="The standing series this call belongs to")
    index: int = Field(description="Which of its calls: 0 for the first")


class CoachBookingOut(Schema):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE_BOOKING]}}

    reference: str
    status: BookingStatus
    start: str = Field(description="ISO 8601, UTC")
    end: str = Field(description="ISO 8601, UTC")
    offering: OfferingRefOut
    client: ClientOut
    answers: dict[str, str] = Field(description="The intake questions' answers, by question")
    note: str
    location: CoachLocationOut
    pass_: str | None = Field(
        alias="pass",
        description="The reference of the package pass that pays for it (/me/passes/{id}); null if none",
    )
    credit: Literal["used", "returned", "forfeited"] | None = Field(
        description="What became of the pass's session: used, returned (given back) or forfeited; null without a pass"
    )
    series: SeriesRefOut | None = Field(
        default=None,
        description="Set for a call of a standing series (cancel-rest cancels it and the later ones)",
    )
    reschedule_count: int = Field(description="How often the client moved the call")
    cancel_reason: str
    cancelled_by: str = Field(description="client or coach, if cancelled")
    created_at: str | None
    updated_at: str | None
    dashboard_url: str


class BookingPageOut(Schema):
    model_config = {"json_schema_extra": {"examples": [{"items": [EXAMPLE_BOOKING], "next_cursor": None}]}}

    items: list[CoachBookingOut]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null on the last page")


class ReasonIn(Schema):
    model_config = {"json_schema_extra": {"examples": [{"reason": "I'm ill that day, sorry."}]}}

    reason: Text = Field(
        default="", max_length=500, description="Told to the client", examples=["I'm ill that day, sorry."]
    )


class CoachRescheduleIn(Schema):
    model_config = {"json_schema_extra": {"examples": [{"start": "2026-12-03T15:00:00Z"}]}}

    start: Instant = Field(
        description="The new start, ISO 8601 with offset", examples=["2026-12-03T15:00:00Z"]
    )


# Every answer an endpoint can give, for the OpenAPI schema (tests/api/test_schemathesis.py).
# Their descriptions and examples are added for all of /me at once (api/me.py ``document_errors``).
AUTH_ERRORS = {401: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}
READ_ONE = {200: CoachBookingOut, 404: ErrorOut, **AUTH_ERRORS}
WRITE_ONE = {**READ_ONE, 403: ErrorOut, 409: ErrorOut}
# An action that reads a JSON body: a body that is not JSON is a 400.
WRITE_BODY = {**WRITE_ONE, 400: ErrorOut}


def conflict(detail: str) -> dict[str, Any]:
    """An operation's ``openapi_extra``: its 409's example, in the words it answers with."""
    example = {"application/json": {"example": {"detail": detail}}}
    return {"responses": {409: {"content": example}}}


class BookingConflictOut(Schema):
    """Why a booking could not be made: the time is taken, or (a series) which dates are."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"detail": "Some of these dates can't be booked.", "unavailable": ["2026-12-10"]}]
        }
    }

    detail: str
    unavailable: list[str] = Field(
        default_factory=list, description="A series' dates that can't be booked (YYYY-MM-DD, your zone)"
    )


class CoachBookingIn(Schema):
    """A call the coach books for a client: confirmed at once, told to both sides as any booking."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "offering": "coaching-session",
                    "start": "2026-12-03T15:00:00Z",
                    "name": "Grace Hopper",
                    "email": "grace@example.com",
                    "timezone": "Europe/Berlin",
                    "repeat": {"interval_weeks": 1, "count": 6},
                }
            ]
        }
    }

    offering: Text = Field(min_length=1, max_length=60, description="Your offering's slug")
    start: Instant = Field(description="A free slot's start, ISO 8601 with offset")
    name: Text = Field(min_length=1, max_length=120, description="The client's name")
    email: Text = Field(
        min_length=3,
        max_length=EMAIL_MAX_LENGTH,
        description="The client's address: the confirmation and the manage link go there",
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    )
    timezone: ZoneIn = Field(max_length=64, description="The client's IANA zone, e.g. Europe/Berlin")
    note: Text = Field(default="", max_length=2000)
    phone: Text = Field(default="", max_length=32, description="The client's number, for a call you place")
    repeat: RepeatIn | None = Field(
        default=None, description="A standing series: every call at the same wall-clock time in your zone"
    )
    skip_unavailable: StrictBool = Field(default=False, description="With `repeat`: book the free dates only")

    _name_has_text = field_validator("name")(lambda value: person_name(value))
    _email_is_valid = field_validator("email")(lambda value: person_email(value))
    _zone_is_known = field_validator("timezone")(lambda value: known_zone(value))
