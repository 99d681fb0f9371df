"""Request and response shapes of the public JSON API (they define the OpenAPI schema)."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    field_validator,
)

from common.display import EARLIEST_YEAR, LATEST_YEAR, year_in_range
from common.timezones import is_valid_timezone
from common.validators import validate_mailbox, validate_phone_number, validate_single_line


def without_nul(value: str) -> str:
    """Text without NUL characters, which no database column takes: a 422, not a 500."""
    if "\x00" in value:
        raise ValueError("Remove the NUL character (\\u0000) from this text.")
    return value


def _django_checked(validator: Callable[[str], None], value: str) -> str:
    """Run one of Django's (or our) validators; its message becomes the 422's."""
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise ValueError(exc.messages[0]) from exc
    return value


def instant_in_range(value: datetime) -> datetime:
    """An instant a booking can have: in the years the site books, wherever its offset puts it."""
    if not (year_in_range(value) and year_in_range(value.astimezone(UTC))):
        raise ValueError(f"Use a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
    return value


# Text no database column refuses, and instants a booking can have: 422s, never 500s.
Text = Annotated[str, AfterValidator(without_nul)]


def _whole_number(value: Any) -> Any:
    """A query string's number must be digits: pydantic alone would take "1.0" or " 1"."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,9}", value):
        raise ValueError("Use a whole number, e.g. 20.")
    return value


# A count in a query string (``limit``, ``offset``): digits only.
QueryInt = Annotated[int, BeforeValidator(_whole_number)]
Instant = Annotated[AwareDatetime, AfterValidator(instant_in_range)]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("Use a number or a string, e.g. 49.50.")
    return value


# A price label in a write body: a string or a JSON number, never true/false (which pydantic
# would read as 1/0; bodies use StrictInt and StrictBool for the same reason). Checked before
# the union so the 422 names the field, not a member of the union.
PriceIn = Annotated[Annotated[str, Field(max_length=50)] | float | None, BeforeValidator(_not_a_boolean)]

# What the schema says an email address is, and what BookingIn checks first: something
# without spaces, one "@", and a domain name (no "[" IP literal), with the blanks around it
# that the check strips. Django's validate_email and validate_mailbox then decide.
EMAIL_PATTERN = r"^\s*[^\s@]+@[^\s@\[\]]+\s*$"
_EMAIL_SHAPE = re.compile(EMAIL_PATTERN)
EMAIL_MAX_LENGTH = 254
# A pass token is "<reference>.<mac>" (practice/tokens.py): well under this.
PASS_TOKEN_MAX_LENGTH = 100
# Every name is_valid_timezone accepts has this shape (tests/api/test_schema_constraints.py checks).
ZONE_PATTERN = r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$"
ZONE_DESCRIPTION = "An IANA time-zone name from the tz database, e.g. Europe/Berlin"


@cache
def zone_names() -> list[str]:
    """Every zone name the API accepts (what ``is_valid_timezone`` accepts), for the schema's enum."""
    return sorted(name for name in zoneinfo.available_timezones() if is_valid_timezone(name))


def _zone_enum(schema: dict[str, Any]) -> None:
    schema["enum"] = zone_names()


# A zone the client sends: the schema lists every accepted name (validators still give the 422).
ZoneIn = Annotated[str, Field(description=ZONE_DESCRIPTION, json_schema_extra=_zone_enum)]
# A zone we answer with: always one of the names above; the pattern keeps the schema small.
ZoneOut = Annotated[str, Field(description=ZONE_DESCRIPTION, json_schema_extra={"pattern": ZONE_PATTERN})]


class QuestionOut(Schema):
    key: str = Field(description="Answer key to use in `answers`, e.g. q1")
    label: str
    type: str = Field(description="text, long_text or yes_no")
    required: bool


class PriceOut(Schema):
    """The price the coach shows (a label: no payment is taken through the site)."""

    amount: str = Field(description="A decimal with two places, e.g. 60.00; 0.00 is free", examples=["60.00"])
    currency: str = Field(
        description="ISO 4217 code, e.g. EUR; empty for a free call shown without one", examples=["EUR"]
    )
    text: str = Field(
        description="The price as the coach's pages show it, e.g. 60 EUR or Free", examples=["60 EUR"]
    )


class OfferingOut(Schema):
    slug: str
    title: str
    description: str
    duration_minutes: int
    location_kind: str = Field(
        description="room (a video room made for each booking), video (the coach's link), phone or in_person"
    )
    asks_phone: bool = Field(description="A phone call the coach places: a booking must send `phone`")
    requires_approval: bool
    questions: list[QuestionOut]
    price: PriceOut | None = Field(description="null when the coach shows no price")


class CoachOut(Schema):
    slug: str
    display_name: str
    headline: str
    bio: str
    time_zone: ZoneOut
    offerings: list[OfferingOut]


class SlotOut(Schema):
    start: str = Field(description="ISO 8601 with the offset of the requested zone")
    end: str


class SlotsOut(Schema):
    timezone: ZoneOut
    slots: list[SlotOut]


class RepeatIn(Schema):
    """A standing series: the same wall-clock time in the coach's zone, every ``interval_weeks``
    weeks, ``count`` calls (the first at ``start``)."""

    model_config = ConfigDict(extra="forbid")

    interval_weeks: StrictInt = Field(default=1, ge=1, le=4, description="1 for every week, up to 4")
    count: StrictInt = Field(ge=2, le=52, description="How many calls, the first included: 2 to 52")


def person_name(value: str) -> str:
    """A client's name in a body: one line with some text."""
    value = value.strip()
    if not value:
        raise ValueError("Enter your name.")
    return _django_checked(validate_single_line, value)


def person_email(value: str) -> str:
    """A client's address in a body, as the booking pages accept it."""
    if not _EMAIL_SHAPE.search(value):
        raise ValueError("Enter a valid email address.")
    value = value.strip()
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise ValueError("Enter a valid email address.") from exc
    return _django_checked(validate_mailbox, value)


def known_zone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError("Unknown time zone; use an IANA name like Europe/Berlin.")
    return value


class BookingIn(Schema):
    coach: Text = Field(min_length=1, max_length=60, description="The coach's slug")
    offering: Text = Field(min_length=1, max_length=60, description="The offering's slug")
    start: Instant = Field(description="A free slot's start, ISO 8601 with offset")
    name: Text = Field(min_length=1, max_length=120)
    email: Text = Field(
        min_length=3,
        max_length=EMAIL_MAX_LENGTH,
        description="The client's email address, on a domain name (not an IP literal)",
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    )
    timezone: ZoneIn = Field(max_length=64, description="The client's IANA zone, e.g. Europe/Berlin")
    answers: dict[str, Any] = Field(default_factory=dict, description="Intake answers by question key")
    note: Text = Field(default="", max_length=2000)
    phone: Text = Field(
        default="",
        max_length=32,
        description="The client's number, with the country code: needed when the offering's `asks_phone`",
    )
    join_community: StrictBool = Field(
        default=False,
        description="Also sign up for the coach's email community (double opt-in: a confirmation email "
        "goes out first). Ignored when the coach has no community.",
    )
    pass_: Text | None = Field(
        default=None,
        alias="pass",
        max_length=PASS_TOKEN_MAX_LENGTH,
        description="A package pass's token (from its link): one of its sessions pays for this call. "
        "Needed when the offering is bookable with a package only.",
    )

    repeat: RepeatIn | None = Field(
        default=None,
        description="Book a standing series instead of one call: every occurrence is a booking of its "
        "own, all booked or none (409 with `unavailable`), or the free ones with `skip_unavailable`",
    )
    skip_unavailable: StrictBool = Field(
        default=False, description="With `repeat`: book the free dates and leave the others out"
    )

    _name_has_text = field_validator("name")(lambda value: person_name(value))
    _email_is_valid = field_validator("email")(lambda value: person_email(value))

    @field_validator("phone")
    @classmethod
    def _phone_is_valid(cls, value: str) -> str:
        value = value.strip()
        return _django_checked(validate_phone_number, value) if value else value

    _zone_is_known = field_validator("timezone")(lambda value: known_zone(value))


class BookingOut(Schema):
    reference: str
    status: str
    start: str
    end: str
    manage_url: str
    ics_url: str


class OccurrenceOut(Schema):
    reference: str = Field(description="The call's own booking reference")
    start: str
    end: str
    manage_url: str = Field(description="The call's own link: move or cancel this one")


class SeriesOut(Schema):
    reference: str
    manage_url: str = Field(description="The series' link: its calls, cancel from one on, its invite")
    interval_weeks: int
    occurrences: list[OccurrenceOut]
    skipped: list[str] = Field(
        description="Dates left out with `skip_unavailable` (YYYY-MM-DD, the coach's zone)"
    )


class BookingCreatedOut(BookingOut):
    series: SeriesOut | None = Field(
        default=None, description="With `repeat`: the series (the fields above are its first call)"
    )


class SeriesUnavailableOut(Schema):
    detail: str
    unavailable: list[str] = Field(
        description="The dates that can't be booked (YYYY-MM-DD, the coach's zone)"
    )


class BookingCancelledOut(BookingOut):
    credit: Literal["returned", "forfeited"] | None = Field(
        description="What the cancellation did to the package session it used, by the cancellation "
        "policy in force when it was booked; null when it used no pass"
    )


class LocationOut(Schema):
    kind: str = Field(description="room, video, phone or in_person")
    join_url: str = Field(description="The link to join a video call; empty for phone and in-person calls")
    text: str = Field(description="One line: the link, the phone number or the address")
    detail: str = Field(description="What the client is told, e.g. who calls whom")


class BookingDetailOut(BookingOut):
    coach: str
    offering: str
    timezone: ZoneOut
    can_cancel: bool
    can_reschedule: bool
    policy: str = Field(description="Why cancel or reschedule is not possible, if it is not")
    location: LocationOut


class CancelIn(Schema):
    reason: Text = Field(default="", max_length=500)


class RescheduleIn(Schema):
    start: Instant


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    type: str
    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'payload', 'email']")
    msg: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


# The error answers a coach-API route declares: every route (a bad or missing token, too
# many requests), reads (a bad parameter), writes (a read key), writes with a body.
AUTH_ERRORS: dict[int, Any] = {401: ErrorOut, 429: ErrorOut}
READ = {**AUTH_ERRORS, 422: ValidationErrorOut}
WRITE = {**READ, 403: ErrorOut}
# A body that is not JSON at all.
BODY_WRITE = {**WRITE, 400: ErrorOut}


class PassErrorOut(Schema):
    detail: str
    code: Literal["pass_exhausted", "pass_expired"] = Field(
        description="pass_exhausted: no sessions left; pass_expired: the call would start after the pass ends"
    )


class PassEntryOut(Schema):
    kind: Literal["grant", "use", "return", "forfeit", "expire", "adjust"]
    amount: int = Field(description="How the balance moved: +N, -1, 0 for a forfeit (the credit stays used)")
    booking: str | None = Field(description="The booking's reference, for a use, return or forfeit")
    by: Literal["client", "coach", "system"]
    reason: str
    late: bool = Field(description="A credit given back for a cancellation inside the notice window")
    at: str = Field(description="ISO 8601 in the coach's zone")


class PassOfferingOut(Schema):
    slug: str
    title: str
    book_url: str = Field(description="The offering's booking page, with the pass (`?pass=<token>`)")


class PassOut(Schema):
    coach: str = Field(description="The coach's slug")
    package: str = Field(description="The package's name when the pass was granted")
    sessions: int = Field(description="Sessions granted")
    remaining: int = Field(description="Sessions left: the sum of the ledger's amounts")
    expires_at: str = Field(description="Sessions must start before this instant (ISO 8601, coach's zone)")
    ledger: list[PassEntryOut] = Field(description="Every change of the balance, oldest first")
    offerings: list[PassOfferingOut] = Field(description="The coach's open offerings the pass pays for")


class SlotTakenOut(Schema):
    detail: str
    next_free: list[str] = Field(description="The next free starts, ISO 8601")


def isoformat_in(value: datetime, zone: Any) -> str:
    return value.astimezone(zone).isoformat()
