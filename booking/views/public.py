"""Public booking pages under /<coach>/: the landing page, an offering's week of free slots,
and the booking form with its confirmation.

Every problem a client can cause ends as a page that says what went wrong (a
re-rendered form or a 4xx), never a 500; every change goes through booking/services.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
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
    Booker,
    BookingError,
    IdempotencyConflict,
    SeriesUnavailable,
    SlotUnavailable,
    booking_create,
    booking_series_create,
    request_fingerprint,
)
from booking.slots import offering_slot_is_free
from booking.tokens import manage_token, series_manage_token
from coaching.models import Offering
from coaching.selectors import coach_get_public, offering_bookable_get
from common.display import CallTime, visitor_zone
from common.hour_cycle import locale_from_request
from common.ratelimit import TOO_MANY_MESSAGE, booking_create_throttle
from common.shortcuts import found_or_404
from common.timezones import is_valid_timezone
from community import landing
from community.forms import CommunitySignupForm
from practice.emails import choice_label, pass_summary
from practice.models import Pass
from practice.selectors import client_passes_usable, pass_covers, pass_for_booking
from practice.services import PassError, PassNotValidHere
from practice.tokens import pass_token


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


# The pass link a client arrived with, per coach, for this visit: the slot picker's links (and
# its script) carry only the time and the zone, so the booking form finds the pass here.
PASS_LINKS_SESSION_KEY = "booking.pass_links"  # noqa: S105 - a session key, not a password
MAX_PASS_LINKS = 5
MAX_PASS_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class PassOffer:
    """The passes a client may pay with on this page (the default first), by their link token,
    and why the pass of the link they came with is not one of them ("" when it is, or none)."""

    by_token: dict[str, Pass] = field(default_factory=dict)
    choices: list[tuple[str, str]] = field(default_factory=list)
    link_pass: Pass | None = None
    note: str = ""
    # "Three calls (2 left, until …)" of the link's pass, when it is offered.
    summary: str = ""


def _link_token(request: HttpRequest, coach_id: int) -> tuple[str, bool]:
    """``(token, from_address)``: the ``?pass=`` of the address, else the one this visit kept."""
    raw = request.GET.get("pass", "")
    if isinstance(raw, str) and raw.strip():
        return raw.strip()[:MAX_PASS_TOKEN_LENGTH], True
    links = request.session.get(PASS_LINKS_SESSION_KEY)
    token = links.get(str(coach_id), "") if isinstance(links, dict) else ""
    return (token if isinstance(token, str) else ""), False


def _remember_pass_link(request: HttpRequest, pass_obj: Pass, token: str) -> None:
    links = request.session.get(PASS_LINKS_SESSION_KEY)
    links = dict(links) if isinstance(links, dict) else {}
    key = str(pass_obj.coach_id)
    if links.get(key) == token:
        return
    links.pop(key, None)
    links[key] = token
    while len(links) > MAX_PASS_LINKS:
        links.pop(next(iter(links)))
    request.session[PASS_LINKS_SESSION_KEY] = links


def _why_not(pass_obj: Pass, *, offering: Offering, user: User | None, when: datetime, now: datetime) -> str:
    """Why the pass of a link can't pay for ``offering`` at ``when`` ("" when it can)."""
    name = f"Your package “{pass_obj.name}”"
    if user is not None and pass_obj.client.email != user.email.strip().lower():
        return f"{name} was sent to another email address: sign in with that address, or sign out, to use it."
    if not pass_covers(pass_obj, offering):
        return f"{name} doesn't cover this call."
    if pass_obj.expires_at <= now:
        return f"{name} has ended."
    if pass_obj.remaining <= 0:
        return f"{name} has no sessions left."
    if pass_obj.expires_at <= when:
        return f"{name} ends before this time: pick an earlier one to use it."
    return ""


def _pass_offer(
    request: HttpRequest,
    *,
    offering: Offering,
    user: User | None,
    start: datetime | None,
    zone_name: str,
    now: datetime,
    submitted: str | None = None,
    with_accounts: bool = True,
) -> PassOffer:
    """The passes this client may pay with: the pass of their link, then their account's.

    ``submitted``: the token a booking form sent. That pass is offered whatever it holds, so
    that booking_create says what is wrong with it (used up, ended, another address). Without
    it, the link's pass (``?pass=`` or this visit's) is offered only when it can pay, else the
    offer says why. ``with_accounts``: look up the signed-in client's passes too.
    """
    when = start or now
    by_token: dict[str, Pass] = {}
    note = ""
    link_pass = None
    token, from_address = (
        (submitted, False) if submitted is not None else _link_token(request, offering.coach_id)
    )
    if token:
        found = pass_for_booking(token, offering=offering)
        if found is not None and found.coach_id == offering.coach_id:
            if from_address:
                _remember_pass_link(request, found, token)
            note = "" if submitted else _why_not(found, offering=offering, user=user, when=when, now=now)
            if not note:
                link_pass = found
                by_token[token] = found
        elif from_address:
            note = "The package link you followed isn't valid: open the one in your email again."
    if with_accounts and user is not None:
        for held in client_passes_usable(
            coach_id=offering.coach_id, email=user.email, offering_id=offering.pk
        ):
            if held.expires_at > when and (link_pass is None or held.pk != link_pass.pk):
                by_token[pass_token(held)] = held
    return PassOffer(
        by_token=by_token,
        choices=[(key, choice_label(held, zone_name)) for key, held in by_token.items()],
        link_pass=link_pass,
        note=note,
        summary=pass_summary(link_pass, zone_name) if link_pass is not None else "",
    )


def _private(response: HttpResponse) -> HttpResponse:
    """A page that carries a pass's link: never cached, never indexed (as the pass page)."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


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
    now = timezone.now()
    page_base = reverse("offering_page", kwargs={"coach": found.coach.slug, "offering": found.slug})
    user = request.user if request.user.is_authenticated else None
    # The account's passes matter here only to a package-only call (can they book at all?);
    # the booking form offers them in any case.
    offer = _pass_offer(
        request,
        offering=found,
        user=user,
        start=None,
        zone_name=choice.name,
        now=now,
        with_accounts=found.package_only,
    )
    context = {
        "coach": found.coach,
        "offering": found,
        "contact_email": found.coach.contact_email,
        "policy": policy_lines(found),
        "pass_offer": offer,
        "package_only_blocked": found.package_only and not offer.choices,
        **picker_context(
            request,
            offering=found,
            choice=choice,
            page_base=page_base,
            slot_base=reverse("booking_form", kwargs={"coach": found.coach.slug, "offering": found.slug}),
            now=now,
        ),
    }
    if not found.package_only:
        # "Tell me when a time opens", for the week shown (the client changes the days there).
        week_start = context["week"].start
        context["waitlist_url"] = with_query(
            reverse("waitlist_join", kwargs={"coach": found.coach.slug, "offering": found.slug}),
            tz=choice.name,
            **{"from": week_start.isoformat(), "to": (week_start + timedelta(days=6)).isoformat()},
        )
        context["week_has_full_days"] = any(not day.slots for day in context["week"].days)
    response = render(request, "booking/offering.html", context)
    return _private(response) if offer.link_pass is not None else response


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
    offer: PassOffer | None = None,
    review: list[display.SeriesDate] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    coach = offering.coach
    offer = offer or PassOffer()
    context = {
        # A series asked for: its dates to review before it is booked.
        "review": review or [],
        "review_free": sum(1 for row in review or [] if row.free),
        "review_taken": sum(1 for row in review or [] if not row.free),
        "coach": coach,
        "offering": offering,
        "form": form,
        "problem": problem,
        # A package-only call and no pass to pay with: an explanation instead of the form.
        "package_only_blocked": offering.package_only and not offer.choices,
        "pass_note": "" if problem else offer.note,
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
    if context["package_only_blocked"]:
        context["form"] = None
    response = render(request, "booking/book.html", context, status=status)
    return _private(response) if offer.choices else response


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
    offer = _pass_offer(request, offering=found, user=user, start=start, zone_name=choice.name, now=now)
    initial: dict[str, Any] = {"start": start, "time_zone": choice.name, "form_token": new_form_token()}
    if offer.link_pass is not None and user is None:
        # The pass is for one address: the form starts with it (and its name).
        initial.update(email=offer.link_pass.client.email, name=offer.link_pass.client.name)
    form = BookingForm(offering=found, user=user, passes=offer.choices, initial=initial)
    return page(form=form, offer=offer)


def _unavailable_message(start: datetime, now: datetime) -> str:
    if start <= now:
        return "That time has already passed. Here are the next free times."
    return "This time isn't free any more. Here are the next free times."


def _book_post(request: HttpRequest, *, offering: Offering, user: User | None, now: datetime) -> HttpResponse:
    fallback_zone = (
        user.time_zone if user is not None and is_valid_timezone(user.time_zone) else offering.coach.time_zone
    )
    posted_zone = request.POST.get("time_zone", "")
    submitted = request.POST.get("use_pass", "")[:MAX_PASS_TOKEN_LENGTH]
    offer = _pass_offer(
        request,
        offering=offering,
        user=user,
        start=parse_start(request.POST.get("start")),
        zone_name=posted_zone if is_valid_timezone(posted_zone) else fallback_zone,
        now=now,
        submitted=submitted or None,
    )
    form = BookingForm(request.POST, offering=offering, user=user, passes=offer.choices)
    valid = form.is_valid()
    if valid and submitted and submitted not in offer.by_token:
        # A pass was sent that opens nothing here (tampered, or of another coach): never book
        # without it behind the client's back.
        form.add_error(None, "The package you picked can't be used here. Open your package's link again.")
        valid = False
    start = form.cleaned_data.get("start")
    zone_name = form.cleaned_data.get("time_zone") or fallback_zone
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
        return _render_booking_form(form=form, offer=offer, **render_form)

    if not booking_create_throttle().allow_request(request):
        return _render_booking_form(
            form=form,
            problem=TOO_MANY_MESSAGE,
            status=HTTPStatus.TOO_MANY_REQUESTS,
            offer=offer,
            **render_form,
        )
    data = form.cleaned_data
    client_pass = offer.by_token.get(data.get("use_pass") or "")
    if form.series_key:
        return _book_series(
            request, form, offer=offer, client_pass=client_pass, user=user, render_form=render_form
        )
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
            client_pass=client_pass,
            idempotency_key=f"form:{data['form_token']}",
            fingerprint=request_fingerprint(form.fingerprint_payload()),
            join_community=bool(data.get("join_community")),
            now=now,
        )
    except PassError as exc:
        return _pass_problem(form, exc, client_pass=client_pass, user=user, **render_form)
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
            offer=offer,
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
            offer=offer,
            **render_form,
        )
    except BookingError as exc:
        return _render_booking_form(
            form=form, problem=exc.message, status=HTTPStatus.CONFLICT, offer=offer, **render_form
        )
    if user is not None:
        remember_zone(user=user, name=data["time_zone"])
    return redirect("booking_confirmed", token=manage_token(result.booking))


def _book_series(
    request: HttpRequest,
    form: BookingForm,
    *,
    offer: PassOffer,
    client_pass: Pass | None,
    user: User | None,
    render_form: dict[str, Any],
) -> HttpResponse:
    """A series: first the review of its dates (free, taken, at another time for the client),
    then, sent again unchanged, the booking of all of them (or the free ones, if ticked)."""
    data = form.cleaned_data
    offering, now, zone_name = render_form["offering"], render_form["now"], render_form["zone_name"]
    review = display.series_review(
        offering,
        start=data["start"],
        interval_weeks=int(data["repeat"]),
        count=data["repeat_count"],
        zone_name=zone_name,
        now=now,
    )
    again = partial(_render_booking_form, offer=offer, review=review, **render_form)
    if data.get("series_reviewed") != form.series_key:
        form.data = form.data.copy()
        form.data["series_reviewed"] = form.series_key
        return again(form=form)
    try:
        made = booking_series_create(
            offering=offering,
            start=data["start"],
            interval_weeks=int(data["repeat"]),
            count=data["repeat_count"],
            skip_unavailable=bool(data.get("skip_unavailable")),
            booker=Booker(
                name=data["name"],
                email=data["email"],
                time_zone=data["time_zone"],
                locale=locale_from_request(request),
                phone=data.get("phone", ""),
                answers=data.get("answers", {}),
                note=data["note"],
                user=user,
                client_pass=client_pass,
            ),
            idempotency_key=f"form:{data['form_token']}",
            fingerprint=request_fingerprint(form.fingerprint_payload()),
            now=now,
        )
    except PassError as exc:
        return _pass_problem(form, exc, client_pass=client_pass, user=user, **render_form)
    except SeriesUnavailable:
        return again(
            form=_with_new_token(form),
            problem="Some of these dates aren't free: tick “book the free dates” below, or pick another time.",
            status=HTTPStatus.CONFLICT,
        )
    except BookingError as exc:
        return again(form=_with_new_token(form), problem=exc.message, status=HTTPStatus.CONFLICT)
    if user is not None:
        remember_zone(user=user, name=data["time_zone"])
    messages.success(
        request, f"Booked: {len(made.bookings)} calls. The confirmation with every date is on its way."
    )
    return redirect("series_manage", token=series_manage_token(made.series))


def _pass_problem(
    form: BookingForm,
    exc: PassError,
    *,
    client_pass: Pass | None,
    user: User | None,
    request: HttpRequest,
    offering: Offering,
    start: datetime,
    zone_name: str,
    now: datetime,
) -> HttpResponse:
    """The pass can't pay for this booking (used up, ended, not for this call or this address, or
    none for a package-only call): the form again, everything typed kept, the passes that can
    pay offered afresh, and the reason said. Nothing was booked."""
    wrong_address = (
        isinstance(exc, PassNotValidHere)
        and client_pass is not None
        and client_pass.client.email != form.cleaned_data["email"].strip().lower()
    )
    # A guest who typed another address keeps the pass on offer (they fix the address);
    # otherwise only the passes that can pay are offered.
    kept = pass_token(client_pass) if wrong_address and client_pass is not None and user is None else ""
    offer = _pass_offer(
        request,
        offering=offering,
        user=user,
        start=start,
        zone_name=zone_name,
        now=now,
        submitted=kept or None,
    )
    if not kept and client_pass is not None:
        offer = PassOffer(
            by_token={k: v for k, v in offer.by_token.items() if v.pk != client_pass.pk},
            choices=[(k, label) for k, label in offer.choices if offer.by_token[k].pk != client_pass.pk],
        )
    data = form.data.copy()
    data["use_pass"] = offer.choices[0][0] if offer.choices else ""
    fresh = BookingForm(data, offering=offering, user=user, passes=offer.choices)
    message = exc.message
    if fresh.is_valid() and wrong_address and client_pass is not None:
        if kept:
            message = (
                f"Your package “{client_pass.name}” was sent to another email address: "
                "book with that address to use it."
            )
            fresh.add_error("email", "Use the email address your package was sent to.")
        else:
            message = (
                f"Your package “{client_pass.name}” was sent to another email address: "
                "sign in with that address to use it."
            )
    return _render_booking_form(
        request,
        form=fresh,
        problem=message,
        offer=offer,
        offering=offering,
        start=start,
        zone_name=zone_name,
        now=now,
        status=exc.status,
    )


def _with_new_token(form: BookingForm) -> BookingForm:
    """The same submitted form, rendered with a fresh one-time token."""
    form.data = form.data.copy()
    form.data["form_token"] = new_form_token()
    return form
