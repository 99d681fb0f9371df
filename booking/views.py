"""Public booking pages: the offering's slot picker, the booking form, the confirmation,
the manage link (cancel, reschedule) and "my bookings".

Views stay thin: reads come from the selectors, every change goes through
booking/services.py, and every problem a client can cause ends as a page that says
what went wrong (a re-rendered form or a 4xx), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.timezones import is_valid_timezone, timezone_names
from booking import selectors
from booking.calendar_links import calendar_links
from booking.forms import BookingForm, CancelForm, RescheduleForm, iso_utc, new_form_token, parse_start
from booking.models import Booking, BookingEvent
from booking.services import (
    BookingError,
    IdempotencyConflict,
    SlotUnavailable,
    booking_cancel,
    booking_create,
    booking_reschedule,
    client_cancel_problem,
    client_reschedule_problem,
    request_fingerprint,
)
from booking.tokens import booking_for_manage_token, manage_token
from coaching.availability import local_day_bounds
from coaching.community import subscriber_subscribe
from coaching.models import Offering, Subscriber
from coaching.selectors import next_free_slots, offering_free_slots, offering_slot_is_free
from config.ratelimit import booking_create_throttle, manage_lookup_throttle

WEEK = 7
BOOKINGS_PER_PAGE = 10
ALTERNATIVES = 3
_TICK = timedelta(microseconds=1)
MAX_ZONE_PARAM = 64
TOO_MANY_MESSAGE = "Too many requests from your address. Please wait a minute and try again."


# ---------------------------------------------------------------------------
# Showing instants in a zone
# ---------------------------------------------------------------------------
def day_label(value: date) -> str:
    """``Wednesday 2 December``."""
    return f"{value:%A} {value.day} {value:%B}"


def time_label(value: datetime, zone: ZoneInfo) -> str:
    """``16:00``: the wall clock of ``value`` in ``zone``."""
    return value.astimezone(zone).strftime("%H:%M")


def zone_city(name: str) -> str:
    """``America/New_York`` -> ``New York``: how people name a zone."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def moment_label(value: datetime, zone_name: str) -> str:
    """``Wednesday 2 December 2026, 16:00`` in ``zone_name``."""
    local = value.astimezone(ZoneInfo(zone_name))
    return f"{day_label(local.date())} {local:%Y}, {local:%H:%M}"


def week_title(start: date, end: date) -> str:
    """``1–7 December 2026``, ``28 November – 4 December 2026``, or both years in full."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


@dataclass(frozen=True)
class CallTime:
    """A call's time as one person sees it."""

    zone: str
    day: str  # "Wednesday 2 December 2026"
    start: str  # "16:00"
    end: str  # "16:30"
    iso: str  # start with the zone's offset, for <time datetime>

    @classmethod
    def of(cls, start: datetime, end: datetime, zone_name: str) -> CallTime:
        zone = ZoneInfo(zone_name)
        local = start.astimezone(zone)
        return cls(
            zone=zone_name,
            day=f"{day_label(local.date())} {local:%Y}",
            start=local.strftime("%H:%M"),
            end=time_label(end, zone),
            iso=local.isoformat(),
        )

    def __str__(self) -> str:
        return f"{self.day}, {self.start}–{self.end} ({self.zone})"


# ---------------------------------------------------------------------------
# The client's zone
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ZoneChoice:
    name: str
    # True when nothing told us the client's zone: the page script asks the browser.
    detect: bool = False
    problem: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)


def resolve_zone(request: HttpRequest, *, fallback: str) -> ZoneChoice:
    """The zone to show times in: ``?tz=``, else the signed-in user's, else ``fallback``.

    A valid ``?tz=`` from a signed-in user is remembered on their account.
    """
    raw = request.GET.get("tz", "").strip()
    user = request.user if request.user.is_authenticated else None
    remembered = user.time_zone if user is not None and is_valid_timezone(user.time_zone) else ""
    if raw and is_valid_timezone(raw):
        if user is not None:
            remember_zone(user, raw)
        return ZoneChoice(raw)
    problem = ""
    if raw:
        problem = (
            f"We don't know the time zone “{raw[:MAX_ZONE_PARAM]}”, so times are shown in "
            f"{remembered or fallback}. Pick your zone from the list."
        )
    if remembered:
        return ZoneChoice(remembered, problem=problem)
    return ZoneChoice(fallback, detect=not raw, problem=problem)


def remember_zone(user: User, name: str) -> None:
    if user.time_zone != name:
        user.time_zone = name
        User.objects.filter(pk=user.pk).update(time_zone=name)


def zone_options(current: str) -> tuple[str, ...]:
    names = timezone_names()
    return names if current in names else (current, *names)


def with_query(url: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{url}?{query}" if query else url


# ---------------------------------------------------------------------------
# The week view of free slots
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SlotLink:
    iso: str  # with the client's offset, for <time datetime>
    time: str  # "16:00"
    day: str  # "Wednesday 2 December", the visually hidden part of the link's name
    href: str


@dataclass(frozen=True)
class DayColumn:
    iso: str
    label: str
    slots: list[SlotLink]


@dataclass
class WeekView:
    start: date
    end: date
    title: str
    days: list[DayColumn]
    today: date
    last_day: date
    prev_url: str = ""
    next_url: str = ""
    slot_count: int = 0
    next_free_label: str = ""
    next_free_url: str = ""
    data: dict[str, str] = field(default_factory=dict)


def build_week(
    *,
    offering: Offering,
    zone: ZoneInfo,
    week_param: str,
    now: datetime,
    page_url: Callable[[date], str],
    slot_url: Callable[[datetime], str],
) -> WeekView:
    """Seven days of free slots in ``zone`` from ``?week=`` (clamped to today .. the horizon)."""
    today = now.astimezone(zone).date()
    last_day = (now + timedelta(days=offering.horizon_days)).astimezone(zone).date()
    try:
        start = date.fromisoformat(week_param[:10]) if week_param else today
    except ValueError:
        start = today
    start = min(max(start, today), last_day)
    end = start + timedelta(days=WEEK - 1)

    slots = offering_free_slots(offering=offering, start=start, end=end, tz=zone, now=now)
    by_day: dict[date, list[SlotLink]] = {start + timedelta(days=n): [] for n in range(WEEK)}
    for slot in slots:
        local = slot.astimezone(zone)
        day = local.date()
        if day in by_day:
            by_day[day].append(
                SlotLink(
                    iso=local.isoformat(),
                    time=local.strftime("%H:%M"),
                    day=day_label(day),
                    href=slot_url(slot),
                )
            )
    week = WeekView(
        start=start,
        end=end,
        title=week_title(start, end),
        days=[
            DayColumn(iso=day.isoformat(), label=day_label(day), slots=links) for day, links in by_day.items()
        ],
        today=today,
        last_day=last_day,
        slot_count=len(slots),
    )
    if start > today:
        week.prev_url = page_url(max(today, start - timedelta(days=WEEK)))
    if start + timedelta(days=WEEK) <= last_day:
        week.next_url = page_url(start + timedelta(days=WEEK))
    if not slots:
        # Point at the next week with a free time, or back at the first one.
        week_end = local_day_bounds(zone, end + timedelta(days=1))[0]
        upcoming = next_free_slots(offering=offering, after=week_end - _TICK, limit=1, now=now)
        if not upcoming and start > today:
            upcoming = next_free_slots(offering=offering, after=now, limit=1, now=now)
        if upcoming:
            local = upcoming[0].astimezone(zone)
            week.next_free_label = moment_label(upcoming[0], zone.key)
            week.next_free_url = page_url(local.date())
    week.data = {
        "week": start.isoformat(),
        "today": today.isoformat(),
        "last-day": last_day.isoformat(),
    }
    return week


def _offering_or_404(coach: str, offering: str) -> Offering:
    found = (
        Offering.objects.select_related("coach__user")
        .filter(coach__slug=coach, slug=offering, is_active=True)
        .first()
    )
    if found is None:
        raise Http404("No bookable call at this address.")
    return found


def _slots_api_url(offering: Offering) -> str:
    # The JSON API of the public contract; the page script reads it to change weeks quickly.
    return f"/api/v1/coaches/{offering.coach.slug}/offerings/{offering.slug}/slots"


def picker_context(
    request: HttpRequest,
    *,
    offering: Offering,
    choice: ZoneChoice,
    page_base: str,
    slot_base: str,
    now: datetime,
) -> dict[str, Any]:
    zone_name = choice.name
    week = build_week(
        offering=offering,
        zone=choice.zone,
        week_param=request.GET.get("week", ""),
        now=now,
        page_url=lambda day: with_query(page_base, tz=zone_name, week=day.isoformat()),
        slot_url=lambda slot: with_query(slot_base, start=iso_utc(slot), tz=zone_name),
    )
    coach = offering.coach
    return {
        "week": week,
        "zone_name": zone_name,
        "zone_choice": choice,
        "zones": zone_options(zone_name),
        "coach_zone": coach.time_zone,
        "coach_city": zone_city(coach.time_zone),
        "picker_action": page_base,
        "picker_data": {
            **week.data,
            "horizon": str(offering.horizon_days),
            "now": now.isoformat(),
            "api": _slots_api_url(offering),
            "slot-url": slot_base,
            "tz": zone_name,
            "detect-zone": "1" if choice.detect else "",
            "signed-in": "1" if request.user.is_authenticated else "",
        },
    }


# ---------------------------------------------------------------------------
# Offering page and booking form
# ---------------------------------------------------------------------------
@require_GET
def offering_page(request: HttpRequest, coach: str, offering: str) -> HttpResponse:
    """The offering's description and a week of free slots in the client's zone."""
    found = _offering_or_404(coach, offering)
    choice = resolve_zone(request, fallback=found.coach.time_zone)
    page_base = reverse("offering_page", kwargs={"coach": found.coach.slug, "offering": found.slug})
    context = {
        "coach": found.coach,
        "offering": found,
        "coach_email": found.coach.user.email,
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


def _alternatives(
    offering: Offering, *, after: datetime, zone_name: str, now: datetime
) -> list[dict[str, str]]:
    """The next free times after ``after`` (or after now), as links back to the form."""
    found = next_free_slots(offering=offering, after=max(after, now), limit=ALTERNATIVES, now=now)
    if not found and after > now:
        found = next_free_slots(offering=offering, after=now, limit=ALTERNATIVES, now=now)
    base = reverse("booking_form", kwargs={"coach": offering.coach.slug, "offering": offering.slug})
    zone = ZoneInfo(zone_name)
    return [
        {
            "label": f"{day_label(slot.astimezone(zone).date())}, {time_label(slot, zone)}",
            "iso": slot.astimezone(zone).isoformat(),
            "href": with_query(base, start=iso_utc(slot), tz=zone_name),
        }
        for slot in found
    ]


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
    found = _offering_or_404(coach, offering)
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        return _book_post(request, offering=found, user=user, now=now)

    choice = resolve_zone(request, fallback=found.coach.time_zone)
    start = parse_start(request.GET.get("start"))
    if start is None:
        return _render_booking_form(
            request,
            offering=found,
            form=None,
            start=None,
            zone_name=choice.name,
            now=now,
            problem="That link doesn't name a valid time. Please pick one of the free times.",
            status=HTTPStatus.BAD_REQUEST,
        )
    if not offering_slot_is_free(offering=found, start=start, now=now):
        return _render_booking_form(
            request,
            offering=found,
            form=None,
            start=start,
            zone_name=choice.name,
            now=now,
            problem=_unavailable_message(start, now),
            alternatives=_alternatives(found, after=start, zone_name=choice.name, now=now),
        )
    form = BookingForm(
        offering=found,
        user=user,
        initial={"start": start, "time_zone": choice.name, "form_token": new_form_token()},
    )
    return _render_booking_form(
        request, offering=found, form=form, start=start, zone_name=choice.name, now=now
    )


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
            client=user,
            idempotency_key=f"form:{data['form_token']}",
            fingerprint=request_fingerprint(form.fingerprint_payload()),
            now=now,
        )
    except SlotUnavailable:
        return _render_booking_form(
            form=None,
            problem=(
                "That time has already passed. Here are the next free times."
                if data["start"] <= now
                else "This time was just taken. Here are the next free times."
            ),
            alternatives=_alternatives(offering, after=data["start"], zone_name=zone_name, now=now),
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
        remember_zone(user, data["time_zone"])
    if data.get("join_community"):
        # A pending subscriber and a confirmation email: double opt-in, as from the signup form.
        subscriber_subscribe(
            coach=offering.coach,
            email=data["email"],
            first_name=data["name"].split()[0] if data["name"].split() else "",
            source=Subscriber.Source.BOOKING,
            consent_text=form.fields["join_community"].label,
            now=now,
        )
    return redirect("booking_confirmed", token=manage_token(result.booking))


def _with_new_token(form: BookingForm) -> BookingForm:
    """The same submitted form, rendered with a fresh one-time token."""
    form.data = form.data.copy()
    form.data["form_token"] = new_form_token()
    return form


# ---------------------------------------------------------------------------
# Manage link: confirmation, view, cancel, reschedule
# ---------------------------------------------------------------------------
def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "booking/too_many_requests.html",
        {"message": TOO_MANY_MESSAGE},
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )


def _booking_for_token(request: HttpRequest, token: str) -> Booking:
    booking = booking_for_manage_token(
        token, queryset=Booking.objects.select_related("coach__user", "offering")
    )
    if booking is None:
        raise Http404("No booking for this link.")
    return booking


def _booking_context(request: HttpRequest, booking: Booking, token: str) -> dict[str, Any]:
    coach = booking.coach
    manage_path = reverse("booking_manage", kwargs={"token": token})
    return {
        "booking": booking,
        "coach": coach,
        "offering": booking.offering,
        "token": token,
        "client_time": CallTime.of(booking.start, booking.end, booking.client_time_zone),
        "coach_time": CallTime.of(booking.start, booking.end, coach.time_zone),
        "same_zone": booking.client_time_zone == coach.time_zone,
        "manage_path": manage_path,
        "manage_link": request.build_absolute_uri(manage_path),
        "invite_path": f"{manage_path}invite.ics",
        "calendar_links": calendar_links(booking) if booking.is_active else {},
        "coach_email": coach.user.email,
        "is_pending": booking.status == Booking.Status.PENDING,
        "is_active": booking.is_active,
    }


def _throttled_booking(request: HttpRequest, token: str) -> Booking | HttpResponse:
    if not manage_lookup_throttle().allow_request(request):
        return _too_many(request)
    return _booking_for_token(request, token)


@require_GET
def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """Where the booking form lands: the time in both zones, the status and the manage link."""
    booking = _throttled_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    return render(request, "booking/confirmed.html", _booking_context(request, booking, token))


@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The booking behind a manage link, with cancel and reschedule when the policy allows."""
    booking = _throttled_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    now = timezone.now()
    context = _booking_context(request, booking, token)
    context["cancel_problem"] = client_cancel_problem(booking, now=now) if booking.is_active else ""
    context["reschedule_problem"] = client_reschedule_problem(booking, now=now) if booking.is_active else ""
    return render(request, "booking/manage.html", context)


@require_http_methods(["GET", "POST"])
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """A confirmation step with an optional reason; POST cancels within the policy."""
    booking = _throttled_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    now = timezone.now()
    context = _booking_context(request, booking, token)
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    if request.method == "POST" and form.is_valid():
        try:
            booking_cancel(
                booking=booking, by=BookingEvent.Actor.CLIENT, reason=form.cleaned_data["reason"], now=now
            )
        except BookingError as exc:
            context["error"] = exc.message
            status = HTTPStatus.CONFLICT
        else:
            messages.success(request, "Your booking is cancelled. We've let your coach know.")
            return redirect("booking_manage", token=token)
    context["form"] = form
    context["problem"] = client_cancel_problem(booking, now=now)
    return render(request, "booking/manage_cancel.html", context, status=status)


@require_http_methods(["GET", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """Pick a new free slot of the same offering (GET), confirm the move (GET ?start=), move (POST)."""
    booking = _throttled_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    now = timezone.now()
    context = _booking_context(request, booking, token)
    context["problem"] = problem = client_reschedule_problem(booking, now=now)
    raw_tz = request.GET.get("tz") or request.POST.get("tz", "")
    zone_name = raw_tz if is_valid_timezone(raw_tz) else booking.client_time_zone
    status = HTTPStatus.OK
    if problem:
        status = HTTPStatus.CONFLICT if request.method == "POST" else HTTPStatus.OK
        return render(request, "booking/manage_reschedule.html", context, status=status)

    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if form.is_valid():
            new_start = form.cleaned_data["start"]
            try:
                booking = booking_reschedule(
                    booking=booking, new_start=new_start, by=BookingEvent.Actor.CLIENT, now=now
                )
            except SlotUnavailable:
                context["error"] = (
                    "That time has already passed. Please pick another time."
                    if new_start <= now
                    else "This time was just taken. Please pick another time."
                )
                status = HTTPStatus.CONFLICT
            except BookingError as exc:
                context["error"] = exc.message
                status = HTTPStatus.CONFLICT
            else:
                moved = CallTime.of(booking.start, booking.end, booking.client_time_zone)
                messages.success(request, f"Your call is moved to {moved}. We've sent you an updated invite.")
                return redirect("booking_manage", token=token)
        else:
            context["error"] = "That isn't a valid time. Please pick one of the free times."
            status = HTTPStatus.BAD_REQUEST
    elif "start" in request.GET:
        new_start = parse_start(request.GET.get("start"))
        if new_start is None:
            context["error"] = "That link doesn't name a valid time. Please pick one of the free times."
            status = HTTPStatus.BAD_REQUEST
        elif new_start == booking.start:
            context["error"] = "Your call is already at this time. Please pick another time."
        elif not offering_slot_is_free(offering=booking.offering, start=new_start, now=now):
            context["error"] = _unavailable_message(new_start, now).replace(
                "Here are the next free times.", "Please pick another time."
            )
        else:
            context["new_time"] = CallTime.of(new_start, new_start + booking.offering.duration, zone_name)
            context["new_coach_time"] = CallTime.of(
                new_start, new_start + booking.offering.duration, booking.coach.time_zone
            )
            context["new_start"] = iso_utc(new_start)
            context["zone_name"] = zone_name
            return render(request, "booking/manage_reschedule.html", context)

    path = reverse("booking_manage_reschedule", kwargs={"token": token})
    booking.offering.coach = booking.coach
    context.update(
        picker_context(
            request,
            offering=booking.offering,
            choice=ZoneChoice(zone_name),
            page_base=path,
            slot_base=path,
            now=now,
        )
    )
    return render(request, "booking/manage_reschedule.html", context, status=status)


# ---------------------------------------------------------------------------
# My bookings
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    time: CallTime
    manage_path: str


def booking_rows(bookings: Any, zone_for: Callable[[Booking], str]) -> list[BookingRow]:
    return [
        BookingRow(
            booking=booking,
            time=CallTime.of(booking.start, booking.end, zone_for(booking)),
            manage_path=reverse("booking_manage", kwargs={"token": manage_token(booking)}),
        )
        for booking in bookings
    ]


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    """The signed-in client's bookings, upcoming and past, each linked to its manage page."""
    now = timezone.now()
    user = request.user
    zone = user.time_zone if is_valid_timezone(user.time_zone) else ""

    def zone_for(booking: Booking) -> str:
        return zone or booking.client_time_zone

    upcoming = Paginator(selectors.client_bookings(user=user, now=now, upcoming=True), BOOKINGS_PER_PAGE)
    past = Paginator(selectors.client_bookings(user=user, now=now, upcoming=False), BOOKINGS_PER_PAGE)
    upcoming_page = upcoming.get_page(request.GET.get("upcoming"))
    past_page = past.get_page(request.GET.get("past"))
    return render(
        request,
        "booking/my_bookings.html",
        {
            "upcoming_page": upcoming_page,
            "upcoming_rows": booking_rows(upcoming_page.object_list, zone_for),
            "past_page": past_page,
            "past_rows": booking_rows(past_page.object_list, zone_for),
            "zone": zone,
        },
    )
