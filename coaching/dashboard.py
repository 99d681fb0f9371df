"""The coach's setup pages in the dashboard: profile, offerings, weekly hours, date overrides.

Every view gets the signed-in coach from ``coach_required`` and loads rows through that
coach (coaching/selectors.py), so another coach's ids answer 404; every change goes
through coaching/services.py. The overview, preview, bookings and calendars pages join
booking's rows and live in booking/views/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from http import HTTPStatus
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from coaching import selectors, services
from coaching.clashes import BookedCall, Clashes, booking_clashes
from coaching.forms import CoachProfileForm, DateOverrideForm, OfferingForm, WeeklyHoursForm
from coaching.models import Coach, DateOverride, Offering
from coaching.permissions import coach_required
from common.display import CallTime
from common.display import short_day_label as format_day
from common.forms import Form, ModelForm
from common.hour_cycle import locale_from_request
from common.shortcuts import found_or_404

OFFERINGS_PER_PAGE = 20
OVERRIDE_DATES_PER_PAGE = 20


def _form_page(
    request: HttpRequest,
    form: Form | ModelForm,
    save: Callable[[], str],
    error_field: str,
    done: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A POST of a valid ``form`` runs ``save`` (it returns what to tell the coach) and goes to
    ``done``; a SetupError (a race the database caught) goes on ``error_field``; else the page again."""
    if request.method == "POST" and form.is_valid():
        try:
            message = save()
        except services.SetupError as exc:
            form.add_error(error_field, exc.message)
        else:
            messages.success(request, message)
            return redirect(done)
    return render(request, template, {**context, "form": form})


def _local_today(coach: Coach, now: datetime) -> date:
    return now.astimezone(coach.zone).date()


def _offering_or_404(coach: Coach, pk: int) -> Offering:
    return found_or_404(
        selectors.coach_offering_get(coach=coach, pk=pk), "No offering of yours with this number."
    )


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@coach_required
def profile(request: HttpRequest, coach: Coach) -> HttpResponse:
    form = CoachProfileForm(request.POST if request.method == "POST" else None, instance=coach)
    if request.method == "POST" and form.is_valid():
        # The browser's language decides 12- or 24-hour times in the coach's emails.
        form.instance.locale = locale_from_request(request) or coach.locale
        services.coach_update(coach=form.instance, fields=[*form.Meta.fields, "locale"])
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
    offerings = selectors.coach_offerings(coach=coach)
    page = Paginator(offerings, OFFERINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "coaching/dashboard/offering_list.html",
        {"coach": coach, "page": page, "section": "offerings"},
    )


@require_http_methods(["GET", "POST"])
@coach_required
def offering_form(request: HttpRequest, coach: Coach, pk: int | None = None) -> HttpResponse:
    """A new offering, or the coach's offering ``pk``: every setting, its intake questions and reminders."""
    offering = _offering_or_404(coach, pk) if pk is not None else None
    today = _local_today(coach, timezone.now())
    form = OfferingForm(
        request.POST if request.method == "POST" else None, instance=offering, coach=coach, today=today
    )

    def save() -> str:
        # Two submissions may race past the slug check: the database constraint catches it.
        return f"“{services.offering_save(coach=coach, offering=form.cleaned_offering()).title}” saved."

    context = {"coach": coach, "offering": offering, "section": "offerings"}
    return _form_page(
        request, form, save, "slug", "dashboard_offerings", "coaching/dashboard/offering_form.html", context
    )


@require_http_methods(["GET", "POST"])
@coach_required
def offering_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes, unless the offering has bookings."""
    offering = _offering_or_404(coach, pk)
    has_bookings = selectors.offering_has_bookings(offering=offering)
    if request.method == "POST" and not has_bookings:
        title = offering.title
        try:
            services.offering_delete(offering=offering)
        except services.SetupError:
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
    offering = _offering_or_404(coach, pk)
    if request.method == "POST":
        services.offering_deactivate(offering=offering)
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
# Booked calls a change of hours leaves outside them (coaching/clashes.py)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ClashRow:
    call: BookedCall
    time: CallTime


def _clash_context(
    request: HttpRequest, coach: Coach, clashes: Clashes, form: Form | None, where: str
) -> dict[str, Any]:
    """What templates/coaching/dashboard/_clashes.html shows: the warning, the calls, and the
    posted values that "save anyway" sends again (with the warning's token)."""
    if not clashes:
        return {"clashes": clashes}
    if clashes.total == 1:
        message = f"1 booked call falls outside {where}. It stays booked unless you move or cancel it."
    else:
        message = (
            f"{clashes.total} booked calls fall outside {where}. "
            "They stay booked unless you move or cancel them."
        )
    resubmit = (
        [] if form is None else [(name, request.POST[name]) for name in form.fields if name in request.POST]
    )
    return {
        "clashes": clashes,
        "clash_message": message,
        "clash_rows": [
            ClashRow(call, CallTime.of(call.start, call.end, coach.time_zone)) for call in clashes.listed
        ],
        "resubmit": resubmit,
    }


def _kept_note(clashes: Clashes, outside: str = "outside them") -> str:
    """What the message after "save anyway" adds: the calls were left as they were."""
    if not clashes:
        return ""
    if clashes.total == 1:
        return f" The booked call {outside} was kept: move or cancel it from Bookings if you need to."
    return (
        f" The {clashes.total} booked calls {outside} were kept: "
        "move or cancel them from Bookings if you need to."
    )


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@coach_required
def weekly_hours(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The week grid. A change that leaves booked calls outside the hours is saved only after
    "save anyway"; the calls are never touched."""
    form = WeeklyHoursForm(request.POST if request.method == "POST" else None, coach=coach)
    clashes = Clashes()
    if request.method == "POST" and form.is_valid():
        clashes = booking_clashes(coach=coach, now=timezone.now(), weekly=form.windows)
        if not clashes or clashes.confirmed_by(request.POST.get("confirm")):
            services.weekly_hours_replace(coach=coach, windows=form.windows)
            messages.success(request, "Weekly hours saved." + _kept_note(clashes))
            return redirect("dashboard_hours")
    context = {"coach": coach, "form": form, "section": "hours"}
    context.update(_clash_context(request, coach, clashes, form, "these hours"))
    return render(request, "coaching/dashboard/weekly_hours.html", context)


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
    dates = selectors.coach_override_dates(coach=coach, since=today)
    page = Paginator(dates, OVERRIDE_DATES_PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.coach_overrides_on(coach=coach, dates=list(page.object_list))
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
    """A day off or one-off hours; booked calls it would leave outside the hours need "save anyway"."""
    now = timezone.now()
    today = _local_today(coach, now)
    form = DateOverrideForm(request.POST if request.method == "POST" else None, coach=coach, today=today)
    clashes = Clashes()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        clashes = booking_clashes(coach=coach, now=now, overrides={data["date"]: form.windows})
        if not clashes or clashes.confirmed_by(request.POST.get("confirm")):
            try:
                services.date_override_create(
                    coach=coach, day=data["date"], note=data["note"], windows=form.windows
                )
            except services.SetupError as exc:
                # A double submission raced past the form's check for this date: the database caught it.
                form.add_error("date", exc.message)
                clashes = Clashes()
            else:
                messages.success(
                    request, f"Override for {format_day(data['date'])} saved." + _kept_note(clashes)
                )
                return redirect("dashboard_overrides")
    context = {"coach": coach, "today": today, "form": form, "section": "overrides"}
    context.update(_clash_context(request, coach, clashes, form, "these hours"))
    return render(request, "coaching/dashboard/override_form.html", context)


@require_http_methods(["GET", "POST"])
@coach_required
def override_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Remove the override of one date: all of that date's rows, after confirmation (and after
    "remove anyway" when the weekly hours would leave booked calls of that date outside)."""
    override = found_or_404(
        selectors.coach_override_get(coach=coach, pk=pk), "No such date override of yours."
    )
    label = format_day(override.date)
    clashes = Clashes()
    if request.method == "POST":
        clashes = booking_clashes(coach=coach, now=timezone.now(), overrides={override.date: None})
        if not clashes or clashes.confirmed_by(request.POST.get("confirm")):
            services.date_override_delete(coach=coach, day=override.date)
            note = _kept_note(clashes, "outside your weekly hours")
            messages.success(request, f"Override for {label} removed: your weekly hours apply again." + note)
            return redirect("dashboard_overrides")
    day = OverrideDay(
        override.date, label, list(selectors.coach_overrides_on(coach=coach, dates=[override.date]))
    )
    context = {"coach": coach, "override_day": day, "section": "overrides"}
    context.update(
        _clash_context(request, coach, clashes, None, "your weekly hours once this override is removed")
    )
    return render(request, "coaching/dashboard/override_delete.html", context)
