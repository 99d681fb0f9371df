"""Request and response shapes of the coach's setup through the API (api/me_setup.py).

Values are validated by the dashboard's own forms (coaching/forms.py), not here: the schemas
give the types and shapes, the forms give the rules and the messages. Every write body
refuses unknown fields (``extra="forbid"``): a typo is a 422 naming it, never silently ignored.
Durations are minutes throughout (the dashboard shows some of them in hours).
"""

from __future__ import annotations

import re
from datetime import date as Date
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, field_validator

from api.schemas import PriceIn, QueryInt, Text, ZoneOut
from coaching.forms import MAX_QUESTIONS, MAX_WINDOW_ROWS

# Every weekday by its API name, Monday first (coaching.models.Weekday numbers them 0-6).
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

HHMM = Annotated[
    str, Field(description="Wall-clock time in the coach's zone, HH:MM (24-hour)", examples=["09:00"])
]


class Forbid(Schema):
    model_config = ConfigDict(extra="forbid")


MAX_LIMIT = 100
# Far beyond any real list, and inside what every database takes as an OFFSET.
MAX_OFFSET = 1_000_000


class PageQuery(Schema):
    limit: QueryInt = Field(50, ge=1, le=MAX_LIMIT, description="Items per page")
    offset: QueryInt = Field(0, ge=0, le=MAX_OFFSET, description="From the previous page's `next_offset`")


class OverrideQuery(PageQuery):
    """Dates from ``from`` to ``to``, both included; ``limit`` counts dates."""

    from_: Date | None = Field(
        None,
        alias="from",
        description="First date, YYYY-MM-DD (default: today in your zone)",
        examples=["2026-12-01"],
    )
    to: Date | None = Field(
        None, description="Last date, YYYY-MM-DD (default: none)", examples=["2026-12-31"]
    )

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        # pydantic would read "0" as a Unix timestamp: the schema says a date, so only a date.
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("Use a date like 2026-12-24.")
        return value


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
class IntakeQuestion(Forbid):
    label: Text = Field(max_length=1000, examples=["What would you like to work on?"])
    type: Text = Field("text", max_length=20, description="text, long_text or yes_no")
    required: StrictBool = False


class ReminderOffsets(Forbid):
    client: list[StrictInt] = Field(
        default_factory=list, description="Minutes before the call, e.g. [1440, 60]", max_length=50
    )
    coach: list[StrictInt] = Field(default_factory=list, description="Minutes before the call", max_length=50)


class ReminderOffsetsPatch(Forbid):
    """Either list may be left out: it stays as it is."""

    client: list[StrictInt] | None = Field(
        None, description="Minutes before the call, e.g. [1440, 60]", max_length=50
    )
    coach: list[StrictInt] | None = Field(None, description="Minutes before the call", max_length=50)


OFFERING_EXAMPLE = {
    "title": "Intro call",
    "slug": "intro-call",
    "description": "A first conversation.",
    "duration_minutes": 30,
    "location_kind": "room",
    "location_details": "",
    "phone_caller": "client",
    "slot_step_minutes": 30,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 10,
    "min_notice_minutes": 240,
    "horizon_days": 60,
    "daily_cap": None,
    "requires_approval": False,
    "cancel_notice_minutes": 1440,
    "reschedule_notice_minutes": 1440,
    "max_reschedules": 2,
    "cancel_grace_minutes": 0,
    "price_amount": "80.00",
    "price_currency": "EUR",
    "color": "#2f6f5e",
    "follow_up_enabled": True,
    "is_active": True,
    "is_listed": True,
    "intake_questions": [{"label": "What would you like to work on?", "type": "long_text", "required": True}],
    "reminder_offsets": {"client": [1440, 60], "coach": [60]},
}


class IntakeQuestionOut(Schema):
    label: str
    type: str = Field(description="text, long_text or yes_no")
    required: bool


class ReminderOffsetsOut(Schema):
    client: list[int] = Field(description="Minutes before the call, latest last")
    coach: list[int]


class OfferingSettingsOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [OFFERING_EXAMPLE]})

    title: str
    slug: str = Field(description="Part of the booking link")
    description: str
    duration_minutes: int
    location_kind: str = Field(description="room (a new video room per booking), video, phone or in_person")
    location_details: str = Field(description="The meeting link, phone number or address")
    phone_caller: str = Field(description="client (the client calls you) or coach (you call the client)")
    slot_step_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    daily_cap: int | None = Field(description="Most calls of this offering a day; null for no limit")
    requires_approval: bool
    cancel_notice_minutes: int
    reschedule_notice_minutes: int
    max_reschedules: int
    cancel_grace_minutes: int
    price_amount: str | None = Field(
        description="A label only, e.g. '80.00'; null shows no price, '0.00' Free"
    )
    price_currency: str
    color: str
    follow_up_enabled: bool
    is_active: bool
    is_listed: bool
    intake_questions: list[IntakeQuestionOut]
    reminder_offsets: ReminderOffsetsOut


class OfferingsOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [OFFERING_EXAMPLE], "next_offset": None}]}
    )

    items: list[OfferingSettingsOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last")


class _OfferingFields(Forbid):
    """Every setting, each optional. Strings, numbers and booleans the form would take."""

    slug: Text | None = Field(None, description="Blank: made from the title", max_length=1000)
    description: Text | None = Field(None, max_length=100_000)
    duration_minutes: StrictInt | None = None
    location_kind: Text | None = Field(None, max_length=50, description="room, video, phone or in_person")
    location_details: Text | None = Field(None, max_length=10_000)
    phone_caller: Text | None = Field(None, max_length=50, description="client or coach")
    slot_step_minutes: StrictInt | None = None
    buffer_before_minutes: StrictInt | None = None
    buffer_after_minutes: StrictInt | None = None
    min_notice_minutes: StrictInt | None = None
    horizon_days: StrictInt | None = None
    daily_cap: StrictInt | None = Field(None, description="null for no limit")
    requires_approval: StrictBool | None = None
    cancel_notice_minutes: StrictInt | None = None
    reschedule_notice_minutes: StrictInt | None = None
    max_reschedules: StrictInt | None = None
    cancel_grace_minutes: StrictInt | None = None
    price_amount: PriceIn = Field(None, description="e.g. '80' or '49.50'; null for no price")
    price_currency: Text | None = Field(None, max_length=50, description="Three letters, e.g. EUR")
    color: Text | None = Field(None, max_length=50, examples=["#2f6f5e"])
    follow_up_enabled: StrictBool | None = None
    is_active: StrictBool | None = None
    is_listed: StrictBool | None = None
    intake_questions: list[IntakeQuestion] | None = Field(
        None, max_length=MAX_QUESTIONS + 1, description="Replaces every question"
    )


class OfferingCreateIn(_OfferingFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Deep dive", "duration_minutes": 60, "location_kind": "room"}]
        },
    )

    title: Text = Field(max_length=1000)
    reminder_offsets: ReminderOffsets | None = Field(None, description="Left out: the defaults")


class OfferingPatchIn(_OfferingFields):
    """Only the fields named change; every other setting stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"cancel_notice_minutes": 720, "price_amount": "90", "price_currency": "EUR"}]
        },
    )

    title: Text | None = Field(None, max_length=1000)
    reminder_offsets: ReminderOffsetsPatch | None = None


# ---------------------------------------------------------------------------
# Weekly hours and date overrides
# ---------------------------------------------------------------------------
class WindowIO(Forbid):
    start: HHMM = Field(max_length=20)
    end: HHMM = Field(max_length=20)


Windows = Annotated[list[WindowIO], Field(max_length=MAX_WINDOW_ROWS)]


class Week(Forbid):
    """A list of windows per weekday; a day left out or empty has no hours."""

    monday: Windows = Field(default_factory=list)
    tuesday: Windows = Field(default_factory=list)
    wednesday: Windows = Field(default_factory=list)
    thursday: Windows = Field(default_factory=list)
    friday: Windows = Field(default_factory=list)
    saturday: Windows = Field(default_factory=list)
    sunday: Windows = Field(default_factory=list)


WEEK_EXAMPLE = {
    "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "tuesday": [{"start": "09:00", "end": "17:00"}],
    "wednesday": [],
    "thursday": [{"start": "09:00", "end": "17:00"}],
    "friday": [{"start": "09:00", "end": "13:00"}],
    "saturday": [],
    "sunday": [],
}


class WeeklyHoursOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"time_zone": "America/New_York", "days": WEEK_EXAMPLE}]}
    )

    time_zone: ZoneOut = Field(description="The zone the times are in (the coach's profile)")
    days: Week


class WeeklyHoursIn(Forbid):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"days": WEEK_EXAMPLE, "confirm_clashes": False}]}
    )

    days: Week = Field(description="The whole week: it replaces every window")
    confirm_clashes: StrictBool = Field(
        False, description="Save even if booked calls fall outside the new hours (they are kept)"
    )


CLOSED_DAY_EXAMPLE = {"id": 7, "date": "2026-12-24", "unavailable": True, "windows": [], "note": "Holiday"}
SHORT_DAY_EXAMPLE = {
    "id": 9,
    "date": "2026-12-28",
    "unavailable": False,
    "windows": [{"start": "10:00", "end": "12:00"}],
    "note": "",
}


class OverrideOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [CLOSED_DAY_EXAMPLE, SHORT_DAY_EXAMPLE]})

    id: int = Field(description="Pass to DELETE /date-overrides/{id} to remove this date's override")
    date: Date
    unavailable: bool = Field(description="True: the whole date is closed")
    windows: list[WindowIO] = Field(description="The date's own hours, instead of the weekly hours")
    note: str


class OverridesOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [CLOSED_DAY_EXAMPLE, SHORT_DAY_EXAMPLE], "next_offset": None}]
        }
    )

    items: list[OverrideOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last")


class OverrideIn(Forbid):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"date": "2026-12-24", "unavailable": True, "note": "Holiday"},
                {"date": "2026-12-28", "windows": [{"start": "10:00", "end": "12:00"}]},
            ]
        },
    )

    date: Text = Field(max_length=50, description="YYYY-MM-DD, today or later", examples=["2026-12-24"])
    unavailable: StrictBool = Field(False, description="Closed all day (then give no windows)")
    windows: Windows = Field(default_factory=list, description="The date's hours instead of the weekly ones")
    note: Text = Field("", max_length=1000, description="Only you see it")
    confirm_clashes: StrictBool = Field(
        False, description="Save even if booked calls fall outside the date's new hours (they are kept)"
    )


class ClashOut(Schema):
    reference: str
    client_name: str
    offering_title: str
    start: str = Field(description="ISO 8601 in the coach's zone")
    end: str


class ClashesOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "1 booked call falls outside these hours. Send confirm_clashes to save anyway.",
                    "total": 1,
                    "clashes": [
                        {
                            "reference": "BK-7Q2M9XHD",
                            "client_name": "Grace Hopper",
                            "offering_title": "Intro call",
                            "start": "2026-12-02T10:00:00-05:00",
                            "end": "2026-12-02T10:30:00-05:00",
                        }
                    ],
                }
            ]
        }
    )

    detail: str
    total: int = Field(description="How many calls clash; `clashes` lists the first 20")
    clashes: list[ClashOut]


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
class ClientPassOut(Schema):
    id: str = Field(description="The pass's reference (/me/passes/{id})")
    name: str = Field(description="The package's name when the pass was granted")
    sessions: int
    remaining: int = Field(description="Sessions left")
    status: Literal["active", "expired", "used_up"]
    expires_at: str = Field(description="ISO 8601 in the coach's zone")


class ClientSummaryOut(Schema):
    id: int
    name: str = Field(description="The name they first booked (or were granted a pass) under")
    email: str = Field(description="In lower case: one client per address")
    account: bool = Field(description="Whether the client has an account here, linked to this record")
    bookings: int = Field(description="Every booking, whatever its status")
    upcoming: int = Field(description="Pending or confirmed calls still to come")
    past: int = Field(description="Calls that have started, not cancelled or declined")
    last_call: str | None = Field(description="Start of the latest past call not cancelled or declined")
    next_call: str | None = Field(description="Start of the next pending or confirmed call")
    passes: list[ClientPassOut] = Field(description="Their passes from you, newest first")


class ClientsOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 12,
                            "name": "Grace Hopper",
                            "email": "grace@example.com",
                            "account": True,
                            "bookings": 3,
                            "upcoming": 1,
                            "past": 1,
                            "last_call": "2026-11-20T10:00:00-05:00",
                            "next_call": "2026-12-02T10:00:00-05:00",
                            "passes": [
                                {
                                    "id": "PS-4K8M2QXR",
                                    "name": "Six sessions over three months",
                                    "sessions": 6,
                                    "remaining": 4,
                                    "status": "active",
                                    "expires_at": "2027-03-01T07:00:00-05:00",
                                }
                            ],
                        }
                    ],
                    "next_offset": None,
                }
            ]
        }
    )

    items: list[ClientSummaryOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last")
