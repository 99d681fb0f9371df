"""iCalendar for bookings: the invite that goes with every booking email, and the feeds.

Pure functions: a booking (with ``coach``, ``coach.user`` and ``offering`` loaded) and
``now`` in, bytes out. One UID per booking, a growing SEQUENCE, REQUEST or CANCEL, times in
UTC: what calendars need to keep an event up to date (docs/architecture.md, "Invites and emails").

Every text property (SUMMARY, DESCRIPTION, LOCATION, URL, CN, mailto:, X-WR-CALNAME, NAME) passes
through ``common.validators.clean_line``/``clean_text``/``clean_address`` here, at output: rows
written before input was checked may hold line separators or controls, and a reader that
splits lines on them would see an injected ``ATTENDEE:`` or ``BEGIN:VALARM``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from icalendar import Alarm, Calendar, Component, Event, Timezone, vCalAddress, vDuration, vText

from booking.location import meeting_url, place_of
from booking.models import Booking, BookingSeries
from booking.series import occurrence_local
from booking.tokens import manage_token, series_manage_token
from coaching.models import Offering
from common.validators import clean_address, clean_line, clean_text

Method = Literal["REQUEST", "CANCEL"]
Audience = Literal["client", "coach"]

METHODS: frozenset[str] = frozenset({"REQUEST", "CANCEL"})
# Statuses in which a booking no longer takes place: its invite is a CANCEL.
CANCELLED_STATUSES = frozenset({Booking.Status.CANCELLED, Booking.Status.DECLINED})
ALARM_BEFORE = timedelta(minutes=15)
# How often subscribed calendars should come back for a feed (RFC 7986 and the
# older X-PUBLISHED-TTL that Outlook reads).
FEED_REFRESH = timedelta(minutes=15)
# The media type of every invite and feed we serve.
CALENDAR_TYPE = "text/calendar; charset=utf-8"


# ---------------------------------------------------------------------------
# Facts about a booking that invites, emails and calendar links share
# ---------------------------------------------------------------------------
def manage_url(booking: Booking) -> str:
    """The client's link to see, move or cancel the booking (no login needed)."""
    return f"{settings.SITE_URL}/b/{manage_token(booking)}/"


def series_manage_url(series: BookingSeries) -> str:
    """The client's link to a standing series: its calls, cancel from one on, its invite."""
    return f"{settings.SITE_URL}/s/{series_manage_token(series)}/"


def dashboard_url(booking: Booking) -> str:
    """The coach's page for the booking."""
    return settings.SITE_URL + reverse("dashboard_booking", kwargs={"reference": booking.reference})


def booking_uid(booking: Booking) -> str:
    """The booking's iCalendar UID: the same in every invite and feed, through every change.

    Built from the reference (the booking's public id, unique and never changed)
    rather than the database id, which would tell clients how many bookings there are.
    """
    return f"{booking.reference.lower()}@{settings.SITE_DOMAIN}"


def current_method(booking: Booking) -> Method:
    """The invite that describes the booking as it is now."""
    return "CANCEL" if booking.status in CANCELLED_STATUSES else "REQUEST"


def location_text(booking: Booking, *, audience: Audience = "client") -> str:
    """What goes in LOCATION: the link, the phone number or the address (one line)."""
    return place_of(booking, audience=audience).location


def event_summary(booking: Booking, *, audience: Audience) -> str:
    """``Intro call with Ada Lovelace`` for the client; with the client's name for the coach."""
    other = booking.client_name if audience == "coach" else booking.coach.display_name
    return clean_line(f"{booking.offering.title} with {other}")


def event_description(booking: Booking, *, audience: Audience) -> str:
    lines: list[str] = []
    status = booking.status
    if status == Booking.Status.PENDING:
        waiting_for = (
            "your approval" if audience == "coach" else f"{clean_line(booking.coach.display_name)}'s approval"
        )
        lines.append(f"Waiting for {waiting_for}.")
    elif status in CANCELLED_STATUSES:
        lines.append(
            "This call was declined." if status == Booking.Status.DECLINED else "This call was cancelled."
        )
    lines.append(event_summary(booking, audience=audience) + ".")
    if audience == "coach":
        lines.append(f"Client: {clean_line(booking.client_name)} <{clean_address(booking.client_email)}>")
    place = place_of(booking, audience=audience)
    if place.join_url:
        lines.append(f"Join: {place.join_url}")
    elif not place.is_video:
        lines.append(place.detail if place.kind == Offering.LocationKind.PHONE else place.location)
    if audience == "coach":
        lines.append(f"Open in your dashboard: {dashboard_url(booking)}")
    elif status not in CANCELLED_STATUSES:
        lines.append(f"See, move or cancel: {manage_url(booking)}")
    lines.append(f"Reference: {booking.reference}")
    # One line per fact: a name's own line breaks never make lines of their own.
    return "\n".join(clean_line(line) for line in lines)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------
def _param_text(value: str) -> str:
    """A name fit for a quoted parameter (CN) that every parser reads back the same.

    icalendar quotes the value, so commas, semicolons and colons are safe. Double
    quotes, line breaks and carets would need RFC 6868's ``^'``, ``^n`` and ``^^``,
    which Outlook and vobject do not decode: they are replaced instead. The exact
    name is kept in SUMMARY and DESCRIPTION, which use ordinary text escaping.
    """
    return clean_line(value.replace('"', "'").replace("^", " "))


def _address(email: str, name: str, **params: str) -> vCalAddress:
    # CAL-ADDRESS values are not escaped at all: nothing but the address may reach them.
    address = vCalAddress(f"mailto:{clean_address(email)}")
    address.params["CN"] = _param_text(name)
    for key, param in params.items():
        address.params[key] = param
    return address


def _calendar(*, method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.SITE_DOMAIN}//Coaching Calls//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("booking times must be aware datetimes")
    return value.astimezone(UTC)


def _event(
    booking: Booking,
    *,
    now: datetime,
    audience: Audience,
    cancelled: bool,
    with_people: bool,
) -> Event:
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", _utc(now))
    event.add("dtstart", _utc(booking.start))
    event.add("dtend", _utc(booking.end))
    if booking.created_at:
        event.add("created", _utc(booking.created_at))
    if booking.updated_at:
        event.add("last-modified", _utc(booking.updated_at))
    event.add("summary", vText(clean_line(event_summary(booking, audience=audience))))
    event.add("description", vText(clean_text(event_description(booking, audience=audience))))
    event.add("location", vText(clean_line(location_text(booking, audience=audience))))
    link = meeting_url(booking)
    if link:
        event.add("url", link)
    if cancelled:
        status = "CANCELLED"
    elif booking.status == Booking.Status.PENDING:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if with_people:
        coach = booking.coach
        organizer = coach.user.email if audience == "coach" else coach.reply_email
        event.add("organizer", _address(organizer, coach.display_name))
        event.add(
            "attendee",
            _address(
                booking.client_email,
                booking.client_name,
                CUTYPE="INDIVIDUAL",
                ROLE="REQ-PARTICIPANT",
                PARTSTAT="ACCEPTED",
                RSVP="FALSE",
            ),
        )
    return event


def _alarm(booking: Booking, *, audience: Audience) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", vText(clean_line(f"Soon: {event_summary(booking, audience=audience)}")))
    return alarm


# ---------------------------------------------------------------------------
# Invites
# ---------------------------------------------------------------------------
def invite_calendar(
    booking: Booking, *, method: Method, now: datetime, audience: Audience = "client"
) -> Calendar:
    """The iTIP message for ``booking``: a VCALENDAR with METHOD and one VEVENT.

    An occurrence of a series speaks for its series (one UID): a CANCEL names the occurrence
    by its RECURRENCE-ID; a REQUEST is the whole series as it stands (``series_calendar``,
    which reads the series' calls).
    """
    if method not in METHODS:
        raise ValueError(f"method must be REQUEST or CANCEL, not {method!r}")
    if booking.series_id is not None:
        if method == "CANCEL":
            return occurrence_cancel_calendar(booking, now=now, audience=audience)
        return series_calendar(booking.series, series_calls(booking.series), now=now, audience=audience)
    cancelled = method == "CANCEL"
    calendar = _calendar(method=method)
    event = _event(booking, now=now, audience=audience, cancelled=cancelled, with_people=True)
    if not cancelled:
        event.add_component(_alarm(booking, audience=audience))
    calendar.add_component(event)
    return calendar


def invite_bytes(booking: Booking, *, method: Method, now: datetime, audience: Audience = "client") -> bytes:
    """The invite as iCalendar bytes (UTF-8, CRLF line ends, lines folded at 75 octets)."""
    return invite_calendar(booking, method=method, now=now, audience=audience).to_ical()


# ---------------------------------------------------------------------------
# Standing series (issue 16): one VEVENT with an RRULE in the coach's zone
# ---------------------------------------------------------------------------
def series_uid(series: BookingSeries) -> str:
    """The series' UID: its master event and every occurrence's override share it."""
    return f"{series.reference.lower()}@{settings.SITE_DOMAIN}"


def series_original_start(series: BookingSeries, index: int) -> datetime:
    """Occurrence ``index``'s original time, aware in the series' zone: its RECURRENCE-ID,
    whatever the call was moved to (the same wall clock as the first, booking/series.py)."""
    zone = ZoneInfo(series.time_zone)
    local = occurrence_local(series.first_start, zone=zone, interval_weeks=series.interval_weeks, index=index)
    return local.replace(tzinfo=zone, fold=0)


def series_calls(series: BookingSeries) -> list[Booking]:
    """The series' bookings as ``series_calendar`` needs them (one query)."""
    return list(series.occurrences.select_related("coach__user", "offering").order_by("series_index"))


def _series_timezone(series: BookingSeries) -> Timezone:
    """The zone's definition over the series' span only: a short VTIMEZONE that every reader
    gets right (vobject misreads icalendar's default 1970-2038 one, RDATE lists and all)."""
    return Timezone.from_tzid(
        series.time_zone,
        first_date=series_original_start(series, 0).date() - timedelta(days=1),
        last_date=series_original_start(series, series.count - 1).date() + timedelta(days=1),
    )


def _as_occurrence(event: Event, booking: Booking, series: BookingSeries) -> Event:
    """``event`` (built for ``booking``) under the series' UID, named by its RECURRENCE-ID."""
    del event["uid"], event["sequence"]
    event.add("uid", series_uid(series))
    event.add("sequence", max(series.sequence, booking.sequence))
    event.add("recurrence-id", series_original_start(series, booking.series_index or 0))
    return event


def occurrence_cancel_calendar(booking: Booking, *, now: datetime, audience: Audience = "client") -> Calendar:
    """METHOD:CANCEL for one occurrence of a series: its UID and RECURRENCE-ID, STATUS:CANCELLED;
    the calendar drops that date and keeps the others."""
    series = booking.series
    calendar = _calendar(method="CANCEL")
    calendar.add_component(_series_timezone(series))
    event = _event(booking, now=now, audience=audience, cancelled=True, with_people=True)
    calendar.add_component(_as_occurrence(event, booking, series))
    return calendar


def _as_master(event: Event, series: BookingSeries) -> Event:
    """``event`` (built for one of the series' calls) as the series' master: its UID and
    SEQUENCE, at the first date's original time in the series' zone."""
    for name in ("uid", "sequence", "dtstart", "dtend"):
        del event[name]
    event.add("uid", series_uid(series))
    event.add("sequence", series.sequence)
    start = series_original_start(series, 0)
    event.add("dtstart", start)
    event.add("dtend", start + series.offering.duration)
    return event


def _series_components(
    series: BookingSeries, calls: Iterable[Booking], *, now: datetime, audience: Audience, with_people: bool
) -> list[Component]:
    """The VTIMEZONE, the master VEVENT (its RRULE and EXDATEs; STATUS:CANCELLED once no call
    is left) and an override per call moved off its date's time."""
    calls = list(calls)
    held = {b.series_index: b for b in calls if b.status not in CANCELLED_STATUSES}
    first = held[min(held)] if held else calls[0]
    master = _as_master(
        _event(first, now=now, audience=audience, cancelled=not held, with_people=with_people), series
    )
    master.add("rrule", {"FREQ": "WEEKLY", "INTERVAL": series.interval_weeks, "COUNT": series.count})
    missing = [series_original_start(series, i) for i in range(series.count) if i not in held]
    if held and missing:
        master.add("exdate", missing)
    if held and with_people:
        master.add_component(_alarm(first, audience=audience))
    components: list[Component] = [_series_timezone(series), master]
    for index, booking in sorted(held.items()):
        original = series_original_start(series, index)
        if booking.start == original and booking.end == original + series.offering.duration:
            continue
        override = _event(booking, now=now, audience=audience, cancelled=False, with_people=with_people)
        components.append(_as_occurrence(override, booking, series))
    return components


def series_calendar(
    series: BookingSeries, occurrences: Iterable[Booking], *, now: datetime, audience: Audience = "client"
) -> Calendar:
    """The REQUEST for a whole series: the master VEVENT (``DTSTART;TZID=`` the coach's zone,
    ``RRULE:FREQ=WEEKLY;INTERVAL;COUNT``, an ``EXDATE`` for each date without a call, the
    VTIMEZONE), then an override (same UID, ``RECURRENCE-ID``) for each call moved off its
    date's time. ``occurrences``: the series' bookings with ``coach``, ``coach.user`` and
    ``offering`` loaded; cancelled and declined ones count as dates without a call."""
    occurrences = list(occurrences)
    if all(b.status in CANCELLED_STATUSES for b in occurrences):
        raise ValueError("a series without a call left has no REQUEST: cancel it instead")
    calendar = _calendar(method="REQUEST")
    for component in _series_components(series, occurrences, now=now, audience=audience, with_people=True):
        calendar.add_component(component)
    return calendar


def series_invite(
    series: BookingSeries, *, now: datetime, audience: Audience = "client"
) -> tuple[Method, bytes]:
    """The message that describes the whole series as it is now: the REQUEST of its calls, or,
    with none left, a CANCEL of the series' UID (every date goes)."""
    calls = series_calls(series)
    if any(b.status not in CANCELLED_STATUSES for b in calls):
        return "REQUEST", series_calendar(series, calls, now=now, audience=audience).to_ical()
    calendar = _calendar(method="CANCEL")
    for component in _series_components(series, calls, now=now, audience=audience, with_people=True):
        calendar.add_component(component)
    return "CANCEL", calendar.to_ical()


# ---------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------
def feed_bytes(bookings: Iterable[Booking], *, audience: Audience, name: str, now: datetime) -> bytes:
    """A subscription feed: one VEVENT per booking, METHOD:PUBLISH.

    Cancelled and declined bookings stay in the feed as STATUS:CANCELLED for a while
    (the caller decides how long), so that calendars that copied the event drop it.
    Feeds carry no ORGANIZER, ATTENDEE or alarm: a subscribed calendar shows events;
    it should not offer to answer them or ring for them.
    """
    calendar = _calendar(method="PUBLISH")
    name = clean_line(name)
    calendar.add("x-wr-calname", vText(name))
    calendar.add("name", vText(name))
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    bookings = list(bookings)
    # Every call of the feed's series, in one query: a series is its master and overrides,
    # as in its invite (one UID), whichever of its calls the feed's window holds.
    calls_of: dict[int, list[Booking]] = {}
    series_ids = {b.series_id for b in bookings if b.series_id is not None}
    if series_ids:
        for call in (
            Booking.objects.filter(series_id__in=series_ids)
            .select_related("coach__user", "offering")
            .order_by("series_index")
        ):
            calls_of.setdefault(call.series_id, []).append(call)  # type: ignore[arg-type]
    series_seen: set[int] = set()
    for booking in bookings:
        if booking.series_id is not None:
            if booking.series_id not in series_seen:
                series_seen.add(booking.series_id)
                calls = calls_of[booking.series_id]
                for component in _series_components(
                    booking.series, calls, now=now, audience=audience, with_people=False
                ):
                    calendar.add_component(component)
            continue
        calendar.add_component(
            _event(
                booking,
                now=now,
                audience=audience,
                cancelled=booking.status in CANCELLED_STATUSES,
                with_people=False,
            )
        )
    return calendar.to_ical()
