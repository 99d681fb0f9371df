"""The waitlist's pages: joining from an offering's page, and an entry's own link /w/<token>/
(confirm, book or let go of a held time, leave the list). No login: the token is the secret.
A GET never writes: every change is a button (mail scanners that follow links change nothing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import intake
from booking.display import zone_options
from booking.models import WaitlistEntry, WaitlistHold
from booking.tokens import manage_token, waitlist_entry_for_token
from booking.views.public import _offering_or_not_bookable
from booking.waitlist import (
    SlotUnavailable,
    WaitlistError,
    waitlist_confirm,
    waitlist_join,
    waitlist_leave,
    waitlist_release,
    waitlist_take,
)
from booking.waitlist_forms import WaitlistForm
from coaching.models import Offering
from common.display import CallTime, day_label, visitor_zone
from common.errors import UserFacingError
from common.hour_cycle import locale_from_request
from common.ratelimit import manage_lookup_throttle, too_many_requests, waitlist_join_throttle
from common.shortcuts import found_or_404

WEEK = timedelta(days=6)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _date_param(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest, coach: str, offering: str) -> HttpResponse:
    """ "Tell me when a time opens": name, email, zone and the days wanted; then "check your inbox"."""
    found = _offering_or_not_bookable(request, coach, offering)
    if isinstance(found, HttpResponse):
        return found
    now = timezone.now()
    choice = visitor_zone(request, fallback=found.coach.time_zone)
    zones = zone_options(choice.name)
    if request.method == "POST":
        if not waitlist_join_throttle().allow_request(request):
            return too_many_requests(request)
        form = WaitlistForm(request.POST, zones=zones)
        if form.is_valid():
            data = form.cleaned_data
            try:
                waitlist_join(
                    offering=found,
                    name=data["name"],
                    email=data["email"],
                    time_zone=data["time_zone"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    locale=locale_from_request(request),
                    now=now,
                )
            except WaitlistError as exc:
                form.add_problem(exc.field, exc.message)
            else:
                return redirect("waitlist_sent", coach=found.coach.slug, offering=found.slug)
    else:
        today = now.astimezone(choice.zone).date()
        # Clamped to the horizon: a hand-made ?from=9999-12-31 is a form to correct, not a crash.
        horizon = today + timedelta(days=found.horizon_days)
        first = min(max(_date_param(request.GET.get("from", "")) or today, today), horizon)
        last = min(max(_date_param(request.GET.get("to", "")) or first + WEEK, first), horizon + WEEK)
        form = WaitlistForm(
            initial={"time_zone": choice.name, "date_from": first, "date_to": last}, zones=zones
        )
    return render(request, "booking/waitlist_join.html", _join_context(found, form))


def _join_context(offering: Offering, form: WaitlistForm) -> dict[str, Any]:
    return {
        "coach": offering.coach,
        "offering": offering,
        "form": form,
        "offering_url": reverse(
            "offering_page", kwargs={"coach": offering.coach.slug, "offering": offering.slug}
        ),
    }


@require_safe
def sent(request: HttpRequest, coach: str, offering: str) -> HttpResponse:
    found = _offering_or_not_bookable(request, coach, offering)
    if isinstance(found, HttpResponse):
        return found
    return render(request, "booking/waitlist_sent.html", _join_context(found, WaitlistForm()))


def _entry_or_response(request: HttpRequest, token: str) -> WaitlistEntry | HttpResponse:
    if not manage_lookup_throttle().allow_request(request):
        return too_many_requests(request)
    return found_or_404(waitlist_entry_for_token(token), "No waitlist entry for this link.")


def _live_hold(entry: WaitlistEntry, now: datetime) -> WaitlistHold | None:
    return (
        entry.holds.filter(status=WaitlistHold.Status.HELD, expires_at__gt=now)
        .order_by("-created_at")
        .first()
        if entry.status == WaitlistEntry.Status.WAITING
        else None
    )


def _entry_context(
    entry: WaitlistEntry,
    token: str,
    now: datetime,
    *,
    answers: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    hold = _live_hold(entry, now)
    zone = entry.time_zone
    taken = (
        entry.holds.filter(status=WaitlistHold.Status.TAKEN, booking__isnull=False)
        .select_related("booking")
        .first()
        if entry.status == WaitlistEntry.Status.BOOKED
        else None
    )
    return {
        "entry": entry,
        "coach": entry.coach,
        "offering": entry.offering,
        "token": token,
        "first_day": f"{day_label(entry.date_from)} {entry.date_from:%Y}",
        "last_day": f"{day_label(entry.date_to)} {entry.date_to:%Y}",
        "hold": hold,
        "when": CallTime.of(hold.start, hold.end, zone) if hold else None,
        "until": CallTime.of(hold.expires_at, None, zone) if hold else None,
        "questions": [
            {**q, "value": (answers or {}).get(q["key"], ""), "error": (errors or {}).get(q["key"], "")}
            for q in intake.questions(entry.offering)
        ]
        if hold
        else [],
        "booking_path": reverse("booking_manage", kwargs={"token": manage_token(taken.booking)})
        if taken
        else "",
        "is_open": entry.status in WaitlistEntry.OPEN_STATUSES,
        "offering_url": reverse(
            "offering_page", kwargs={"coach": entry.coach.slug, "offering": entry.offering.slug}
        ),
    }


@require_safe
def entry_page(request: HttpRequest, token: str) -> HttpResponse:
    found = _entry_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    return _private(
        render(request, "booking/waitlist_entry.html", _entry_context(found, token, timezone.now()))
    )


@require_POST
def entry_confirm(request: HttpRequest, token: str) -> HttpResponse:
    found = _entry_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    outcome = waitlist_confirm(entry=found)
    if outcome == "confirmed":
        messages.success(request, "You're on the list. We'll email you when a time in your days opens.")
    elif outcome == "ended":
        messages.info(request, "This waitlist entry has ended. Join again from the booking page if you like.")
    return redirect("waitlist_entry", token=token)


@require_POST
def entry_take(request: HttpRequest, token: str) -> HttpResponse:
    found = _entry_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    now = timezone.now()
    hold_id = _int(request.POST.get("hold", ""))
    answers: dict[str, str] = {}
    questions = intake.questions(found.offering)
    if questions:
        values = {q["key"]: str(request.POST.get(q["key"], "")) for q in questions}
        try:
            answers = intake.clean_answers(found.offering, values)
        except ValidationError as exc:
            errors = {key: " ".join(problems) for key, problems in exc.message_dict.items()}
            shown = {key: value[: intake.MAX_ANSWER_LENGTH] for key, value in values.items()}
            context = _entry_context(found, token, now, answers=shown, errors=errors)
            return _private(render(request, "booking/waitlist_entry.html", context, status=400))
    try:
        booking = waitlist_take(entry=found, hold_id=hold_id or 0, answers=answers, now=now)
    except SlotUnavailable:
        messages.error(
            request, "Sorry, this time went to someone else. You're still on the list for another."
        )
        return redirect("waitlist_entry", token=token)
    except UserFacingError as exc:
        # The hold is not this entry's or has ended, or the call changed meanwhile (it now
        # needs a package, say): the message says what to do.
        messages.error(request, exc.message)
        return redirect("waitlist_entry", token=token)
    return redirect("booking_confirmed", token=manage_token(booking))


@require_POST
def entry_release(request: HttpRequest, token: str) -> HttpResponse:
    found = _entry_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    if waitlist_release(entry=found, hold_id=_int(request.POST.get("hold", "")) or 0):
        messages.info(request, "We've passed that time on. You're still on the list for another.")
    return redirect("waitlist_entry", token=token)


@require_http_methods(["GET", "HEAD", "POST"])
def entry_leave(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "leave the list?"; POST leaves."""
    found = _entry_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    if request.method == "POST":
        if waitlist_leave(entry=found):
            messages.success(request, "You've left the waitlist. We won't email you about it again.")
        return redirect("waitlist_entry", token=token)
    context = _entry_context(found, token, timezone.now())
    return _private(render(request, "booking/waitlist_leave.html", context))


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None
