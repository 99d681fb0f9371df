"""The coach's setup through the API: offerings, weekly hours, date overrides and clients.

Mounted at /api/v1/me/ (api/me.py), behind the coach's token. Every write is validated by
the dashboard's own form (coaching/forms.py) and saved by the same service, so the API and
the dashboard keep one set of rules and messages; a form error is a 422 naming the API field.

Shapes (api/me_setup_schemas.py): durations in minutes; times of day "HH:MM" in the coach's
zone; weekly hours as ``{"time_zone", "days": {"monday": [{"start", "end"}], ...}}``. A change
of hours that would leave booked calls outside them answers 409 with those calls, unless the
request sends ``confirm_clashes`` (the bookings themselves are never touched).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http import HTTPStatus
from itertools import groupby
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError

from api.auth import require_write, token_coach
from api.me_setup_schemas import (
    WEEKDAY_NAMES,
    ClashesOut,
    ClientsOut,
    OfferingCreateIn,
    OfferingPatchIn,
    OfferingSettingsOut,
    OfferingsOut,
    OverrideIn,
    OverrideOut,
    OverrideQuery,
    OverridesOut,
    PageQuery,
    WeeklyHoursIn,
    WeeklyHoursOut,
)
from api.schemas import AUTH_ERRORS, BODY_WRITE, READ, WRITE, ErrorOut
from coaching import selectors, services
from coaching.clashes import Clashes, booking_clashes
from coaching.forms import (
    DEFAULT_REMINDERS,
    HOURS_FIELDS,
    MAX_QUESTIONS,
    DateOverrideForm,
    OfferingForm,
    WeeklyHoursForm,
)
from coaching.models import Coach, DateOverride, Offering
from practice import selectors as practice_selectors

router = Router()


Pair = tuple[str, str]

OFFERING_NOT_FOUND = "No offering of yours at this address."
OVERRIDE_NOT_FOUND = "No date override of yours with this id."


def _invalid(errors: Iterable[Pair]) -> ValidationError:
    """A 422 listing each (API field, message), like api/errors.py ``field_error`` does for one."""
    return ValidationError([{"type": "value_error", "loc": ["body", f], "msg": m} for f, m in errors])


def _today(coach: Coach) -> date:
    return timezone.now().astimezone(coach.zone).date()


def _hhmm(value: time) -> str:
    return f"{value:%H:%M}"


def _iso(value: datetime | None, coach: Coach) -> str | None:
    return None if value is None else value.astimezone(coach.zone).isoformat()


def _next_offset(rows: list[Any], offset: int, limit: int) -> int | None:
    """Rows were fetched with one extra: there is a next page when it came back."""
    if len(rows) > limit:
        del rows[limit:]
        return offset + limit
    return None


def _clash_answer(coach: Coach, clashes: Clashes, where: str) -> Status:
    calls = "1 booked call falls" if clashes.total == 1 else f"{clashes.total} booked calls fall"
    return Status(
        HTTPStatus.CONFLICT,
        {
            "detail": f"{calls} outside {where}. Send confirm_clashes: true to save anyway; "
            "the bookings are kept.",
            "total": clashes.total,
            "clashes": [
                {
                    "reference": call.reference,
                    "client_name": call.client_name,
                    "offering_title": call.offering_title,
                    "start": _iso(call.start, coach),
                    "end": _iso(call.end, coach),
                }
                for call in clashes.listed
            ],
        },
    )


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
# The form's fields that are not the model's own, back to the API's names.
_FORM_TO_API = {hours: minutes for minutes, hours in HOURS_FIELDS} | {
    "client_reminders": "reminder_offsets.client",
    "coach_reminders": "reminder_offsets.coach",
}


def _offsets(offering: Offering) -> dict[str, list[int]]:
    """The reminders in effect: an offering saved with none uses the defaults (as the form shows)."""
    offsets = (offering.reminder_offsets if offering.pk else None) or DEFAULT_REMINDERS
    return {"client": list(offsets.get("client", [])), "coach": list(offsets.get("coach", []))}


def _offering_out(offering: Offering) -> dict[str, Any]:
    out = {name: getattr(offering, name) for name in OfferingForm.Meta.fields}
    for minutes, _ in HOURS_FIELDS:
        out[minutes] = getattr(offering, minutes)
    price = offering.price_amount
    out["price_amount"] = None if price is None else f"{Decimal(price):.2f}"
    out["intake_questions"] = offering.intake_questions or []
    out["reminder_offsets"] = _offsets(offering)
    return out


def _form_value(value: Any) -> Any:
    """A value as the form reads it: booleans as they are (checkboxes take them), None blank."""
    if isinstance(value, bool):
        return value
    return "" if value is None else str(value)


def _hours(minutes: Any) -> str:
    """Minutes as the form's hours. Two decimals always round back to the same whole minutes."""
    if minutes is None:
        return ""
    try:
        return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        # More digits than Decimal keeps: far past the form's limit, which then refuses it.
        return str(minutes // 60)


def _offering_form_data(offering: Offering, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The offering form's POST: the offering as it is, with ``changes`` (API names) applied."""
    offsets = _offsets(offering)
    data: dict[str, Any] = {}
    for name in OfferingForm.Meta.fields:
        data[name] = _form_value(changes.get(name, getattr(offering, name)))
        if isinstance(data[name], bool) and not data[name]:
            del data[name]  # an unticked checkbox is not posted at all
    for minutes, hours in HOURS_FIELDS:
        data[hours] = _hours(changes.get(minutes, getattr(offering, minutes)))
    for recipient, minutes in (changes.get("reminder_offsets") or {}).items():
        if minutes is not None:
            offsets[recipient] = minutes
    data["client_reminders"] = ", ".join(str(m) for m in offsets["client"])
    data["coach_reminders"] = ", ".join(str(m) for m in offsets["coach"])
    questions = changes.get("intake_questions")
    if questions is not None:
        # With the formset's management form the questions are replaced; without, kept.
        data |= {
            "questions-TOTAL_FORMS": str(len(questions)),
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": str(MAX_QUESTIONS),
        }
        for n, question in enumerate(questions):
            data[f"questions-{n}-label"] = question["label"]
            data[f"questions-{n}-type"] = question["type"]
            if question["required"]:
                data[f"questions-{n}-required"] = True
    return data


def _offering_errors(form: OfferingForm) -> list[Pair]:
    errors = [
        (_FORM_TO_API.get(name, name), messages[0])
        for name, messages in form.errors.items()
        if name != "__all__"
    ]
    if form.questions is not None and not form.questions.is_valid():
        errors += [("intake_questions", message) for message in form.questions.non_form_errors()]
        errors += [
            (f"intake_questions.{n}.{name}", messages[0])
            for n, row in enumerate(form.questions.errors)
            for name, messages in row.items()
        ]
    if not errors:  # not expected: the form's only non-field error is about the questions
        errors = [("__all__", message) for message in form.non_field_errors()]
    return errors


def _offering_save(coach: Coach, offering: Offering, changes: Mapping[str, Any]) -> Offering:
    """Validate with the dashboard's form and save with its service; a 422 naming the field if not."""
    form = OfferingForm(
        _offering_form_data(offering, changes), instance=offering, coach=coach, today=_today(coach)
    )
    if not form.is_valid():
        raise _invalid(_offering_errors(form))
    try:
        return services.offering_save(coach=coach, offering=form.cleaned_offering())
    except services.SetupError as exc:
        # Another request took the slug between the form's check and the save.
        raise _invalid([("slug", exc.message)]) from exc


def _sent(payload: Schema) -> dict[str, Any]:
    """The fields the request named (nested ones with their defaults filled in)."""
    dumped = payload.model_dump()
    return {name: dumped[name] for name in payload.model_fields_set}


def _offering_or_404(coach: Coach, slug: str) -> Offering:
    offering = Offering.objects.filter(coach=coach, slug=slug).first()
    if offering is None:
        raise Http404(OFFERING_NOT_FOUND)
    return offering


@router.get(
    "/offerings",
    response={200: OfferingsOut, **READ},
    summary="Your offerings with every setting",
    description="Every offering, active or not, in the dashboard's order. Durations in minutes.",
)
def list_offerings(request: HttpRequest, page: Query[PageQuery]):
    coach = token_coach(request)
    limit, offset = page.limit, page.offset
    rows = list(
        selectors.coach_offerings(coach=coach).order_by("duration_minutes", "title", "pk")[
            offset : offset + limit + 1
        ]
    )
    next_offset = _next_offset(rows, offset, limit)
    return {"items": [_offering_out(o) for o in rows], "next_offset": next_offset}


@router.post(
    "/offerings",
    response={201: OfferingSettingsOut, **BODY_WRITE},
    summary="Create an offering",
    description=(
        "Validated like the dashboard's offering form: a 422 names the field (`detail[0].loc` is "
        '`["body", "<field>"]`), a slug you already use among them. Settings left out take the '
        "defaults; the slug is made from the title if left out."
    ),
)
def create_offering(request: HttpRequest, payload: OfferingCreateIn):
    coach = require_write(request)
    base = Offering(coach=coach, location_kind=Offering.LocationKind.ROOM)
    offering = _offering_save(coach, base, _sent(payload))
    return Status(HTTPStatus.CREATED, _offering_out(offering))


@router.patch(
    "/offerings/{slug}",
    response={200: OfferingSettingsOut, 404: ErrorOut, **BODY_WRITE},
    summary="Change some of an offering's settings",
    description=(
        "Only the fields sent change; the result is validated as a whole, like the dashboard's form. "
        "Unknown fields are refused (422). `reminder_offsets.client` or `.coach` may be sent alone."
    ),
)
def update_offering(request: HttpRequest, slug: str, payload: OfferingPatchIn):
    coach = require_write(request)
    offering = _offering_or_404(coach, slug)
    return _offering_out(_offering_save(coach, offering, _sent(payload)))


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
_DAY_ROW = re.compile(r"^day(\d)-(\d+)-(start|end)$")


def _week_out(coach: Coach) -> dict[str, Any]:
    days: dict[str, list[dict[str, str]]] = {name: [] for name in WEEKDAY_NAMES}
    for weekday, start, end in selectors.coach_weekly_hours(coach=coach):
        days[WEEKDAY_NAMES[weekday]].append({"start": _hhmm(start), "end": _hhmm(end)})
    return {"time_zone": coach.time_zone, "days": days}


@router.get(
    "/weekly-hours",
    response={200: WeeklyHoursOut, **AUTH_ERRORS},
    summary="Your weekly hours",
    description="Each weekday's windows, in your time zone; a day with none is closed.",
)
def get_weekly_hours(request: HttpRequest):
    return _week_out(token_coach(request))


@router.put(
    "/weekly-hours",
    response={200: WeeklyHoursOut, 409: ClashesOut, **BODY_WRITE},
    summary="Replace the whole week",
    description=(
        "Validated like the dashboard's form (an end after its start, no overlaps); a day left out "
        "has no hours. A 422 names the window, e.g. `days.monday.0.end`. When booked calls would "
        "fall outside the new hours the answer is 409 listing them; send `confirm_clashes: true` "
        "to save anyway (the bookings are kept)."
    ),
)
def put_weekly_hours(request: HttpRequest, payload: WeeklyHoursIn):
    coach = require_write(request)
    data = {}
    for weekday, name in enumerate(WEEKDAY_NAMES):
        for n, window in enumerate(getattr(payload.days, name)):
            data[f"day{weekday}-{n}-start"] = window.start
            data[f"day{weekday}-{n}-end"] = window.end
    form = WeeklyHoursForm(data, coach=coach)
    if not form.is_valid():
        errors = []
        for field, messages in form.errors.items():
            match = _DAY_ROW.match(field)
            api_field = f"days.{WEEKDAY_NAMES[int(match[1])]}.{match[2]}.{match[3]}" if match else "days"
            errors.append((api_field, messages[0]))
        raise _invalid(errors)
    clashes = booking_clashes(coach=coach, now=timezone.now(), weekly=form.windows)
    if clashes and not payload.confirm_clashes:
        return _clash_answer(coach, clashes, "these hours")
    services.weekly_hours_replace(coach=coach, windows=form.windows)
    return _week_out(coach)


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
_WINDOW_ROW = re.compile(rf"^{DateOverrideForm.prefix_windows}-(\d+)-(start|end)$")


def _override_days(rows: Iterable[DateOverride]) -> list[dict[str, Any]]:
    """One entry per date (a date may have several windows); its id is its first row's."""
    days = []
    for day, group in groupby(rows, key=lambda row: row.date):
        day_rows = list(group)
        days.append(
            {
                "id": day_rows[0].pk,
                "date": day,
                "unavailable": any(row.is_unavailable for row in day_rows),
                "windows": [
                    {"start": _hhmm(row.start), "end": _hhmm(row.end)}
                    for row in day_rows
                    if not row.is_unavailable
                ],
                "note": next((row.note for row in day_rows if row.note), ""),
            }
        )
    return days


@router.get(
    "/date-overrides",
    response={200: OverridesOut, **READ},
    summary="Your date overrides",
    description="Dates whose hours replace the weekly ones, soonest first; from today (your zone) by default.",
)
def list_overrides(request: HttpRequest, query: Query[OverrideQuery]):
    coach = token_coach(request)
    from_, to, limit, offset = query.from_, query.to, query.limit, query.offset
    dates = selectors.coach_override_dates(coach=coach, since=from_ or _today(coach))
    if to is not None:
        dates = dates.filter(date__lte=to)
    page = list(dates[offset : offset + limit + 1])
    next_offset = _next_offset(page, offset, limit)
    rows = selectors.coach_overrides_on(coach=coach, dates=page) if page else []
    return {"items": _override_days(rows), "next_offset": next_offset}


@router.post(
    "/date-overrides",
    response={201: OverrideOut, 409: ClashesOut, **BODY_WRITE},
    summary="Close a date, or give it its own hours",
    description=(
        "Either `unavailable: true` or `windows`, for today or a later date without an override "
        "(remove it first to change it). Validated like the dashboard's form; a 422 names the field "
        "(`date`, `unavailable`, `windows.0.end`, ...). Booked calls the change would leave outside the "
        "hours: 409 listing them, unless `confirm_clashes: true`."
    ),
)
def create_override(request: HttpRequest, payload: OverrideIn):
    coach = require_write(request)
    prefix = DateOverrideForm.prefix_windows
    data: dict[str, Any] = {"date": payload.date, "note": payload.note}
    if payload.unavailable:
        data["unavailable"] = True
    for n, window in enumerate(payload.windows):
        data[f"{prefix}-{n}-start"], data[f"{prefix}-{n}-end"] = window.start, window.end
    form = DateOverrideForm(data, coach=coach, today=_today(coach))
    if not form.is_valid():
        errors = []
        for field, messages in form.errors.items():
            match = _WINDOW_ROW.match(field)
            errors.append((f"windows.{match[1]}.{match[2]}" if match else field, messages[0]))
        raise _invalid(errors)
    day = form.cleaned_data["date"]
    clashes = booking_clashes(coach=coach, now=timezone.now(), overrides={day: form.windows})
    if clashes and not payload.confirm_clashes:
        return _clash_answer(coach, clashes, "this date's new hours")
    try:
        services.date_override_create(
            coach=coach, day=day, note=form.cleaned_data["note"], windows=form.windows
        )
    except services.SetupError as exc:
        raise _invalid([("date", exc.message)]) from exc
    return Status(
        HTTPStatus.CREATED, _override_days(selectors.coach_overrides_on(coach=coach, dates=[day]))[0]
    )


@router.delete(
    "/date-overrides/{override_id}",
    response={204: None, 404: ErrorOut, 409: ClashesOut, **WRITE},
    summary="Remove a date's override: the weekly hours apply again",
    description=(
        "Removes every window of that date. Booked calls the weekly hours would leave outside: 409 "
        "listing them, unless `?confirm_clashes=true`."
    ),
)
def delete_override(request: HttpRequest, override_id: int, confirm_clashes: bool = False):
    coach = require_write(request)
    override = selectors.coach_override_get(coach=coach, pk=override_id)
    if override is None:
        raise Http404(OVERRIDE_NOT_FOUND)
    clashes = booking_clashes(coach=coach, now=timezone.now(), overrides={override.date: None})
    if clashes and not confirm_clashes:
        return _clash_answer(coach, clashes, "your weekly hours once this override is removed")
    services.date_override_delete(coach=coach, day=override.date)
    return Status(HTTPStatus.NO_CONTENT, None)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
@router.get(
    "/clients",
    response={200: ClientsOut, **READ},
    summary="Your clients, with their sessions counted and their passes",
    description=(
        "Everyone who booked with you or holds one of your passes, one entry per email address "
        "(in lower case), ordered by it; paginated with limit/offset."
    ),
)
def list_clients(request: HttpRequest, page: Query[PageQuery]):
    coach = token_coach(request)
    now = timezone.now()
    limit, offset = page.limit, page.offset
    rows = list(practice_selectors.coach_clients_counted(coach=coach, now=now)[offset : offset + limit + 1])
    next_offset = _next_offset(rows, offset, limit)
    items = [
        {
            "id": client.pk,
            "name": client.name,
            "email": client.email,
            "account": client.user_id is not None,
            "bookings": client.bookings_count,
            "upcoming": client.upcoming_count,
            "past": client.past_count,
            "last_call": _iso(client.last_call, coach),
            "next_call": _iso(client.next_call, coach),
            "passes": [
                {
                    "id": pass_obj.reference,
                    "name": pass_obj.name,
                    "sessions": pass_obj.sessions,
                    "remaining": pass_obj.remaining,
                    "status": practice_selectors.pass_status(pass_obj, now),
                    "expires_at": _iso(pass_obj.expires_at, coach),
                }
                for pass_obj in client.passes.all()
            ],
        }
        for client in rows
    ]
    return {"items": items, "next_offset": next_offset}
