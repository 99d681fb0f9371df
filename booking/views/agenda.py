"""The coach's agenda (the dashboard's home) and the week calendar.

The agenda: today's calls and the next seven days in the coach's zone, bookings waiting for
approval, and calls that ended without an outcome. The calendar: one week of bookings and
busy time, Monday to Sunday in the coach's zone, ``?week=YYYY-MM-DD`` (any day of the week
wanted; anything else shows this week).

Both read through booking/selectors.py in a fixed number of queries, whatever the number of
bookings, and format in the coach's zone here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking import invites, selectors
from booking.models import Booking
from coaching.availability import local_day_bounds
from coaching.models import Coach
from coaching.permissions import coach_required
from coaching.selectors import coach_offerings
from common.display import CallTime, day_label, short_day_label, time_label, week_title, year_in_range
from common.emails import absolute_url
from practice import selectors as practice_selectors
from practice.views import pass_row

AGENDA_DAYS = 7  # the days after today the agenda shows
PENDING_SHOWN = 10
OUTCOME_SHOWN = 10
EXPIRING_SHOWN = 10
WEEK = 7


@dataclass(frozen=True)
class AgendaCall:
    """One call as the agenda lists it, in the coach's zone."""

    booking: Booking
    time: CallTime
    client_time: CallTime | None  # None when the client is in the coach's zone
    join_url: str
    answers: list[tuple[str, str]]

    @property
    def is_pending(self) -> bool:
        return self.booking.status == Booking.Status.PENDING


@dataclass(frozen=True)
class AgendaDay:
    day: date
    label: str
    calls: list[AgendaCall]


def _answers(booking: Booking) -> list[tuple[str, str]]:
    # Stored as {question label: answer}; anything else (edited by hand in admin) shows nothing.
    answers = booking.answers if isinstance(booking.answers, dict) else {}
    return [(str(label), str(value)) for label, value in answers.items() if str(value).strip()]


def _agenda_call(booking: Booking, coach: Coach) -> AgendaCall:
    # The selectors load the offering only; the meeting link reads the coach too (no query).
    booking.coach = coach
    booking.offering.coach = coach
    same_zone = booking.client_time_zone == coach.time_zone
    try:
        client_time = None if same_zone else CallTime.of(booking.start, booking.end, booking.client_time_zone)
    except (ValueError, KeyError):  # a zone name edited by hand in admin: show the coach's only
        client_time = None
    return AgendaCall(
        booking=booking,
        time=CallTime.of(booking.start, booking.end, coach.time_zone),
        client_time=client_time,
        join_url=invites.meeting_url(booking),
        answers=_answers(booking),
    )


def _day_label(day: date, today: date) -> str:
    if day == today + timedelta(days=1):
        return f"Tomorrow, {day_label(day)}"
    return day_label(day)


@coach_required
@require_GET
def agenda(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Today's calls, the next seven days, approvals waiting and calls that need an outcome."""
    now = timezone.now()
    zone = ZoneInfo(coach.time_zone)
    today = now.astimezone(zone).date()
    today_start, today_end = local_day_bounds(zone, today)
    window_end = local_day_bounds(zone, today + timedelta(days=AGENDA_DAYS))[1]

    calls = [
        _agenda_call(b, coach)
        for b in selectors.coach_calls_between(coach=coach, start=today_start, end=window_end)
    ]
    today_calls: list[AgendaCall] = []
    by_day: dict[date, list[AgendaCall]] = {}
    for call in calls:
        # A call belongs to the day it starts on; one running since yesterday is today's.
        day = max(call.booking.start.astimezone(zone).date(), today)
        if day == today:
            today_calls.append(call)
        else:
            by_day.setdefault(day, []).append(call)
    week_days = [AgendaDay(day, _day_label(day, today), by_day[day]) for day in sorted(by_day)]

    pending = list(selectors.coach_pending_bookings(coach=coach, now=now)[: PENDING_SHOWN + 1])
    outcome = selectors.coach_calls_needing_outcome(coach=coach, now=now, limit=OUTCOME_SHOWN + 1)
    offerings = [o for o in coach_offerings(coach=coach).order_by("title", "pk") if o.is_active]
    # Passes whose sessions run out soon (one query): the coach may remind or extend.
    expiring = list(practice_selectors.passes_expiring(coach=coach, now=now)[: EXPIRING_SHOWN + 1])

    context: dict[str, Any] = {
        "section": "home",
        "coach": coach,
        "coach_zone": coach.time_zone,
        "today_label": day_label(today),
        "today_calls": today_calls,
        "week_days": week_days,
        "week_last_label": day_label(today + timedelta(days=AGENDA_DAYS)),
        "pending_calls": [_agenda_call(b, coach) for b in pending[:PENDING_SHOWN]],
        "more_pending": len(pending) > PENDING_SHOWN,
        "outcome_calls": [_agenda_call(b, coach) for b in outcome[:OUTCOME_SHOWN]],
        "more_outcome": len(outcome) > OUTCOME_SHOWN,
        "expiring_passes": [pass_row(p, coach.time_zone, now) for p in expiring[:EXPIRING_SHOWN]],
        "more_expiring": len(expiring) > EXPIRING_SHOWN,
        "is_empty": not (calls or pending or outcome),
        "public_url": absolute_url(coach.get_absolute_url()),
        "offerings": offerings,
        "offering_links": [
            (o, absolute_url(reverse("offering_page", kwargs={"coach": coach.slug, "offering": o.slug})))
            for o in offerings
            if o.is_listed
        ],
    }
    return render(request, "booking/dashboard/home.html", context)


# ---------------------------------------------------------------------------
# The week calendar
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CalendarEvent:
    """A booking or a busy block on one day of the calendar."""

    kind: str  # "booking" or "busy"
    start: datetime  # the whole event's instants (UTC); the labels are the part on this day
    iso: str
    start_label: str
    end_label: str
    from_before: bool  # it started on an earlier day
    to_after: bool  # it goes on into the next day
    title: str
    booking: Booking | None = None

    @property
    def is_pending(self) -> bool:
        return self.booking is not None and self.booking.status == Booking.Status.PENDING


@dataclass(frozen=True)
class CalendarDay:
    day: date
    label: str
    short_label: str
    is_today: bool
    events: list[CalendarEvent]


def week_start(value: str, today: date) -> date:
    """The Monday of the week ``value`` (``YYYY-MM-DD``) falls in; this week's for anything else."""
    try:
        day = date.fromisoformat(value[:10]) if value else today
    except ValueError:
        day = today
    if not year_in_range(day):
        day = today
    return day - timedelta(days=day.weekday())


def _event(
    *,
    kind: str,
    start: datetime,
    end: datetime,
    day_start: datetime,
    day_end: datetime,
    zone: ZoneInfo,
    **extra: Any,
) -> CalendarEvent:
    from_before, to_after = start < day_start, end > day_end
    return CalendarEvent(
        kind=kind,
        start=start,
        iso=start.astimezone(zone).isoformat(),
        start_label=time_label(max(start, day_start), zone),
        end_label="" if to_after else time_label(end, zone),
        from_before=from_before,
        to_after=to_after,
        **extra,
    )


def calendar_days(
    *,
    first: date,
    zone: ZoneInfo,
    today: date,
    bookings: list[Booking],
    busy: list[tuple[datetime, datetime, str]],
) -> list[CalendarDay]:
    """Seven days from ``first`` in ``zone``, each with the bookings and busy time on it in time order.

    An event over midnight shows on each day it touches, cut to that day.
    """
    days = []
    for n in range(WEEK):
        day = first + timedelta(days=n)
        day_start, day_end = local_day_bounds(zone, day)
        events = [
            _event(
                kind="booking",
                start=b.start,
                end=b.end,
                day_start=day_start,
                day_end=day_end,
                zone=zone,
                title=b.offering.title,
                booking=b,
            )
            for b in bookings
            if b.start < day_end and b.end > day_start
        ]
        events += [
            _event(
                kind="busy",
                start=start,
                end=end,
                day_start=day_start,
                day_end=day_end,
                zone=zone,
                title=name,
            )
            for start, end, name in busy
            if start < day_end and end > day_start
        ]
        # Time order; on a tie, bookings before busy time (the coach's own calls read first).
        events.sort(key=lambda e: (max(e.start, day_start), e.kind != "booking"))
        days.append(CalendarDay(day, day_label(day), short_day_label(day), day == today, events))
    return days


@coach_required
@require_GET
def week_calendar(request: HttpRequest, coach: Coach) -> HttpResponse:
    """One week of the coach's bookings and busy time, Monday to Sunday in the coach's zone."""
    now = timezone.now()
    zone = ZoneInfo(coach.time_zone)
    today = now.astimezone(zone).date()
    first = week_start(request.GET.get("week", ""), today)
    last = first + timedelta(days=WEEK - 1)
    start, end = local_day_bounds(zone, first)[0], local_day_bounds(zone, last)[1]
    bookings = selectors.coach_calendar_bookings(coach=coach, start=start, end=end)
    busy = selectors.coach_busy_between(coach=coach, start=start, end=end)
    days = calendar_days(first=first, zone=zone, today=today, bookings=bookings, busy=busy)
    this_week = today - timedelta(days=today.weekday())
    url = reverse("dashboard_calendar")
    context: dict[str, Any] = {
        "section": "calendar",
        "coach": coach,
        "coach_zone": coach.time_zone,
        "days": days,
        "title": week_title(first, last),
        "is_this_week": first == this_week,
        "prev_url": f"{url}?week={first - timedelta(days=WEEK)}",
        "next_url": f"{url}?week={first + timedelta(days=WEEK)}",
        "this_week_url": url,
        "booking_count": len(bookings),
        "pending_count": sum(1 for b in bookings if b.status == Booking.Status.PENDING),
        "busy_count": len(busy),
    }
    return render(request, "booking/dashboard/calendar.html", context)
