"""What a coach's landing page shows: next free times in the visitor's zone, and sharing metadata.

Reads only (selectors do the queries); no view logic here, so the page and its
tests share one definition of "next free: Tue 10:30 your time".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.timezones import is_valid_timezone
from coaching.markdown import markdown_to_text, render_markdown
from coaching.models import Coach, Offering
from coaching.selectors import next_free_slots

DESCRIPTION_LENGTH = 160


@dataclass(frozen=True)
class VisitorZone:
    name: str
    # True when the zone is the visitor's own (from ?tz= or their account).
    is_visitors: bool

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)

    @property
    def city(self) -> str:
        return self.name.rsplit("/", 1)[-1].replace("_", " ")


def visitor_zone(request: HttpRequest, coach: Coach) -> VisitorZone:
    """``?tz=``, else the signed-in visitor's zone, else the coach's (and say which)."""
    raw = request.GET.get("tz", "").strip()[:64]
    if is_valid_timezone(raw):
        return VisitorZone(raw, is_visitors=True)
    user = request.user
    if user.is_authenticated and is_valid_timezone(getattr(user, "time_zone", "")):
        return VisitorZone(user.time_zone, is_visitors=True)
    return VisitorZone(coach.time_zone, is_visitors=False)


def when_label(slot: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``today 15:30``, ``tomorrow 09:00``, ``Tue 10:30`` within a week, else ``Tue 15 Dec, 10:30``."""
    local = slot.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days < 7:
        return f"{local:%a} {clock}"
    return f"{local:%a} {local.day} {local:%b}, {clock}"


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
    coach: Coach, offerings: list[Offering], *, zone: VisitorZone, now: datetime
) -> list[OfferingCard]:
    """Each listed offering with its page's address and its next free time in ``zone``."""
    cards = []
    for offering in offerings:
        offering.coach = coach  # the selector reads offering.coach: spare it a query
        found = next_free_slots(offering=offering, after=now - timedelta(microseconds=1), limit=1, now=now)
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


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    url: str
    image: str


def page_meta(coach: Coach, request: HttpRequest) -> PageMeta:
    """Title, description, canonical address and image for search results and link previews."""
    description = coach.headline.strip() or markdown_to_text(
        coach.intro_markdown or coach.bio, limit=DESCRIPTION_LENGTH
    )
    image = ""
    if coach.photo:
        image = (
            coach.photo.url if coach.photo.url.startswith("http") else f"{settings.SITE_URL}{coach.photo.url}"
        )
    return PageMeta(
        title=coach.display_name,
        description=description or f"Book a call with {coach.display_name}.",
        url=f"{settings.SITE_URL}{coach.get_absolute_url()}",
        image=image,
    )


def intro_html(coach: Coach) -> str:
    return render_markdown(coach.intro_markdown)
