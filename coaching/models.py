"""A coach, what they offer, and when they are available.

Availability rules are wall-clock times in the coach's own zone (a coach who works
"Mon-Fri 09:00-17:00" keeps working those hours across a DST change); the slot
engine in coaching/availability.py turns them into aware UTC instants.
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from common.images import PhotoField
from common.timezones import validate_timezone
from common.validators import validate_mailbox

# Public coach pages live at /<slug>/, so a slug must never shadow a page of ours.
RESERVED_SLUGS = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "api",
        "app",
        "b",
        "book",
        "booking",
        "bookings",
        "coach",
        "coaches",
        "community",
        "contact",
        "dashboard",
        "feed",
        "feeds",
        "healthz",
        "help",
        "home",
        "login",
        "logout",
        "me",
        "media",
        "my",
        "packages",
        "pass",
        "passes",
        "privacy",
        "s",
        "series",
        "settings",
        "signup",
        "static",
        "support",
        "terms",
        "w",
        "waitlist",
        "www",
    }
)


def validate_coach_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            "“%(value)s” is reserved. Please choose another address.",
            code="reserved_slug",
            params={"value": value},
        )


PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif"})


def coach_photo_path(instance: Coach, filename: str) -> str:
    """``coaches/<random>.jpg``: nothing of the uploaded file's name, and no address to guess."""
    extension = PurePosixPath(filename).suffix.lower()
    return f"coaches/{secrets.token_hex(16)}{extension if extension in PHOTO_EXTENSIONS else ''}"


class Coach(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach")
    slug = models.SlugField(
        max_length=60,
        unique=True,
        validators=[validate_coach_slug],
        help_text="Your public address: /<slug>/",
    )
    display_name = models.CharField(max_length=120)
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    photo = PhotoField(upload_to=coach_photo_path, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # The coach's language tag (from their browser when they last saved their profile): it
    # decides 12- or 24-hour times in the emails they get. Blank: 24-hour.
    locale = models.CharField(max_length=35, blank=True, editable=False)
    default_meeting_url = models.URLField(
        blank=True, help_text="Used when an offering has no link of its own."
    )
    # Clients see this address (no free times, a booking they can no longer change), never
    # the sign-in address: that one would let anyone lock the coach out of their account.
    contact_email = models.EmailField(
        "contact email for clients",
        blank=True,
        validators=[validate_mailbox],
        help_text="Shown to clients who need to reach you. Leave it blank to show none; "
        "your sign-in address is never shown.",
    )
    # The offering the big "Book a call" button on the coach's page books; blank: the first listed.
    featured_offering = models.ForeignKey(
        "Offering",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="What the “Book a call” button on your page books. Blank: your first listed offering.",
    )
    # The key behind the coach's calendar-feed link (booking/tokens.py): the
    # link is an HMAC of the coach's id and this key, blank means no feed yet, and a
    # new key revokes the old link.
    feed_key = models.CharField(max_length=32, blank=True, editable=False)
    # The landing page (/<slug>/): a longer introduction in Markdown, rendered through
    # common/markdown.py (sanitised), and the email-community signup.
    intro_markdown = models.TextField(
        "introduction",
        blank=True,
        max_length=10_000,
        help_text="Who you are and how you help, in Markdown: **bold**, *italic*, [links](https://…), lists.",
    )
    community_enabled = models.BooleanField(
        "email community",
        default=True,
        help_text="Show the signup form for your email community on your page.",
    )
    community_pitch = models.CharField(
        "what members get",
        max_length=200,
        blank=True,
        help_text="One line on the signup form, e.g. “Tips, tools and challenges, twice a month.”",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("display_name",)
        verbose_name_plural = "coaches"

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("coach_page", kwargs={"coach": self.slug})

    @property
    def reply_email(self) -> str:
        """Where a client's replies go: the contact address, else the sign-in one (mail, not a page)."""
        return self.contact_email or self.user.email

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


# Reminders when an offering sets none: minutes before the call, per recipient.
DEFAULT_REMINDER_OFFSETS: dict[str, tuple[int, ...]] = {"client": (1440, 60), "coach": (60,)}


class Offering(models.Model):
    class LocationKind(models.TextChoices):
        # The labels are what clients read; the offering form names them for the coach.
        ROOM = "room", "Video call"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone call"
        IN_PERSON = "in_person", "In person"

    class PhoneCaller(models.TextChoices):
        # Who dials: the coach calls the number the client gives, or the client calls the coach's.
        CLIENT = "client", "The client calls you"
        COACH = "coach", "You call the client"

    class LateCancelCredit(models.TextChoices):
        # What a package session's credit does when the client cancels inside the notice window.
        FORFEIT = "forfeit", "The session is used up"
        RETURN_LATE = "return_late", "The session goes back on the package, marked late"

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="offerings")
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(8 * 60)]
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(8 * 60)],
        help_text="Start times are offered every this many minutes.",
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    min_notice_minutes = models.PositiveIntegerField(
        default=240,
        validators=[MaxValueValidator(60 * 24 * 60)],
        help_text="How long before the start a call can still be booked.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="How many days ahead a call can be booked.",
    )
    daily_cap = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Most calls of this kind a day."
    )
    requires_approval = models.BooleanField(default=False)
    location_kind = models.CharField(max_length=16, choices=LocationKind.choices, default=LocationKind.VIDEO)
    location_details = models.CharField(
        max_length=500,
        blank=True,
        help_text="A meeting link, a phone number or an address.",
    )
    phone_caller = models.CharField(
        "who calls whom", max_length=8, choices=PhoneCaller.choices, default=PhoneCaller.CLIENT
    )
    intake_questions = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"label": ..., "type": "text|long_text|yes_no", "required": bool}.',
    )
    reminder_offsets = models.JSONField(
        default=dict,
        blank=True,
        help_text='Minutes before the call, per recipient: {"client": [1440, 60], "coach": [60]}.',
    )
    follow_up_enabled = models.BooleanField(
        "follow-up email",
        default=True,
        help_text="An hour after the call, the client gets a thank-you with a link to book the next one.",
    )
    cancel_notice_minutes = models.PositiveIntegerField(
        default=24 * 60,
        validators=[MaxValueValidator(60 * 24 * 60)],
        help_text="Clients can cancel from their link until this long before the start.",
    )
    reschedule_notice_minutes = models.PositiveIntegerField(
        default=24 * 60,
        validators=[MaxValueValidator(60 * 24 * 60)],
        help_text="Clients can reschedule from their link until this long before the start.",
    )
    max_reschedules = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(20)],
        help_text="How many times a client can move one booking themselves.",
    )
    # Right after booking, a client may change their mind however close the call is
    # (the "oops" window most schedulers lack); 0 turns it off.
    cancel_grace_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="Clients can cancel for this long after booking, however close the call.",
    )
    late_cancel_credit = models.CharField(
        max_length=12,
        choices=LateCancelCredit.choices,
        default=LateCancelCredit.FORFEIT,
        help_text="When a client cancels a package session later than the cancellation notice.",
    )
    package_only = models.BooleanField(
        default=False, help_text="Bookable only with a package: clients use one of its sessions."
    )
    # A label only: shown on the pages, no payment is taken (yet).
    price_amount = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Blank shows no price; 0 shows “Free”.",
    )
    price_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter currency code, like EUR or USD.")],
    )
    color = models.CharField(
        max_length=7,
        default="#2f6f5e",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Pick a colour like #2f6f5e.")],
        help_text="Marks this offering in your calendar and on your page.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive offerings cannot be booked.")
    is_listed = models.BooleanField(
        default=True, help_text="Unlisted offerings are bookable by their link only."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("coach", "duration_minutes", "title")
        constraints = [
            models.UniqueConstraint(fields=["coach", "slug"], name="offering_unique_slug_per_coach"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.duration_minutes} min)"

    @property
    def asks_phone(self) -> bool:
        """A phone call the coach places: the client gives their number when booking."""
        return self.location_kind == self.LocationKind.PHONE and self.phone_caller == self.PhoneCaller.COACH

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def price_text(self) -> str:
        """ "Free", "80 EUR", "49.50 USD", or "" when the coach shows no price."""
        if self.price_amount is None:
            return ""
        if self.price_amount == 0:
            return "Free"
        amount = f"{self.price_amount:.2f}".removesuffix(".00")
        return f"{amount} {self.price_currency}".strip()


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeeklyHours(models.Model):
    """One window of a weekday, in the coach's wall-clock time; several a day allowed."""

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ("coach", "weekday", "start")
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="weeklyhours_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class DateOverride(models.Model):
    """A date whose availability replaces the weekly hours.

    A row without times makes the whole date unavailable; rows with times are
    that date's windows (extra hours on a Saturday, short hours before a holiday).
    """

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("coach", "date", "start")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="dateoverride_unavailable_or_window",
            ),
            models.UniqueConstraint(
                fields=["coach", "date"],
                condition=Q(start__isnull=True),
                name="dateoverride_one_unavailable_per_date",
            ),
        ]

    def __str__(self) -> str:
        if self.is_unavailable:
            return f"{self.date}: unavailable"
        return f"{self.date}: {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def is_unavailable(self) -> bool:
        return self.start is None


class BusyCalendar(models.Model):
    """A calendar the coach keeps elsewhere, by its secret iCal address.

    coaching/busy_calendars.py fetches it every few minutes and turns its events into
    BusyBlocks. The address is a secret (it opens the whole calendar): it is never
    logged and the dashboard shows it shortened.
    """

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="busy_calendars")
    name = models.CharField(max_length=100)
    url = models.CharField(max_length=2000, help_text="The calendar's secret address in iCal format.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the calendar was last read successfully."
    )
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Validators from the last good answer, for a conditional GET.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # The busy blocks cover events up to this instant (now + the longest horizon
    # at the last full read); a "not modified" answer is only trusted while this
    # still covers the horizon.
    blocks_until = models.DateTimeField(null=True, blank=True)
    # The last "Refresh now" the coach asked for: one per calendar a minute gets through
    # (coaching/services.py busy_calendar_refresh_now), claimed by a conditional UPDATE.
    refresh_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("coach", "name", "id")

    def __str__(self) -> str:
        return f"{self.coach}: {self.name}"


class CalDavAccount(models.Model):
    """A coach's CalDAV account (issue 17): the calendar home found from the address they gave,
    the username and the app password, kept as a Fernet token (common/credentials.py: never the
    password itself, never logged or exported). ``broken`` after the server refused the
    credentials; the coach is emailed once (``broken_notified_at``)."""

    class Status(models.TextChoices):
        OK = "ok", "Connected"
        BROKEN = "broken", "Needs new sign-in details"

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="caldav_accounts")
    server = models.CharField(max_length=2000, help_text="The address the coach gave.")
    home_url = models.CharField(max_length=2000)
    username = models.CharField(max_length=200)
    password_token = models.TextField(help_text="The app password, encrypted.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OK)
    block_all_day = models.BooleanField(default=True, help_text="All-day events make the day busy.")
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    broken_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("coach", "id")

    def __str__(self) -> str:
        return f"{self.coach}: CalDAV {self.username}"


class CalDavCalendar(models.Model):
    """One calendar of a CalDAV account: whether its events make the coach busy, whether
    bookings are written into it (one per coach at most), and where its sync stands."""

    account = models.ForeignKey(CalDavAccount, on_delete=models.CASCADE, related_name="calendars")
    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="caldav_calendars")
    url = models.CharField(max_length=2000)
    name = models.CharField(max_length=200)
    color = models.CharField(max_length=9, blank=True)
    busy = models.BooleanField(default=True, help_text="Its events block the coach's time.")
    write_bookings = models.BooleanField(default=False, help_text="Bookings are written into it.")
    ctag = models.CharField(max_length=300, blank=True)
    sync_token = models.CharField(max_length=1000, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("account", "name", "id")
        constraints = [
            models.UniqueConstraint(fields=["account", "url"], name="caldavcalendar_once_per_account"),
            models.UniqueConstraint(
                fields=["coach"], condition=Q(write_bookings=True), name="caldavcalendar_one_to_write"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coach}: {self.name}"


class CalDavEvent(models.Model):
    """An event resource of a busy CalDAV calendar as last read: its ETag and the busy time it
    gives (UTC pairs over the horizon), so an incremental sync changes only what changed."""

    calendar = models.ForeignKey(CalDavCalendar, on_delete=models.CASCADE, related_name="events")
    href = models.CharField(max_length=2000)
    etag = models.CharField(max_length=300, blank=True)
    busy = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["calendar", "href"], name="caldavevent_once")]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.href.rsplit('/', 1)[-1]}"


class BusyBlock(models.Model):
    """Time the coach is busy elsewhere (from a connected calendar): no slots there."""

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="busy_blocks")
    calendar = models.ForeignKey(
        BusyCalendar,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocks",
        help_text="The connected calendar this block came from; empty for blocks added by hand.",
    )
    caldav_calendar = models.ForeignKey(
        CalDavCalendar, on_delete=models.CASCADE, null=True, blank=True, related_name="blocks"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True, help_text="Where this block came from.")

    class Meta:
        ordering = ("coach", "start")
        indexes = [models.Index(fields=["coach", "start", "end"], name="busyblock_coach_window")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="busyblock_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.coach}: busy {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"


class ApiToken(models.Model):
    """A coach's personal access token for the coach API (``Authorization: Bearer <token>``).

    Only a SHA-256 of the token is stored (the token is 256 random bits, so a plain hash is
    as good as a slow one); the first characters are kept to tell tokens apart in the list.
    A revoked token stays as a row so its last use still shows.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    coach = models.ForeignKey(Coach, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.coach}: {self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
