"""What the booking pages show, built from selectors: the week of free slots, the picker,
booking rows, "the next free times", the landing page's offering cards, the coach's preview.

Plain values for templates; no writes, and formatting in the viewer's zone (common/display.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from booking import credits
from booking import series as series_dates
from booking.forms import iso_utc
from booking.models import Booking
from booking.slots import next_free_slots, offering_free_among, offering_free_slots
from booking.tokens import client_feed_token, coach_feed_token, manage_token
from coaching.availability import local_day_bounds
from coaching.models import Coach, Offering
from common.display import (
    CallTime,
    VisitorZone,
    day_label,
    duration_text,
    moment_label,
    short_day_label,
    time_label,
    week_title,
    when_label,
    zone_city,
)
from common.emails import absolute_url
from common.timezones import timezone_names

WEEK = 7
ALTERNATIVES = 3
PREVIEW_DAYS = 7
_TICK = timedelta(microseconds=1)


def with_query(url: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{url}?{query}" if query else url


def zone_options(current: str) -> tuple[str, ...]:
    names = timezone_names()
    return names if current in names else (current, *names)


# ---------------------------------------------------------------------------
# The week view of free slots
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SlotLink:
    iso: str  # with the client's offset, for <time datetime>
    time: str  # "16:00" or "4:00 PM"
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
                    time=time_label(slot, zone),
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


def _slots_api_url(offering: Offering) -> str:
    # The JSON API of the public contract; the page script reads it to change weeks quickly.
    return f"/api/v1/coaches/{offering.coach.slug}/offerings/{offering.slug}/slots"


def picker_context(
    request: HttpRequest,
    *,
    offering: Offering,
    choice: VisitorZone,
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


def alternatives(
    offering: Offering, *, after: datetime, zone_name: str, now: datetime
) -> list[dict[str, str]]:
    """The next free times after ``after`` (or after now), as links back to the form (or choices in it)."""
    found = next_free_slots(offering=offering, after=max(after, now), limit=ALTERNATIVES, now=now)
    if not found and after > now:
        found = next_free_slots(offering=offering, after=now, limit=ALTERNATIVES, now=now)
    base = reverse("booking_form", kwargs={"coach": offering.coach.slug, "offering": offering.slug})
    zone = ZoneInfo(zone_name)
    return [
        {
            "label": f"{day_label(slot.astimezone(zone).date())}, {time_label(slot, zone)}",
            "iso": slot.astimezone(zone).isoformat(),
            "start": iso_utc(slot),  # the booking form's value, when offered as a choice in it
            "href": with_query(base, start=iso_utc(slot), tz=zone_name),
        }
        for slot in found
    ]


@dataclass(frozen=True)
class SeriesDate:
    """One date of a series the client is about to book, as the review lists it."""

    label: str  # the day and time in the client's zone, or the day alone when it has no time
    iso: str
    free: bool
    other_time: bool  # another wall-clock time for the client than the first date's


def series_review(
    offering: Offering, *, start: datetime, interval_weeks: int, count: int, zone_name: str, now: datetime
) -> list[SeriesDate]:
    """The dates of the series asked for, which are free now, and which fall at another time
    for the client (their zone and the coach's change DST on different dates)."""
    coach_zone, zone = offering.coach.zone, ZoneInfo(zone_name)
    dates = series_dates.occurrences(start, zone=coach_zone, interval_weeks=interval_weeks, count=count)
    free = offering_free_among(
        offering=offering, starts=[o.start for o in dates if o.start is not None], now=now
    )
    moved = {o.index for o in series_dates.other_time_for_client(dates, zone)}
    rows = []
    for occurrence in dates:
        if occurrence.start is None:  # a time the coach's clocks skip that day
            rows.append(SeriesDate(day_label(occurrence.day), occurrence.day.isoformat(), False, False))
            continue
        local = occurrence.start.astimezone(zone)
        rows.append(
            SeriesDate(
                label=f"{day_label(local.date())}, {time_label(occurrence.start, zone)}",
                iso=local.isoformat(),
                free=occurrence.start.astimezone(UTC) in free,
                other_time=occurrence.index in moved,
            )
        )
    return rows


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


# ---------------------------------------------------------------------------
# The landing page's offerings, with their next free time
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NextFree:
    iso: str
    label: str  # "Tue 10:30"


@dataclass(frozen=True)
class OfferingCard:
    offering: Offering
    url: str
    next_free: NextFree | None


def offering_cards(
    coach: Coach, offerings: Iterable[Offering], *, zone: VisitorZone, now: datetime
) -> list[OfferingCard]:
    """Each listed offering with its page's address and its next free time in ``zone``."""
    cards = []
    for offering in offerings:
        offering.coach = coach  # the selector reads offering.coach: spare it a query
        found = next_free_slots(offering=offering, after=now - _TICK, limit=1, now=now)
        url = reverse("offering_page", kwargs={"coach": coach.slug, "offering": offering.slug})
        if zone.is_visitors:
            url = f"{url}?{urlencode({'tz': zone.name})}"
        next_free = (
            NextFree(found[0].astimezone(zone.zone).isoformat(), when_label(found[0], zone.zone, now))
            if found
            else None
        )
        cards.append(OfferingCard(offering, url, next_free))
    return cards


# ---------------------------------------------------------------------------
# The coach's preview of their coming week
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


def preview_context(
    coach: Coach, offerings: list[Offering], chosen: str | None, now: datetime
) -> dict[str, Any]:
    """The coming week's free slots of one offering, grouped by the coach's local day."""
    for option in offerings:
        option.coach = coach  # the selector reads offering.coach: spare it a query
    offering = next((o for o in offerings if str(o.pk) == chosen), None) or next(
        (o for o in offerings if o.is_active), offerings[0] if offerings else None
    )
    context: dict[str, Any] = {"offerings": offerings, "preview_offering": offering}
    if offering is None:
        return context
    zone = coach.zone
    first = now.astimezone(zone).date()
    last = first + timedelta(days=PREVIEW_DAYS - 1)
    slots = offering_free_slots(offering=offering, start=first, end=last, tz=zone, now=now)
    by_day = {
        day: [PreviewSlot(local.isoformat(), time_label(local, zone)) for local in starts]
        for day, starts in groupby((s.astimezone(zone) for s in slots), key=lambda local: local.date())
    }
    days = [first + timedelta(days=n) for n in range(PREVIEW_DAYS)]
    context.update(
        preview_days=[PreviewDay(day, short_day_label(day), by_day.get(day, [])) for day in days],
        preview_slot_count=len(slots),
        preview_first=first,
        preview_last=last,
        preview_notice=duration_text(offering.min_notice_minutes) if offering.min_notice_minutes else "",
        preview_short_horizon=offering.horizon_days < PREVIEW_DAYS,
    )
    return context


# ---------------------------------------------------------------------------
# Feed links
# ---------------------------------------------------------------------------
def coach_feed_url(coach: Coach) -> str:
    token = coach_feed_token(coach)
    return absolute_url(reverse("coach_feed", kwargs={"token": token})) if token else ""


def client_feed_url(user: User) -> str:
    token = client_feed_token(user)
    return absolute_url(reverse("client_feed", kwargs={"token": token})) if token else ""


def webcal_url(url: str) -> str:
    """The same address as a ``webcal://`` link, which calendar apps open as "subscribe"."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url


# ---------------------------------------------------------------------------
# The cancellation and reschedule policy, as the client reads it before and after booking
# ---------------------------------------------------------------------------
def policy_lines(
    offering: Offering,
    *,
    start: datetime | None = None,
    zone_name: str = "",
    now: datetime | None = None,
    booking: Booking | None = None,
) -> list[str]:
    """What the client may do online, one sentence each.

    Without a time, the rules ("until 1 day before the call starts"). With ``start`` (or a
    ``booking``, which brings its time, its zone, the cancellation policy it kept, when it
    was made and how often it was moved), the deadlines in ``zone_name`` ("Cancel online
    until Tuesday 1 December 2026, 10:00."); a deadline already past at ``now`` says so,
    and whom to contact instead. Without a booking the time is one about to be booked, so
    its grace period after booking still lies ahead.
    """
    if booking is not None:
        start = booking.start
        zone_name = zone_name or booking.client_time_zone
    if start is None:
        return _policy_rules(offering)
    now = now or timezone.now()
    if booking is not None:
        kept = credits.policy_of(booking)
        notice, grace, booked_at = kept.notice_minutes, kept.grace_minutes, booking.created_at
        moves_left, late_credit = offering.max_reschedules - booking.reschedule_count, kept.late_credit
    else:
        notice, grace, booked_at = offering.cancel_notice_minutes, offering.cancel_grace_minutes, now
        moves_left, late_credit = offering.max_reschedules, ""
    coach_name = (booking.coach if booking is not None else offering.coach).display_name

    def moment(value: datetime) -> str:
        return moment_label(value, zone_name)

    cancel_by = start - timedelta(minutes=notice)
    move_by = start - timedelta(minutes=offering.reschedule_notice_minutes)
    grace_until = booked_at + timedelta(minutes=grace)
    grace_applies = bool(grace) and now <= grace_until and now < start
    can_cancel = now <= cancel_by and now < start
    can_move = moves_left > 0 and now <= move_by and now < start
    on_a_pass = booking is not None and booking.client_pass_id is not None

    lines: list[str] = []
    if can_cancel:
        lines.append(f"Cancel online until {moment(cancel_by)}.")
        if grace_applies:
            lines.append(
                f"Changed your mind? You can cancel within {duration_text(grace)} of booking, "
                "however close the call is."
            )
        if on_a_pass:
            lines.append(f"After that, cancelling online {_late_fate(late_credit)}.")
    elif grace_applies and booking is not None:
        lines.append(
            f"The cancellation deadline ({moment(cancel_by)}) has passed, but you can still cancel "
            f"online until {moment(grace_until)}, {duration_text(grace)} after booking. "
            f"After that, contact {coach_name}."
        )
    elif grace_applies:
        # A time about to be booked, or just booked: its grace period is all there is.
        lines.append(
            f"The cancellation deadline ({moment(cancel_by)}) has passed, but you can cancel online within "
            f"{duration_text(grace)} of booking, however close the call is. After that, contact {coach_name}."
        )
    elif on_a_pass and now < start:
        # A package session may still be called off online; its credit goes by the policy.
        lines.append(
            f"The cancellation deadline ({moment(cancel_by)}) has passed: cancelling online now "
            f"{_late_fate(late_credit)}."
        )
    elif not can_move:
        return [f"This call can no longer be cancelled or moved online; contact {coach_name}."]
    else:
        lines.append(f"This call can no longer be cancelled online; contact {coach_name}.")

    if can_move:
        times = "once" if moves_left == 1 else f"up to {moves_left} times"
        lines.append(f"Move it online until {moment(move_by)}, {times}.")
    elif offering.max_reschedules:
        lines.append(f"This call can no longer be moved online; contact {coach_name}.")
    else:
        lines.append(f"To move it, contact {coach_name}.")
    return lines


def _late_fate(late_credit: str) -> str:
    """What a late cancellation does to a package session's credit, to end a sentence."""
    if late_credit == Offering.LateCancelCredit.RETURN_LATE:
        return "puts the session back on your package, marked late"
    return "uses up the session"


def _policy_rules(offering: Offering) -> list[str]:
    """The policy as rules, before a time is picked."""

    def until(minutes: int, verb: str) -> str:
        if not minutes:
            return f"{verb} online any time before the call starts"
        return f"{verb} online until {duration_text(minutes)} before the call starts"

    lines = [until(offering.cancel_notice_minutes, "Cancel") + "."]
    if offering.cancel_grace_minutes:
        lines.append(
            f"Changed your mind? You can cancel within {duration_text(offering.cancel_grace_minutes)} "
            "of booking, however close the call is."
        )
    if offering.max_reschedules:
        times = "once" if offering.max_reschedules == 1 else f"up to {offering.max_reschedules} times"
        lines.append(until(offering.reschedule_notice_minutes, "Move it") + f", {times}.")
    else:
        lines.append("To move it, contact the coach.")
    return lines
