"""The coach's packages and passes through the API: list, create and change packages; grant
passes, read them with their ledger, add or take sessions, give back a forfeited credit.

Mounted at /api/v1/me/ (api/me.py), behind the coach's token; writes need a write token. As
in api/me_setup.py, every write is validated by the dashboard's own form (practice/forms.py)
and made by the same service (practice/services.py), so the API and the dashboard keep one
set of rules and messages: a form error, or a service's ``PracticeError`` naming its field, is
a 422 naming the API field; a ``PracticeError`` about the state of things (a credit already
given back) is a 409. Another coach's package or pass is a 404.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError

from api.auth import require_write, token_coach
from api.errors import field_error
from api.me_practice_schemas import (
    AdjustIn,
    CoachPassDetailOut,
    GiveBackIn,
    GrantIn,
    PackageCreateIn,
    PackageOut,
    PackagePatchIn,
    PackagesOut,
    PassesPageOut,
    PassQuery,
)
from api.me_schemas import conflict
from api.me_setup_schemas import PageQuery
from api.schemas import BODY_WRITE, READ, ErrorOut
from coaching.models import Coach
from coaching.selectors import coach_offerings
from common.emails import absolute_url
from practice import selectors, services
from practice.forms import VALIDITY_DATE, VALIDITY_DAYS, AdjustForm, GiveBackForm, GrantForm, PackageForm
from practice.models import Package, Pass, PassEntry
from practice.tokens import pass_token

router = Router()


PACKAGE_NOT_FOUND = "No package of yours with this id."
PASS_NOT_FOUND = "No pass of yours with this id."  # noqa: S105 (words, not a password)
NOT_FORFEITED = "Only a forfeited credit can be given back."
REFERENCE_MAX_LENGTH = 16

Pair = tuple[str, str]


def _invalid(errors: Iterable[Pair]) -> ValidationError:
    """A 422 listing each (API field, message), as api/me_setup.py answers."""
    return ValidationError([{"type": "value_error", "loc": ["body", f], "msg": m} for f, m in errors])


def _form_errors(form: Any, renamed: Mapping[str, str] | None = None) -> ValidationError:
    renamed = renamed or {}
    return _invalid(
        (renamed.get(name, name) if name != "__all__" else "__all__", messages[0])
        for name, messages in form.errors.items()
    )


def _iso(value: datetime, coach: Coach) -> str:
    return value.astimezone(coach.zone).isoformat()


def _sent(payload: Schema) -> dict[str, Any]:
    """The fields the request named."""
    dumped = payload.model_dump()
    return {name: dumped[name] for name in payload.model_fields_set}


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
def _package_out(package: Package, coach: Coach) -> dict[str, Any]:
    price = package.price_amount
    return {
        "id": package.pk,
        "name": package.name,
        "description": package.description,
        "offerings": [offering.slug for offering in package.offerings.all()],
        "sessions": package.sessions,
        "validity_days": package.validity_days,
        "valid_until": package.valid_until.isoformat() if package.valid_until else None,
        "price_amount": None if price is None else f"{Decimal(price):.2f}",
        "price_currency": package.price_currency,
        "is_active": package.is_active,
        "passes_granted": getattr(package, "passes_granted", 0),
        "created_at": _iso(package.created_at, coach),
    }


def _package_or_404(coach: Coach, package_id: int) -> Package:
    # coach_packages, not coach_package_get: the answer counts the passes granted.
    package = selectors.coach_packages(coach=coach).filter(pk=package_id).first()
    if package is None:
        raise Http404(PACKAGE_NOT_FOUND)
    return package


def _form_value(value: Any) -> str:
    return "" if value is None else str(value)


def _package_form_data(coach: Coach, package: Package | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The package form's POST: the package as it is (or blank), with ``changes`` applied."""

    def current(name: str, default: Any = None) -> Any:
        if name in changes:
            return changes[name]
        return getattr(package, name) if package is not None else default

    days, until = current("validity_days"), current("valid_until")
    # Naming one kind of validity switches to it; naming both (with values) is a choice to refuse.
    if changes.get("valid_until") is not None and "validity_days" not in changes:
        days = None
    if changes.get("validity_days") is not None and "valid_until" not in changes:
        until = None
    if days is not None and until is not None:
        raise _invalid([("validity_days", "Give either validity_days or valid_until, not both.")])
    if "offerings" in changes:
        slugs = list(dict.fromkeys(changes["offerings"] or []))
        found = dict(coach_offerings(coach=coach).filter(slug__in=slugs).values_list("slug", "pk"))
        if unknown := [slug for slug in slugs if slug not in found]:
            raise _invalid([("offerings", f"No offering of yours with the slug “{unknown[0]}”.")])
        offering_pks = [str(found[slug]) for slug in slugs]
    else:
        offering_pks = [str(o.pk) for o in package.offerings.all()] if package is not None else []
    return {
        "name": _form_value(current("name", "")),
        "description": _form_value(current("description", "")),
        "offerings": offering_pks,
        "sessions": _form_value(current("sessions")),
        "validity": VALIDITY_DATE if until is not None else VALIDITY_DAYS,
        "validity_days": _form_value(days),
        "valid_until": _form_value(until),
        "price_amount": _form_value(current("price_amount")),
        "price_currency": _form_value(current("price_currency", "")),
    }


def _package_save(coach: Coach, package: Package | None, changes: Mapping[str, Any]) -> Package:
    """Validate with the dashboard's form, save with its service; a 422 naming the field if not."""
    today = timezone.now().astimezone(coach.zone).date()
    form = PackageForm(_package_form_data(coach, package, changes), coach=coach, today=today, package=package)
    if not form.is_valid():
        raise _form_errors(form, {"validity": "validity_days"})
    is_active = changes.get("is_active")
    if is_active is None:
        is_active = package.is_active if package is not None else True
    try:
        saved = services.package_save(
            coach=coach, package=package, is_active=is_active, **form.package_fields()
        )
    except services.PracticeError as exc:
        raise _invalid([(exc.field or "__all__", exc.message)]) from exc
    return _package_or_404(coach, saved.pk)


@router.get(
    "/packages",
    response={200: PackagesOut, **READ},
    summary="Your packages",
    description="Active packages first, then by name; paginated with limit/offset.",
)
def list_packages(request: HttpRequest, page: Query[PageQuery]):
    coach = token_coach(request)
    limit, offset = page.limit, page.offset
    rows = list(selectors.coach_packages(coach=coach)[offset : offset + limit + 1])
    next_offset = offset + limit if len(rows) > limit else None
    return {"items": [_package_out(p, coach) for p in rows[:limit]], "next_offset": next_offset}


@router.post(
    "/packages",
    response={201: PackageOut, **BODY_WRITE},
    summary="Create a package",
    description=(
        "Validated like the dashboard's package form: a 422 names the field (`detail[0].loc` is "
        '`["body", "<field>"]`). Give `validity_days` or `valid_until`; a price needs its currency.'
    ),
)
def create_package(request: HttpRequest, payload: PackageCreateIn):
    coach = require_write(request)
    return Status(HTTPStatus.CREATED, _package_out(_package_save(coach, None, _sent(payload)), coach))


@router.get(
    "/packages/{package_id}",
    response={200: PackageOut, 404: ErrorOut, **READ},
    summary="One of your packages",
)
def get_package(request: HttpRequest, package_id: int):
    coach = token_coach(request)
    return _package_out(_package_or_404(coach, package_id), coach)


@router.patch(
    "/packages/{package_id}",
    response={200: PackageOut, 404: ErrorOut, **BODY_WRITE},
    summary="Change some of a package's settings, or retire it",
    description=(
        "Only the fields sent change; the result is validated as a whole, like the dashboard's form. "
        "Passes already granted keep their terms. `is_active: false` retires the package."
    ),
)
def update_package(request: HttpRequest, package_id: int, payload: PackagePatchIn):
    coach = require_write(request)
    package = _package_or_404(coach, package_id)
    return _package_out(_package_save(coach, package, _sent(payload)), coach)


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------
def _pass_out(pass_obj: Pass, coach: Coach, now: datetime) -> dict[str, Any]:
    """A pass with its ``client`` and ``package`` loaded."""
    token = pass_token(pass_obj)
    return {
        "id": pass_obj.reference,
        "token": token,
        # The pass's own page: its balance, its history, and a booking link for each call it pays.
        "book_url": absolute_url(reverse("pass_page", kwargs={"token": token})),
        "client": {"name": pass_obj.client.name, "email": pass_obj.client.email},
        "package": {"id": pass_obj.package_id, "name": pass_obj.package.name},
        "name": pass_obj.name,
        "sessions": pass_obj.sessions,
        "remaining": pass_obj.remaining,
        "status": selectors.pass_status(pass_obj, now),
        "expires_at": _iso(pass_obj.expires_at, coach),
        "created_at": _iso(pass_obj.created_at, coach),
    }


def _entry_out(entry: PassEntry, coach: Coach) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "amount": entry.amount,
        "booking": entry.booking.reference if entry.booking_id else None,
        "by": entry.actor,
        "reason": entry.reason,
        "late": entry.late,
        "at": _iso(entry.at, coach),
    }


def _pass_detail(pass_obj: Pass, coach: Coach) -> dict[str, Any]:
    entries = selectors.pass_entries(pass_obj=pass_obj)
    return {
        **_pass_out(pass_obj, coach, timezone.now()),
        "ledger": [_entry_out(entry, coach) for entry in entries],
    }


def _pass_or_404(coach: Coach, pass_id: str) -> Pass:
    if len(pass_id) > REFERENCE_MAX_LENGTH or "\x00" in pass_id:
        raise Http404(PASS_NOT_FOUND)
    pass_obj = selectors.coach_pass_get(coach=coach, reference=pass_id)
    if pass_obj is None:
        raise Http404(PASS_NOT_FOUND)
    return pass_obj


def _encode_cursor(pass_obj: Pass) -> str:
    return base64.urlsafe_b64encode(json.dumps([pass_obj.pk]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    """The id a cursor names; a 422 naming ``cursor`` for anything we did not write."""
    try:
        (pk,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < 2**63:
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise field_error(
            "query", "cursor", "Not a cursor from this API: pass a next_cursor unchanged."
        ) from None
    return pk


# The API's names of the list's states, as practice/selectors.py calls them.
_STATUSES = {
    "active": selectors.PASSES_ACTIVE,
    "expired": selectors.PASSES_EXPIRED,
    "used_up": selectors.PASSES_USED_UP,
}


@router.get(
    "/passes",
    response={200: PassesPageOut, **READ},
    summary="The passes you granted, newest first, a page at a time",
    description=(
        "Filter by `client` (email), `package` (id) and `status`. Pass a page's `next_cursor` as "
        "`cursor` for the next one. The ledgers are on each pass's own address."
    ),
)
def list_passes(request: HttpRequest, filters: Query[PassQuery]):
    coach = token_coach(request)
    now = timezone.now()
    qs = selectors.coach_passes(coach=coach, now=now, status=_STATUSES.get(filters.status or "", ""))
    # One order whatever the filter, so that the cursor (the last id) pages through it.
    qs = qs.select_related("package").order_by("-pk")
    if filters.client:
        qs = qs.filter(client__email=filters.client.strip().lower())
    if filters.package is not None:
        if selectors.coach_package_get(coach=coach, pk=filters.package) is None:
            raise field_error("query", "package", PACKAGE_NOT_FOUND)
        qs = qs.filter(package_id=filters.package)
    if filters.cursor:
        qs = qs.filter(pk__lt=_decode_cursor(filters.cursor))
    rows = list(qs[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [_pass_out(pass_obj, coach, now) for pass_obj in rows],
        "next_cursor": _encode_cursor(rows[-1]) if more else None,
    }


@router.post(
    "/passes",
    response={201: CoachPassDetailOut, **BODY_WRITE},
    summary="Grant a pass of a package to a client",
    description=(
        "Makes the client's record if they are new to you, the pass and its grant entry. Send the "
        "client `book_url`: the pass's page, with its balance and what it books. A retired package, "
        "or one whose last day has passed, is a 422 on `package`."
    ),
)
def grant_pass(request: HttpRequest, payload: GrantIn):
    coach = require_write(request)
    form = GrantForm(payload.model_dump(), coach=coach)
    if not form.is_valid():
        raise _form_errors(form)
    try:
        pass_obj = services.pass_grant(
            package=form.cleaned_data["package"],
            client_email=form.cleaned_data["client_email"],
            client_name=form.cleaned_data["client_name"],
        )
    except services.PracticeError as exc:
        raise _invalid([(exc.field or "package", exc.message)]) from exc
    return Status(HTTPStatus.CREATED, _pass_detail(_pass_or_404(coach, pass_obj.reference), coach))


@router.get(
    "/passes/{pass_id}",
    response={200: CoachPassDetailOut, 404: ErrorOut, **READ},
    summary="One of your passes, with its ledger",
)
def get_pass(request: HttpRequest, pass_id: str):
    coach = token_coach(request)
    return _pass_detail(_pass_or_404(coach, pass_id), coach)


@router.post(
    "/passes/{pass_id}/adjust",
    response={200: CoachPassDetailOut, 404: ErrorOut, **BODY_WRITE},
    summary="Add sessions to a pass, or take some away, with a reason",
    description="The reason is in the pass's history, which the client sees. The balance never goes below zero.",
)
def adjust_pass(request: HttpRequest, pass_id: str, payload: AdjustIn):
    coach = require_write(request)
    pass_obj = _pass_or_404(coach, pass_id)
    form = AdjustForm(payload.model_dump())
    if not form.is_valid():
        raise _form_errors(form)
    try:
        services.pass_adjust(
            pass_obj=pass_obj, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"]
        )
    except services.PracticeError as exc:
        raise _invalid([(exc.field or "amount", exc.message)]) from exc
    return _pass_detail(_pass_or_404(coach, pass_id), coach)


@router.post(
    "/passes/{pass_id}/return",
    response={200: CoachPassDetailOut, 404: ErrorOut, 409: ErrorOut, **BODY_WRITE},
    summary="Give back the credit a late cancellation or a no-show forfeited",
    description=(
        "`booking` is the reference of the session whose credit the pass forfeited; the reason is in "
        "the pass's history, which the client sees. A credit that was not forfeited, or was already "
        "given back, is a 409."
    ),
    openapi_extra=conflict(NOT_FORFEITED),
)
def return_credit(request: HttpRequest, pass_id: str, payload: GiveBackIn):
    coach = require_write(request)
    pass_obj = _pass_or_404(coach, pass_id)
    form = GiveBackForm({"reason": payload.reason})
    if not form.is_valid():
        raise _form_errors(form)
    reference = payload.booking.strip()
    booking_id = next(
        (
            entry.booking_id
            for entry in selectors.pass_entries(pass_obj=pass_obj)
            if entry.booking_id and entry.booking.reference == reference
        ),
        None,
    )
    if booking_id is None:
        raise _invalid([("booking", "No session paid with this pass has this reference.")])
    try:
        services.credit_return_forfeited(
            pass_id=pass_obj.pk, booking_id=booking_id, reason=form.cleaned_data["reason"]
        )
    except services.PracticeError as exc:
        if exc.field:
            raise _invalid([(exc.field, exc.message)]) from exc
        return Status(HTTPStatus.CONFLICT, {"detail": exc.message})
    return _pass_detail(_pass_or_404(coach, pass_id), coach)
