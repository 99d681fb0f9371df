"""Public booking pages under /<coach>/: the landing page, an offering's week of free slots,
and the booking form with its confirmation.

Every problem a client can cause ends as a page that says what went wrong (a
re-rendered form or a 4xx), never a 500; every change goes through booking/services.py.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts.models import User
from accounts.services import remember_zone
from booking import display
from booking.display import offering_cards, picker_context, policy_lines, with_query
from booking.forms import BookingForm, new_form_token, parse_start
from booking.services import (
    BookingError,
    IdempotencyConflict,
    SlotUnavailable,
    booking_create,
    request_fingerprint,
)
from booking.slots import offering_slot_is_free
from booking.tokens import manage_token
from coaching.models import Offering
from coaching.selectors import coach_get_public, offering_bookable_get
from common.display import CallTime, visitor_zone
from common.hour_cycle import locale_from_request
from common.ratelimit import TOO_MANY_MESSAGE, booking_create_throttle
from common.shortcuts import found_or_404
from common.timezones import is_valid_timezone
from community import landing
from community.forms import CommunitySignupForm


def _offering_or_not_bookable(request: HttpRequest, coach: str, offering: str) -> Offering | HttpResponse:
    """The bookable offering, or our own 404 page.

    An offering the coach switched off (or renamed) still has links out there: under a
    coach that exists they get "not bookable now" with the coach's other offerings,
    rendered here rather than raised, so it looks the same with DEBUG on.
    """
    found = offering_bookable_get(coach_slug=coach, offering_slug=offering)
    if found is not None:
        return found
    owner = found_or_404(coach_get_public(slug=coach), "No bookable call at this address.")
    # Plain links, no next free times: this page answers any slug and stays cheap.
    context = {"coach": owner, "offerings": owner.listed_offerings}
    return render(request, "booking/not_bookable.html", context, status=HTTPStatus.NOT_FOUND)


@require_safe
def coach_page(request: HttpRequest, coach: str) -> HttpResponse:
    """The coach's landing page: intro, offerings with their next free time, community signup."""
    found = found_or_404(coach_get_public(slug=coach), "No coach at this address.")
    now = timezone.now()
    zone = visitor_zone(request, fallback=found.time_zone)
    cards = offering_cards(found, found.listed_offerings, zone=zone, now=now)
    context = {
        "coach": found,
        "zone": zone,
        "cards": cards,
        # The page script counts "today" and "tomorrow" from the server's clock.
        "now_iso": now.isoformat(),
        # The call to action books the offering the coach features, else the first listed one.
        "primary": next(
            (c for c in cards if c.offering.pk == found.featured_offering_id), cards[0] if cards else None
        ),
        "intro_html": landing.intro_html(found),
        "meta": landing.page_meta(found, request),
        "signup_form": CommunitySignupForm(coach=found) if found.community_enabled else None,
    }
    return render(request, "coaching/coach_page.html", context)


@require_GET
def offering_page(request: HttpRequest, coach: str, offering: str) -> HttpResponse:
    """The offering's description and a week of free slots in the client's zone."""
    found = _offering_or_not_bookable(request, coach, offering)
    if isinstance(found, HttpResponse):
        return found
    choice = visitor_zone(request, fallback=found.coach.time_zone)
    page_base = reverse("offering_page", kwargs={"coach": found.coach.slug, "offering": found.slug})
    context = {
        "coach": found.coach,
        "offering": found,
        "contact_email": found.coach.contact_email,
        "policy": policy_lines(found),
        **picker_context(
            request,
            offering=found,
            choice=choice,
            page_base=page_base,
            slot_base=reverse("booking_form", kwargs={"coach": found.coach.slug, "offering": found.slug}),
            now=timezone.now(),
        ),
    }
    return render(request, "booking/offering.html", context)


def _render_booking_form(
    request: HttpRequest,
    *,
    offering: Offering,
    form: BookingForm | None,
    start: datetime | None,
    zone_name: str,
    now: datetime,
    problem: str = "",
    alternatives: list[dict[str, str]] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    coach = offering.coach
    context = {
        "coach": coach,
        "offering": offering,
        "form": form,
        "problem": problem,
        "alternatives": alternatives or [],
        "zone_name": zone_name,
        "coach_zone": coach.time_zone,
        "client_time": CallTime.of(start, start + offering.duration, zone_name) if start else None,
        "coach_time": CallTime.of(start, start + offering.duration, coach.time_zone) if start else None,
        "policy": policy_lines(offering, start=start, zone_name=zone_name)
        if start
        else policy_lines(offering),
        "offering_url": with_query(
            reverse("offering_page", kwargs={"coach": coach.slug, "offering": offering.slug}),
            tz=zone_name,
            week=start.astimezone(ZoneInfo(zone_name)).date().isoformat() if start else None,
        ),
    }
    return render(request, "booking/book.html", context, status=status)


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, coach: str, offering: str) -> HttpResponse:
    """GET ``?start=&tz=``: the form for one free slot. POST: book it and show the confirmation."""
    found = _offering_or_not_bookable(request, coach, offering)
    if isinstance(found, HttpResponse):
        return found
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        return _book_post(request, offering=found, user=user, now=now)

    choice = visitor_zone(request, fallback=found.coach.time_zone)
    start = parse_start(request.GET.get("start"))
    page = partial(_render_booking_form, request, offering=found, start=start, zone_name=choice.name, now=now)
    if start is None:
        return page(
            form=None,
            problem="That link doesn't name a valid time. Please pick one of the free times.",
            status=HTTPStatus.BAD_REQUEST,
        )
    if not offering_slot_is_free(offering=found, start=start, now=now):
        alternatives = display.alternatives(found, after=start, zone_name=choice.name, now=now)
        return page(form=None, problem=_unavailable_message(start, now), alternatives=alternatives)
    form = BookingForm(
        offering=found,
        user=user,
        initial={"start": start, "time_zone": choice.name, "form_token": new_form_token()},
    )
    return page(form=form)


def _unavailable_message(start: datetime, now: datetime) -> str:
    if start <= now:
        return "That time has already passed. Here are the next free times."
    return "This time isn't free any more. Here are the next free times."


def _book_post(request: HttpRequest, *, offering: Offering, user: User | None, now: datetime) -> HttpResponse:
    form = BookingForm(request.POST, offering=offering, user=user)
    valid = form.is_valid()
    start = form.cleaned_data.get("start")
    zone_name = form.cleaned_data.get("time_zone") or (
        user.time_zone if user is not None and is_valid_timezone(user.time_zone) else offering.coach.time_zone
    )
    render_form: dict[str, Any] = {
        "request": request,
        "offering": offering,
        "start": start,
        "zone_name": zone_name,
        "now": now,
    }
    if not valid:
        if "form_token" in form.errors:
            _with_new_token(form)
        return _render_booking_form(form=form, **render_form)

    if not booking_create_throttle().allow_request(request):
        return _render_booking_form(
            form=form, problem=TOO_MANY_MESSAGE, status=HTTPStatus.TOO_MANY_REQUESTS, **render_form
        )
    data = form.cleaned_data
    try:
        result = booking_create(
            offering=offering,
            start=data["start"],
            client_name=data["name"],
            client_email=data["email"],
            client_time_zone=data["time_zone"],
            answers=data.get("answers", {}),
            note=data["note"],
            client_locale=locale_from_request(request),
            client_phone=data.get("phone", ""),
            client=user,
            idempotency_key=f"form:{data['form_token']}",
            fingerprint=request_fingerprint(form.fingerprint_payload()),
            join_community=bool(data.get("join_community")),
            now=now,
        )
    except SlotUnavailable:
        # The same form again, everything typed kept, with the next free times to pick from
        # (radio buttons in place of the hidden start): sending it books the one picked.
        found = display.alternatives(offering, after=data["start"], zone_name=zone_name, now=now)
        return _render_booking_form(
            form=_with_new_token(form),
            problem=("That time has already passed." if data["start"] <= now else "This time was just taken.")
            + (" Pick one of the next free times below: your details are kept." if found else ""),
            alternatives=found,
            status=HTTPStatus.CONFLICT,
            **render_form,
        )
    except IdempotencyConflict:
        return _render_booking_form(
            form=_with_new_token(form),
            problem=(
                "This form was already sent with other details, so nothing new was booked. "
                "Check your email for the first booking, or send the form again to book this time too."
            ),
            status=HTTPStatus.CONFLICT,
            **render_form,
        )
    except BookingError as exc:
        return _render_booking_form(form=form, problem=exc.message, status=HTTPStatus.CONFLICT, **render_form)
    if user is not None:
        remember_zone(user=user, name=data["time_zone"])
    return redirect("booking_confirmed", token=manage_token(result.booking))


def _with_new_token(form: BookingForm) -> BookingForm:
    """The same submitted form, rendered with a fresh one-time token."""
    form.data = form.data.copy()
    form.data["form_token"] = new_form_token()
    return form
