"""Every write of a coach's setup: profile, offerings, weekly hours, date overrides, busy calendars.

Each function is keyword-only, runs in one transaction and enqueues background work on
commit (robust: a broker outage delays it, never fails the request). Forms only clean
data; views call these. See docs/architecture.md for the rules every app follows.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError, Q
from django.utils import timezone

from accounts.models import User
from coaching import busy_calendars, tasks
from coaching.models import ApiToken, BusyBlock, BusyCalendar, Coach, DateOverride, Offering, WeeklyHours
from common.errors import UserFacingError
from common.images import reencode_photo
from common.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

# Who is told, inside the change's transaction, that a coach's free time may have grown (hours,
# overrides, busy calendars): booking's waitlist registers here (BookingConfig.ready).
_availability_listeners: list[Callable[[int], None]] = []


def register_availability_listener(listener: Callable[[int], None]) -> None:
    """``listener(coach_id)`` runs inside every transaction that changes a coach's availability."""
    if listener not in _availability_listeners:
        _availability_listeners.append(listener)


def availability_changed(coach_id: int) -> None:
    """Tell the listeners (inside the current transaction) that a coach's free time may have grown."""
    for listener in _availability_listeners:
        listener(coach_id)


DEFAULT_HORIZON_DAYS = 60
HORIZON_MARGIN = timedelta(days=2)


class SetupError(UserFacingError):
    """A change of the coach's setup that cannot be made."""


# ---------------------------------------------------------------------------
# Profile and landing page
# ---------------------------------------------------------------------------
def coach_slug_problem(slug: str, *, coach: Coach | None = None) -> str:
    """Why ``slug`` cannot be a coach's address ("" if it can): its form, reserved, or taken."""
    field = Coach._meta.get_field("slug")
    try:
        field.clean(slug, None)
    except ValidationError as exc:
        return " ".join(exc.messages)
    taken = Coach.objects.filter(slug__iexact=slug)
    if coach is not None:
        taken = taken.exclude(pk=coach.pk)
    return "This address is taken. Please choose another one." if taken.exists() else ""


def coach_create(
    *, user: User, slug: str, display_name: str, time_zone: str, headline: str = "", locale: str = ""
) -> Coach:
    """Make ``user`` a coach at ``/<slug>/``; SetupError (safe to show) when it cannot be.

    ``locale`` (their browser's language) picks 12- or 24-hour times in their emails."""
    problem = coach_slug_problem(slug)
    if problem:
        raise SetupError(problem)
    coach = Coach(
        user=user,
        slug=slug,
        display_name=display_name,
        time_zone=time_zone,
        headline=headline,
        locale=locale[:35],
    )
    try:
        coach.full_clean(exclude=["user", "photo"])
    except ValidationError as exc:
        raise SetupError(" ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            coach.save()
    except IntegrityError as exc:  # taken meanwhile, or the account is a coach already
        raise SetupError("This address is taken, or this account already has a coach page.") from exc
    return coach


def coach_update(*, coach: Coach, fields: Iterable[str]) -> Coach:
    """Save the named fields of ``coach`` (already set by a validated form).

    A photo that is replaced or removed is deleted from storage once the change is
    committed: its address would otherwise keep serving it (and a photo uploaded before
    re-encoding still has its metadata).
    """
    fields = list(fields)
    with transaction.atomic():
        old_photo = ""
        if "photo" in fields:
            old_photo = Coach.objects.filter(pk=coach.pk).values_list("photo", flat=True).first() or ""
        coach.save(update_fields=fields)
        if old_photo and old_photo != coach.photo.name:
            storage = coach.photo.storage
            transaction.on_commit(lambda: _delete_file(storage, old_photo))
    return coach


def coach_photo_reencode(*, coach: Coach) -> bool:
    """Re-encode a photo stored before uploads were re-encoded (common/images.py), under a new name.

    False when the stored file is missing or not an image (it is left as it is).
    """
    if not coach.photo:
        return False
    try:
        with coach.photo.open("rb") as file:
            content, extension = reencode_photo(file.read())
    except (OSError, ValidationError):
        return False
    coach.photo.save(f"photo.{extension}", ContentFile(content), save=False)
    coach_update(coach=coach, fields=["photo"])
    return True


def _delete_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("coach photo: could not delete an old file", exc_info=True)


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
def offering_save(*, coach: Coach, offering: Offering) -> Offering:
    """Create or update ``offering`` (cleaned by a form) for ``coach``.

    Raises SetupError when a concurrent save took the slug (the database constraint).
    """
    offering.coach = coach
    try:
        with transaction.atomic():
            offering.save()
    except IntegrityError as exc:
        raise SetupError("You already have an offering at this address. Pick another.") from exc
    return offering


def offering_delete(*, offering: Offering) -> None:
    """Delete an offering without bookings; SetupError if it has (or just got) any."""
    try:
        with transaction.atomic():
            offering.delete()
    except ProtectedError as exc:
        raise SetupError(
            f"“{offering.title}” has bookings, so it can't be deleted. Deactivate it instead."
        ) from exc


def offering_deactivate(*, offering: Offering) -> None:
    """Clients can no longer book it; existing bookings stay."""
    Offering.objects.filter(pk=offering.pk, coach_id=offering.coach_id).update(is_active=False)
    offering.is_active = False


# ---------------------------------------------------------------------------
# Weekly hours and date overrides
# ---------------------------------------------------------------------------
def weekly_hours_replace(
    *, coach: Coach, windows: Mapping[int, Sequence[tuple[time, time]]]
) -> list[WeeklyHours]:
    """Replace the coach's whole week with ``windows`` (weekday -> sorted windows)."""
    rows = [
        WeeklyHours(coach=coach, weekday=weekday, start=start, end=end)
        for weekday, day_windows in windows.items()
        for start, end in day_windows
    ]
    # One transaction: a reader sees the old week or the new one, never half of each.
    with transaction.atomic():
        WeeklyHours.objects.filter(coach=coach).delete()
        availability_changed(coach.pk)
        return WeeklyHours.objects.bulk_create(rows)


def date_override_create(
    *,
    coach: Coach,
    day: date,
    note: str,
    windows: Sequence[tuple[time, time]],
) -> list[DateOverride]:
    """The date has ``windows`` instead of the weekly hours; no windows: unavailable all day.

    Raises SetupError when the date got an override meanwhile (a double submission).
    """
    if not windows:
        rows = [DateOverride(coach=coach, date=day, note=note)]
    else:
        rows = [DateOverride(coach=coach, date=day, start=s, end=e, note=note) for s, e in windows]
    try:
        with transaction.atomic():
            availability_changed(coach.pk)
            return DateOverride.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise SetupError("You already have an override on this date. Remove it first to change it.") from exc


def date_override_delete(*, coach: Coach, day: date) -> int:
    """Remove every override row of ``day``: the weekly hours apply again."""
    with transaction.atomic():
        deleted, _ = DateOverride.objects.filter(coach=coach, date=day).delete()
        availability_changed(coach.pk)
    return deleted


# ---------------------------------------------------------------------------
# Busy calendars
# ---------------------------------------------------------------------------
def busy_calendar_add(*, coach: Coach, name: str, url: str) -> BusyCalendar:
    """Connect a calendar and read it as soon as the row is committed."""
    with transaction.atomic():
        calendar = BusyCalendar.objects.create(coach=coach, name=name, url=url)
        busy_calendar_refresh_soon(calendar=calendar)
    return calendar


def busy_calendar_remove(*, calendar: BusyCalendar) -> None:
    """Disconnect a calendar; its busy blocks go with it."""
    with transaction.atomic():
        calendar.delete()
        availability_changed(calendar.coach_id)


def busy_calendar_refresh_soon(*, calendar: BusyCalendar) -> None:
    """Enqueue a refresh of ``calendar`` on commit, on the outbound queue (settings.CELERY_TASK_ROUTES).

    The message expires with the next beat tick, which refreshes every calendar anyway.
    """
    enqueue_on_commit(tasks.refresh_busy_calendar, calendar.pk, expires=tasks.REFRESH_EVERY_SECONDS)


def busy_calendar_refresh_now(*, calendar: BusyCalendar, now: datetime | None = None) -> bool:
    """A coach's "Refresh now": enqueue a refresh unless one was asked for this calendar
    within ``BUSY_CALENDAR_REFRESH_NOW_SECONDS`` (False then), so a button held down
    cannot make us hammer the coach's calendar server or fill the outbound queue."""
    frozen_now = now or timezone.now()
    since = frozen_now - timedelta(seconds=settings.BUSY_CALENDAR_REFRESH_NOW_SECONDS)
    # One conditional UPDATE: of two clicks at the same instant, one claims the refresh.
    claimed = (
        BusyCalendar.objects.filter(pk=calendar.pk)
        .filter(Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lte=since))
        .update(refresh_requested_at=frozen_now)
    )
    if not claimed:
        return False
    busy_calendar_refresh_soon(calendar=calendar)
    return True


def busy_horizon(coach_id: int) -> timedelta:
    """How far ahead busy time matters: the coach's longest booking horizon."""
    days = Offering.objects.filter(coach_id=coach_id, is_active=True).aggregate(days=Max("horizon_days"))[
        "days"
    ]
    return timedelta(days=days or DEFAULT_HORIZON_DAYS)


def busy_calendar_refresh(*, calendar: BusyCalendar, now: datetime | None = None) -> bool:
    """Fetch ``calendar`` and replace its busy blocks; False (old blocks kept, error recorded) on failure."""
    frozen_now = now or timezone.now()
    horizon = busy_horizon(calendar.coach_id)
    window_end = frozen_now + horizon + HORIZON_MARGIN
    # "Not modified" only helps while the stored blocks still reach the horizon.
    conditional = calendar.blocks_until is not None and calendar.blocks_until >= frozen_now + horizon
    zone = calendar.coach.zone
    try:
        fetched = busy_calendars.fetch(
            calendar.url,
            etag=calendar.etag if conditional else "",
            last_modified=calendar.last_modified if conditional else "",
        )
        if fetched.status == 304:
            BusyCalendar.objects.filter(pk=calendar.pk).update(
                last_fetched_at=frozen_now, last_error="", last_error_at=None
            )
            logger.info("busy calendar %s: not modified", calendar.pk)
            return True
        intervals = busy_calendars.busy_intervals(fetched.body, zone=zone, start=frozen_now, end=window_end)
    except busy_calendars.BusyCalendarError as exc:
        _record_calendar_error(calendar, exc.message, frozen_now)
        return False
    except Exception as exc:
        _record_calendar_error(calendar, "The calendar could not be read.", frozen_now)
        logger.exception("busy calendar %s: unexpected %s", calendar.pk, type(exc).__name__)
        return False

    with transaction.atomic():
        # The row lock orders two refreshes of one calendar (a beat tick and a
        # "refresh now"): the second sees the first's blocks and replaces them.
        locked = BusyCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
        if locked is None:
            return False  # removed while we were fetching
        BusyBlock.objects.filter(calendar=locked).delete()
        BusyBlock.objects.bulk_create(
            [
                BusyBlock(coach_id=locked.coach_id, calendar=locked, start=s, end=e, source=locked.name[:200])
                for s, e in intervals
            ],
            batch_size=1000,
        )
        availability_changed(locked.coach_id)
        BusyCalendar.objects.filter(pk=locked.pk).update(
            last_fetched_at=frozen_now,
            last_error="",
            last_error_at=None,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            blocks_until=window_end,
        )
    logger.info("busy calendar %s: %d busy blocks", calendar.pk, len(intervals))
    return True


def _record_calendar_error(calendar: BusyCalendar, message: str, now: datetime) -> None:
    BusyCalendar.objects.filter(pk=calendar.pk).update(last_error=message[:500], last_error_at=now)
    logger.warning("busy calendar %s: %s", calendar.pk, message)


# ---------------------------------------------------------------------------
# Becoming a coach (coaching/onboarding.py)
# ---------------------------------------------------------------------------
def coach_onboard(
    *,
    user: User,
    slug: str,
    display_name: str,
    headline: str,
    time_zone: str,
    offering: Offering,
    windows: Mapping[int, Sequence[tuple[time, time]]],
    photo: object = None,
    locale: str = "",
) -> Coach:
    """Make ``user`` a coach with a first ``offering`` (unsaved), weekly hours and ``photo`` (a
    re-encoded upload, or None), all or nothing.

    SetupError (safe to show) when the address was taken meanwhile or the account is a
    coach already; then nothing of it is kept.
    """
    with transaction.atomic():
        try:
            coach = coach_create(
                user=user,
                slug=slug,
                display_name=display_name,
                time_zone=time_zone,
                headline=headline,
                locale=locale,
            )
        except SetupError as exc:
            # Taken since the form checked it: say that in words, not the model's "Coach with this Slug".
            if Coach.objects.filter(slug__iexact=slug).exists():
                raise SetupError("This address was just taken. Please choose another one.") from exc
            raise
        offering_save(coach=coach, offering=offering)
        weekly_hours_replace(coach=coach, windows=windows)
        if photo:
            # Last, so that only a failed commit could leave the stored file without its row.
            coach.photo = photo
            coach_update(coach=coach, fields=["photo"])
    return coach


# ---------------------------------------------------------------------------
# Personal access tokens for the coach API
# ---------------------------------------------------------------------------
TOKEN_PREFIX = "cc_"  # noqa: S105 - the public marker every token starts with, not a secret
# How often a token's "last used" is written: every request would be a write per read.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(*, coach: Coach, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``coach``: the row, and the token itself (shown once, never stored)."""
    if scope not in ApiToken.Scope.values:
        raise SetupError("Choose read or write.")
    name = " ".join(name.split())[:80] or "API token"
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        coach=coach, name=name, scope=scope, prefix=key[:10], key_hash=api_token_hash(key)
    )
    logger.info("api token created", extra={"coach_id": coach.pk, "token_id": token.pk})
    return token, key


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Stop ``token`` working at once (kept as a row, so its history still shows)."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Record a use, at most once a minute (a conditional UPDATE: no read, no race)."""
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now
