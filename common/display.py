"""How pages and emails show times, durations and zones: one definition of each.

Pure functions and small value objects over aware datetimes; formatting lives here,
not in services or templates (the template ``|time`` filter would use the site's zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.http import HttpRequest

from common.hour_cycle import is_12_hour
from common.timezones import is_valid_timezone

MAX_ZONE_PARAM = 64
# Dates and instants a booking can have: a wider range is nonsense here, and near the ends
# of datetime's range (year 1, year 9999) zone arithmetic overflows.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999


def year_in_range(value: date) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def day_label(value: date) -> str:
    """``Wednesday 2 December``."""
    return f"{value:%A} {value.day} {value:%B}"


def short_day_label(value: date) -> str:
    """``Tue 1 Dec``: how the dashboard names a date."""
    return f"{value:%a} {value.day} {value:%b}"


def clock_label(local: datetime | time) -> str:
    """``16:00``, or ``4:00 PM`` for a visitor who reads 12-hour times (common/hour_cycle.py)."""
    if is_12_hour():
        hour = local.hour % 12 or 12
        return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return f"{local.hour:02d}:{local.minute:02d}"


def time_label(value: datetime, zone: ZoneInfo) -> str:
    """``16:00`` (or ``4:00 PM``): the wall clock of ``value`` in ``zone``."""
    return clock_label(value.astimezone(zone))


def zone_city(name: str) -> str:
    """``America/New_York`` -> ``New York``: how people name a zone."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def moment_label(value: datetime, zone_name: str) -> str:
    """``Wednesday 2 December 2026, 16:00`` (or ``4:00 PM``) in ``zone_name``."""
    local = value.astimezone(ZoneInfo(zone_name))
    return f"{day_label(local.date())} {local:%Y}, {clock_label(local)}"


def week_title(start: date, end: date) -> str:
    """``1–7 December 2026``, ``28 November – 4 December 2026``, or both years in full."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def when_label(slot: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``today 15:30``, ``tomorrow 09:00``, ``Tue 10:30`` within a week, else ``Tue 15 Dec, 10:30``."""
    local = slot.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    clock = clock_label(local)
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days < 7:
        return f"{local:%a} {clock}"
    return f"{local:%a} {local.day} {local:%b}, {clock}"


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


@dataclass(frozen=True)
class CallTime:
    """A call's time as one person reads it, in their zone (pages and emails alike)."""

    zone: str
    day: str  # "Wednesday 2 December 2026"
    start: str  # "16:00", or "4:00 PM" for a 12-hour reader
    end: str  # "16:30", or "" when only the start is known
    iso: str  # start with the zone's offset, for <time datetime>

    @classmethod
    def of(cls, start: datetime, end: datetime | None, zone_name: str) -> CallTime:
        zone = ZoneInfo(zone_name)
        local = start.astimezone(zone)
        return cls(
            zone=zone_name,
            day=f"{day_label(local.date())} {local:%Y}",
            start=clock_label(local),
            end=time_label(end, zone) if end is not None else "",
            iso=local.isoformat(),
        )

    @property
    def short(self) -> str:
        """``Wed 2 Dec, 16:00`` for subjects."""
        day_name, day, month = self.day.split(" ")[:3]
        return f"{day_name[:3]} {day} {month[:3]}, {self.start}"

    def __str__(self) -> str:
        return f"{self.day}, {self.start}–{self.end} ({self.zone})"


@dataclass(frozen=True)
class VisitorZone:
    """The zone a public page shows times in, and where it came from."""

    name: str
    # True when the zone is the visitor's own (from ?tz= or their account).
    is_visitors: bool
    # True when nothing told us the visitor's zone: the page script asks the browser.
    detect: bool = False
    # Why a ?tz= the visitor sent was not used ("" when it was fine or absent).
    problem: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)

    @property
    def city(self) -> str:
        return zone_city(self.name)


def visitor_zone(request: HttpRequest, *, fallback: str) -> VisitorZone:
    """``?tz=``, else the signed-in visitor's zone, else ``fallback`` (the coach's), and say which.

    Reads only: a page never writes the visitor's account (booking remembers the zone).
    """
    raw = request.GET.get("tz", "").strip()[:MAX_ZONE_PARAM]
    if raw and is_valid_timezone(raw):
        return VisitorZone(raw, is_visitors=True)
    user = request.user
    remembered = user.time_zone if user.is_authenticated and is_valid_timezone(user.time_zone) else ""
    problem = ""
    if raw:
        problem = (
            f"We don't know the time zone “{raw}”, so times are shown in "
            f"{remembered or fallback}. Pick your zone from the list."
        )
    if remembered:
        return VisitorZone(remembered, is_visitors=True, problem=problem)
    return VisitorZone(fallback, is_visitors=False, detect=not raw, problem=problem)
