"""Coach profiles and free slots."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from api.errors import field_error
from api.schemas import CoachOut, ErrorOut, SlotsOut, ValidationErrorOut, ZoneIn
from booking.intake import questions
from booking.slots import offering_free_slots
from coaching.models import Offering
from coaching.selectors import coach_get_public, offering_for_slots
from common.display import EARLIEST_YEAR, LATEST_YEAR, year_in_range
from common.shortcuts import found_or_404
from common.timezones import is_valid_timezone

router = Router(tags=["coaches"])

MAX_WINDOW_DAYS = 366


class SlotQuery(Schema):
    start: date
    end: date
    tz: ZoneIn | None = Field(None, description="The zone of the answer's times; the coach's by default")


def price_of(offering: Offering) -> dict[str, str] | None:
    """The offering's price label as ``PriceOut``, or None when the coach shows none."""
    if offering.price_amount is None:
        return None
    return {
        "amount": f"{Decimal(offering.price_amount):.2f}",
        "currency": offering.price_currency,
        "text": offering.price_text,
    }


@router.get(
    "/{coach}",
    response={422: ValidationErrorOut, 200: CoachOut, 404: ErrorOut},
    summary="A coach's profile and offerings",
)
def coach_detail(request: HttpRequest, coach: str):
    found = coach_get_public(slug=coach)
    if found is None:
        return Status(404, {"detail": "No such coach."})
    return {
        "slug": found.slug,
        "display_name": found.display_name,
        "headline": found.headline,
        "bio": found.bio,
        "time_zone": found.time_zone,
        "offerings": [
            {
                "slug": o.slug,
                "title": o.title,
                "description": o.description,
                "duration_minutes": o.duration_minutes,
                "location_kind": o.location_kind,
                "asks_phone": o.asks_phone,
                "requires_approval": o.requires_approval,
                "questions": questions(o),
                "price": price_of(o),
            }
            for o in found.listed_offerings
        ],
    }


@router.get(
    "/{coach}/offerings/{offering}/slots",
    response={422: ValidationErrorOut, 200: SlotsOut, 404: ErrorOut},
    summary="Free slots of an offering between two dates (end included)",
)
def offering_slots(request: HttpRequest, coach: str, offering: str, params: Query[SlotQuery]):
    if params.tz is not None and not is_valid_timezone(params.tz):
        raise field_error("query", "tz", "Unknown time zone; use an IANA name like Europe/Berlin.")
    for name in ("start", "end"):
        if not year_in_range(getattr(params, name)):
            raise field_error(
                "query", name, f"Use a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
            )
    if params.end < params.start:
        raise field_error("query", "end", "end must not be before start.")
    if params.end - params.start > timedelta(days=MAX_WINDOW_DAYS):
        raise field_error("query", "end", f"Ask for at most {MAX_WINDOW_DAYS} days at once.")
    found = found_or_404(
        offering_for_slots(coach_slug=coach, offering_slug=offering),
        "No bookable offering at this address.",
    )
    zone = ZoneInfo(params.tz) if params.tz else found.coach.zone
    slots = offering_free_slots(offering=found, start=params.start, end=params.end, tz=zone)
    # The hot path of the slot picker: the body is built from our own values in exactly
    # the documented shape (tests compare it with the schema), so skip re-validating
    # hundreds of slots through pydantic on every request, and write the JSON directly.
    return HttpResponse(
        slots_json(slots, duration=found.duration, zone=zone), content_type="application/json"
    )


def slots_json(slots: list[datetime], *, duration: timedelta, zone: ZoneInfo) -> str:
    """``SlotsOut`` as JSON: each start and end in ``zone`` with its offset."""
    parts = [
        f'{{"start":"{slot.astimezone(zone).isoformat()}","end":"{(slot + duration).astimezone(zone).isoformat()}"}}'
        for slot in slots
    ]
    return f'{{"timezone":{json.dumps(str(zone))},"slots":[{",".join(parts)}]}}'
