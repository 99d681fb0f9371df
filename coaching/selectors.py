"""Reads of coaching's rows, each with a fixed number of queries; every coach-side read takes
the coach, so a view can never reach another coach's rows through these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, Prefetch, QuerySet

from coaching.availability import Availability, SlotRules
from coaching.models import ApiToken, BusyCalendar, Coach, DateOverride, Offering, WeeklyHours
from common.shortcuts import is_slug


def coach_list_public() -> QuerySet[Coach]:
    """Coaches with at least one listed, active offering, offerings prefetched."""
    listed = Offering.objects.filter(is_active=True, is_listed=True)
    return (
        Coach.objects.filter(offerings__in=listed)
        .distinct()
        .prefetch_related(Prefetch("offerings", queryset=listed, to_attr="listed_offerings"))
        .order_by("display_name")
    )


def coach_get_public(*, slug: str) -> Coach | None:
    if not is_slug(slug):
        return None
    listed = Offering.objects.filter(is_active=True, is_listed=True)
    return (
        Coach.objects.filter(slug=slug)
        .prefetch_related(Prefetch("offerings", queryset=listed, to_attr="listed_offerings"))
        .first()
    )


def offering_bookable_get(*, coach_slug: str, offering_slug: str) -> Offering | None:
    """An active offering by its public address, with its coach (and the coach's user) loaded."""
    if not (is_slug(coach_slug) and is_slug(offering_slug)):
        return None
    return (
        Offering.objects.select_related("coach__user")
        .filter(coach__slug=coach_slug, slug=offering_slug, is_active=True)
        .first()
    )


# What the slot list needs of an offering and its coach: the engine's rules, the horizon, the cap.
_SLOT_FIELDS = (
    "id",
    "coach_id",
    "slug",
    "duration_minutes",
    "slot_step_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_days",
    "daily_cap",
    "is_active",
)
_SLOT_COACH_FIELDS = ("id", "slug", "time_zone")
_SLOT_OFFERING_SQL = """
SELECT o."id", o."coach_id", o."slug", o."duration_minutes", o."slot_step_minutes",
       o."buffer_before_minutes", o."buffer_after_minutes", o."min_notice_minutes",
       o."horizon_days", o."daily_cap", o."is_active", c."id", c."slug", c."time_zone"
  FROM "coaching_offering" o JOIN "coaching_coach" c ON c."id" = o."coach_id"
 WHERE c."slug" = %s AND o."slug" = %s AND o."is_active" = %s
"""  # the columns of _SLOT_FIELDS, then of _SLOT_COACH_FIELDS


def offering_for_slots(*, coach_slug: str, offering_slug: str) -> Offering | None:
    """An active offering by its public address with only what its slot list reads (and its
    coach's slug and zone): the slots endpoint's one lookup, a plain query rather than the ORM's,
    whose building cost more than its running. Other fields load on first use."""
    if not (is_slug(coach_slug) and is_slug(offering_slug)):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_SLOT_OFFERING_SQL, [coach_slug, offering_slug, True])
        row = cursor.fetchone()
    if row is None:
        return None
    db = connection.alias
    offering = Offering.from_db(db, list(_SLOT_FIELDS), row[: len(_SLOT_FIELDS)])
    offering.coach = Coach.from_db(db, list(_SLOT_COACH_FIELDS), row[len(_SLOT_FIELDS) :])
    return offering


def coach_has_offerings(*, slug: str) -> bool:
    """Whether the coach at ``slug`` has any offering at all (to name the wrong field in an API error)."""
    if not is_slug(slug):
        return False
    return Offering.objects.filter(coach__slug=slug).exists()


def coach_for_user(user: AbstractBaseUser | AnonymousUser) -> Coach | None:
    """The signed-in person's coach profile, or None."""
    if not user.is_authenticated:
        return None
    return Coach.objects.filter(user=user).first()


def coach_offerings(*, coach: Coach) -> QuerySet[Offering]:
    return Offering.objects.filter(coach=coach)


def coach_offering_get(*, coach: Coach, pk: int) -> Offering | None:
    return Offering.objects.filter(coach=coach, pk=pk).first()


def offering_has_bookings(*, offering: Offering) -> bool:
    # Through the reverse relation booking defines: a read, no import of the app above.
    return offering.bookings.exists()


def coach_weekly_hours(*, coach: Coach) -> QuerySet:
    """The coach's weekly windows as (weekday, start, end), Monday first, each day in order."""
    return (
        WeeklyHours.objects.filter(coach=coach)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    )


def coach_override_dates(*, coach: Coach, since: date) -> QuerySet:
    """The distinct dates from ``since`` on that have an override, soonest first."""
    return (
        DateOverride.objects.filter(coach=coach, date__gte=since)
        .order_by("date")
        .values_list("date", flat=True)
        .distinct()
    )


def coach_overrides_on(*, coach: Coach, dates: list[date]) -> QuerySet[DateOverride]:
    return DateOverride.objects.filter(coach=coach, date__in=dates).order_by("date", "start")


def coach_override_get(*, coach: Coach, pk: int) -> DateOverride | None:
    return DateOverride.objects.filter(coach=coach, pk=pk).first()


def coach_busy_calendars(*, coach: Coach) -> list[BusyCalendar]:
    """The coach's connected calendars, each with ``block_count``."""
    return list(coach.busy_calendars.annotate(block_count=Count("blocks")).order_by("name", "pk"))


def coach_busy_calendar_get(*, coach: Coach, pk: int) -> BusyCalendar | None:
    return BusyCalendar.objects.filter(coach=coach, pk=pk).first()


def slot_rules_for(offering: Offering) -> SlotRules:
    """The engine's view of an offering."""
    return SlotRules(
        duration=timedelta(minutes=offering.duration_minutes),
        step=timedelta(minutes=offering.slot_step_minutes),
        buffer_before=timedelta(minutes=offering.buffer_before_minutes),
        buffer_after=timedelta(minutes=offering.buffer_after_minutes),
        min_notice=timedelta(minutes=offering.min_notice_minutes),
        horizon=timedelta(days=offering.horizon_days),
        daily_cap=offering.daily_cap,
    )


def build_availability(
    *,
    zone: ZoneInfo,
    weekly_rows: Iterable[tuple[int, time, time]],
    override_rows: Iterable[tuple[date, time | None, time | None]],
) -> Availability:
    """Availability from ``(weekday, start, end)`` and ``(date, start, end)`` rows.

    An override row without times makes its date unavailable, even if the same date
    also has rows with times; rows with times replace the weekly hours of their date.
    """
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in weekly_rows:
        weekly.setdefault(weekday, []).append((start, end))
    overrides: dict[date, list[tuple[time, time]]] = {}
    unavailable: set[date] = set()
    for day, start, end in override_rows:
        if start is None or end is None:
            unavailable.add(day)
        else:
            overrides.setdefault(day, []).append((start, end))
    for day in unavailable:
        overrides[day] = []
    return Availability(zone=zone, weekly=weekly, overrides=overrides)


def user_email_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the signed-in person has verified their sign-in address (allauth's record)."""
    if not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def api_token_for_key(*, key_hash: str) -> ApiToken | None:
    """The live token with this hash, with its coach (one query); None if unknown or revoked."""
    return ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).select_related("coach").first()


def coach_api_tokens(*, coach: Coach) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(coach=coach).order_by("-created_at", "-pk")


def coach_api_token_get(*, coach: Coach, pk: int) -> ApiToken | None:
    return ApiToken.objects.filter(coach=coach, pk=pk).first()
