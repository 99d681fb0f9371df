"""The coach dashboard: profile, offerings, weekly hours, date overrides and a slot preview.

Every view gets the signed-in coach from `coach_required` and reaches rows only
through that coach, so another coach's ids answer 404, never their data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http import HTTPStatus
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from coaching import selectors
from coaching.forms import (
    CoachProfileForm,
    DateOverrideForm,
    OfferingForm,
    WeeklyHoursForm,
    format_day,
)
from coaching.models import Coach, DateOverride, Offering
from coaching.permissions import coach_required

OFFERINGS_PER_PAGE = 20
OVERRIDE_DATES_PER_PAGE = 20
PREVIEW_DAYS = 7


def _local_today(coach: Coach, now: datetime) -> date:
    return now.astimezone(coach.zone).date()


def duration_text(minutes: int) -> str:
    """240 -> "4 hours"; 90 -> "1 hour 30 minutes"; 2880 -> "2 days"."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{amount} {unit}{'' if amount == 1 else 's'}"
        for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute"))
        if amount
    ]
    return " ".join(parts) or "0 minutes"


# ---------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewSlot:
    iso: str  # with the coach's offset, for <time datetime>
    label: str  # "09:30", the coach's wall clock


@dataclass(frozen=True)
class PreviewDay:
    day: date
    label: str
    slots: list[PreviewSlot]


def _preview_context(coach: Coach, chosen: str | None, now: datetime) -> dict[str, Any]:
    """The coming week's free slots of one offering, grouped by the coach's local day."""
    offerings = list(Offering.objects.filter(coach=coach))
    for option in offerings:
        option.coach = coach  # the selector reads offering.coach: spare it a query
    offering = next((o for o in offerings if str(o.pk) == chosen), None) or next(
        (o for o in offerings if o.is_active), offerings[0] if offerings else None
    )
    context: dict[str, Any] = {"offerings": offerings, "preview_offering": offering}
    if offering is None:
        return context
    zone = coach.zone
    first = _local_today(coach, now)
    last = first + timedelta(days=PREVIEW_DAYS - 1)
    slots = selectors.offering_free_slots(offering=offering, start=first, end=last, tz=zone, now=now)
    # Formatted here, not with the template's |time filter, which would convert to the
    # site's zone instead of the coach's.
    by_day = {
        day: [PreviewSlot(local.isoformat(), f"{local:%H:%M}") for local in starts]
        for day, starts in groupby((s.astimezone(zone) for s in slots), key=lambda local: local.date())
    }
    days = [first + timedelta(days=n) for n in range(PREVIEW_DAYS)]
    context.update(
        preview_days=[PreviewDay(day, format_day(day), by_day.get(day, [])) for day in days],
        preview_slot_count=len(slots),
        preview_first=first,
        preview_last=last,
        preview_notice=duration_text(offering.min_notice_minutes) if offering.min_notice_minutes else "",
        preview_short_horizon=offering.horizon_days < PREVIEW_DAYS,
    )
    return context


@require_http_methods(["GET"])
@coach_required
def home(request: HttpRequest, coach: Coach) -> HttpResponse:
    context = {"coach": coach, "section": "home"}
    context.update(_preview_context(coach, request.GET.get("offering"), timezone.now()))
    return render(request, "coaching/dashboard/home.html", context)


@require_http_methods(["GET"])
@coach_required
def preview(request: HttpRequest, coach: Coach) -> HttpResponse:
    context = {"coach": coach, "section": "preview"}
    context.update(_preview_context(coach, request.GET.get("offering"), timezone.now()))
    return render(request, "coaching/dashboard/preview.html", context)


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@coach_required
def profile(request: HttpRequest, coach: Coach) -> HttpResponse:
    form = CoachProfileForm(request.POST if request.method == "POST" else None, instance=coach)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("dashboard_profile")
    return render(
        request, "coaching/dashboard/profile.html", {"coach": coach, "form": form, "section": "profile"}
    )


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
@require_http_methods(["GET"])
@coach_required
def offering_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    offerings = Offering.objects.filter(coach=coach)
    page = Paginator(offerings, OFFERINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "coaching/dashboard/offering_list.html",
        {"coach": coach, "page": page, "section": "offerings"},
    )


def _offering_form(request: HttpRequest, coach: Coach, offering: Offering | None) -> HttpResponse:
    today = _local_today(coach, timezone.now())
    form = OfferingForm(
        request.POST if request.method == "POST" else None, instance=offering, coach=coach, today=today
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save()
        except IntegrityError:
            # Two submissions raced past the slug check: the database constraint caught it.
            form.add_error("slug", "You already have an offering at this address. Pick another.")
        else:
            messages.success(request, f"“{saved.title}” saved.")
            return redirect("dashboard_offerings")
    return render(
        request,
        "coaching/dashboard/offering_form.html",
        {"coach": coach, "form": form, "offering": offering, "section": "offerings"},
    )


@require_http_methods(["GET", "POST"])
@coach_required
def offering_create(request: HttpRequest, coach: Coach) -> HttpResponse:
    return _offering_form(request, coach, None)


@require_http_methods(["GET", "POST"])
@coach_required
def offering_edit(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    return _offering_form(request, coach, get_object_or_404(Offering, pk=pk, coach=coach))


@require_http_methods(["GET", "POST"])
@coach_required
def offering_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes, unless the offering has bookings."""
    offering = get_object_or_404(Offering, pk=pk, coach=coach)
    has_bookings = offering.bookings.exists()
    if request.method == "POST" and not has_bookings:
        title = offering.title
        try:
            with transaction.atomic():
                offering.delete()
        except ProtectedError:
            has_bookings = True  # booked between the check and the delete
        else:
            messages.success(request, f"“{title}” deleted.")
            return redirect("dashboard_offerings")
    status = HTTPStatus.OK
    if request.method == "POST":
        status = HTTPStatus.CONFLICT
        messages.error(
            request, f"“{offering.title}” has bookings, so it can't be deleted. Deactivate it instead."
        )
    return render(
        request,
        "coaching/dashboard/offering_delete.html",
        {"coach": coach, "offering": offering, "has_bookings": has_bookings, "section": "offerings"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@coach_required
def offering_deactivate(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    offering = get_object_or_404(Offering, pk=pk, coach=coach)
    if request.method == "POST":
        Offering.objects.filter(pk=offering.pk, coach=coach).update(is_active=False)
        messages.success(
            request, f"“{offering.title}” deactivated: clients can no longer book it. Existing bookings stay."
        )
        return redirect("dashboard_offerings")
    return render(
        request,
        "coaching/dashboard/offering_deactivate.html",
        {"coach": coach, "offering": offering, "section": "offerings"},
    )


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@coach_required
def weekly_hours(request: HttpRequest, coach: Coach) -> HttpResponse:
    form = WeeklyHoursForm(request.POST if request.method == "POST" else None, coach=coach)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Weekly hours saved.")
        return redirect("dashboard_hours")
    return render(
        request, "coaching/dashboard/weekly_hours.html", {"coach": coach, "form": form, "section": "hours"}
    )


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OverrideDay:
    day: date
    label: str
    rows: list[DateOverride]

    @property
    def first(self) -> DateOverride:
        return self.rows[0]

    @property
    def is_unavailable(self) -> bool:
        return any(row.is_unavailable for row in self.rows)

    @property
    def note(self) -> str:
        return next((row.note for row in self.rows if row.note), "")


@require_http_methods(["GET"])
@coach_required
def override_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Upcoming overrides, one entry per date (a date may have several windows)."""
    today = _local_today(coach, timezone.now())
    upcoming = DateOverride.objects.filter(coach=coach, date__gte=today)
    dates = upcoming.order_by("date").values_list("date", flat=True).distinct()
    page = Paginator(dates, OVERRIDE_DATES_PER_PAGE).get_page(request.GET.get("page"))
    rows = upcoming.filter(date__in=list(page.object_list)).order_by("date", "start")
    days = [
        OverrideDay(day, format_day(day), list(group)) for day, group in groupby(rows, key=lambda r: r.date)
    ]
    return render(
        request,
        "coaching/dashboard/override_list.html",
        {"coach": coach, "page": page, "days": days, "section": "overrides"},
    )


@require_http_methods(["GET", "POST"])
@coach_required
def override_create(request: HttpRequest, coach: Coach) -> HttpResponse:
    today = _local_today(coach, timezone.now())
    form = DateOverrideForm(request.POST if request.method == "POST" else None, coach=coach, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            rows = form.save()
        except IntegrityError:
            # A double submission raced past the form's check for this date.
            form.add_error("date", "You already have an override on this date. Remove it first to change it.")
        else:
            messages.success(request, f"Override for {format_day(rows[0].date)} saved.")
            return redirect("dashboard_overrides")
    return render(
        request,
        "coaching/dashboard/override_form.html",
        {"coach": coach, "form": form, "today": today, "section": "overrides"},
    )


@require_http_methods(["GET", "POST"])
@coach_required
def override_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Remove the override of one date: all of that date's rows, after confirmation."""
    override = get_object_or_404(DateOverride, pk=pk, coach=coach)
    same_day = DateOverride.objects.filter(coach=coach, date=override.date)
    label = format_day(override.date)
    if request.method == "POST":
        same_day.delete()
        messages.success(request, f"Override for {label} removed: your weekly hours apply again.")
        return redirect("dashboard_overrides")
    day = OverrideDay(override.date, label, list(same_day.order_by("start")))
    return render(
        request,
        "coaching/dashboard/override_delete.html",
        {"coach": coach, "override_day": day, "section": "overrides"},
    )
