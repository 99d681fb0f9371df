"""Forms of the coach dashboard: profile, offerings, weekly hours and date overrides.

Every message names what is wrong in the coach's words ("Tuesday: 09:00–12:00
overlaps 11:00–13:00"), and is attached to the field it is about so that the
templates can link it to the input with aria-describedby.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils.text import slugify

from coaching.busy_calendars import BusyCalendarError, check_address
from coaching.models import (
    DEFAULT_REMINDER_OFFSETS,
    BusyCalendar,
    Coach,
    DateOverride,
    Offering,
    Weekday,
    WeeklyHours,
)
from common.display import short_day_label as format_day
from common.forms import Form, ModelForm
from common.timezones import timezone_names, validate_timezone
from common.validators import validate_single_line

# Rows shown per day (weekly hours) or per override without JavaScript; blank rows
# are ignored. The page script may add rows, up to the maximum.
MIN_WINDOW_ROWS = 3
MAX_WINDOW_ROWS = 12

QUESTION_TYPES = (("text", "Short answer"), ("long_text", "Long answer"), ("yes_no", "Yes / no"))
MAX_QUESTIONS = 20

MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 30 * 24 * 60
# The offsets used when an offering sets none, as the form shows them.
DEFAULT_REMINDERS = {recipient: list(minutes) for recipient, minutes in DEFAULT_REMINDER_OFFSETS.items()}


def _hhmm(value: time) -> str:
    return f"{value:%H:%M}"


def _minutes_of_day(value: time) -> int:
    return value.hour * 60 + value.minute


def longest_window_minutes(windows: Iterable[tuple[time, time]]) -> int:
    """Length of the longest stretch of one day's windows, touching windows joined."""
    longest = 0
    run_start = run_end = -1
    for start, end in sorted(windows):
        s, e = _minutes_of_day(start), _minutes_of_day(end)
        if s > run_end:
            run_start, run_end = s, e
        else:
            run_end = max(run_end, e)
        longest = max(longest, run_end - run_start)
    return longest


# ---------------------------------------------------------------------------
# Windows: rows of start/end time inputs, shared by weekly hours and overrides
# ---------------------------------------------------------------------------
def _time_field() -> forms.TimeField:
    return forms.TimeField(
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "class": "time-input"}),
    )


def _posted_rows(data: Mapping[str, Any], prefix: str) -> int:
    """How many rows the browser sent for `prefix` (the page script may have added some)."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)-(?:start|end)$")
    indexes = [int(m.group(1)) for key in data if (m := pattern.match(key))]
    return max(indexes, default=-1) + 1


@dataclass(frozen=True)
class WindowRow:
    number: int
    start: forms.BoundField
    end: forms.BoundField


class WindowRowsMixin:
    """Adds `<prefix>-<n>-start` / `-end` fields and checks the windows they make."""

    def add_window_rows(self, prefix: str, existing: Sequence[tuple[time, time]]) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        rows = max(MIN_WINDOW_ROWS, len(existing) + 1)
        if form.is_bound:
            rows = max(rows, _posted_rows(form.data, prefix))
        rows = min(rows, MAX_WINDOW_ROWS)
        for n in range(rows):
            start, end = _time_field(), _time_field()
            start.label, end.label = "Start", "End"
            if n < len(existing):
                start.initial, end.initial = existing[n]
            form.fields[f"{prefix}-{n}-start"] = start
            form.fields[f"{prefix}-{n}-end"] = end
        self._window_row_counts = getattr(self, "_window_row_counts", {})
        self._window_row_counts[prefix] = rows

    def window_rows(self, prefix: str) -> list[WindowRow]:
        form: forms.Form = self  # type: ignore[assignment]
        return [
            WindowRow(n + 1, form[f"{prefix}-{n}-start"], form[f"{prefix}-{n}-end"])
            for n in range(self._window_row_counts[prefix])
        ]

    def clean_windows(self, prefix: str, day_name: str) -> list[tuple[time, time]]:
        """The valid windows of one day, sorted; errors go on the fields they are about."""
        form: forms.Form = self  # type: ignore[assignment]
        data = form.cleaned_data
        windows: list[tuple[time, time, str]] = []
        for n in range(self._window_row_counts[prefix]):
            start_name, end_name = f"{prefix}-{n}-start", f"{prefix}-{n}-end"
            if start_name in form.errors or end_name in form.errors:
                continue  # not a time at all: already reported
            start, end = data.get(start_name), data.get(end_name)
            if start is None and end is None:
                continue  # a blank row
            if start is None:
                form.add_error(
                    start_name,
                    f"{day_name}: add a start time for the window ending {_hhmm(end)}, or clear its end.",
                )
            elif end is None:
                form.add_error(
                    end_name,
                    f"{day_name}: add an end time for the window starting {_hhmm(start)}, or clear its start.",
                )
            elif end <= start:
                form.add_error(
                    end_name,
                    f"{day_name}: {_hhmm(start)}–{_hhmm(end)} ends before it starts. "
                    "The end must be after the start.",
                )
            else:
                windows.append((start, end, start_name))
        windows.sort()
        for (prev_start, prev_end, _), (start, end, start_name) in zip(windows, windows[1:], strict=False):
            if start < prev_end:
                form.add_error(
                    start_name,
                    f"{day_name}: {_hhmm(prev_start)}–{_hhmm(prev_end)} overlaps {_hhmm(start)}–{_hhmm(end)}.",
                )
        return [(start, end) for start, end, _ in windows]


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------
class CoachProfileForm(ModelForm):
    time_zone = forms.CharField(
        label="Time zone",
        validators=[validate_timezone],
        widget=forms.Select(),
        help_text="Your weekly hours and overrides are in this zone.",
    )
    default_meeting_url = forms.URLField(
        label="Default meeting link",
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="Used when an offering has no link of its own.",
    )

    class Meta:
        model = Coach
        fields = (
            "display_name",
            "headline",
            "bio",
            "time_zone",
            "default_meeting_url",
            "contact_email",
            "featured_offering",
        )
        labels = {
            "display_name": "Name clients see",
            "contact_email": "Contact email for clients",
            "featured_offering": "“Book a call” books",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Names reach email headers and invites: one line of visible text.
        for name in ("display_name", "headline"):
            self.fields[name].validators.append(validate_single_line)
        names = list(timezone_names())
        if self.instance.time_zone and self.instance.time_zone not in names:
            names.insert(0, self.instance.time_zone)  # keep a legacy alias a coach already has
        self.fields["time_zone"].widget.choices = [(name, name.replace("_", " ")) for name in names]
        featured = self.fields["featured_offering"]
        featured.queryset = Offering.objects.filter(coach_id=self.instance.pk, is_active=True)
        featured.empty_label = "Your first listed offering"


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
class IntakeQuestionForm(Form):
    label = forms.CharField(label="Question", max_length=200, required=False)
    type = forms.ChoiceField(label="Answer", choices=QUESTION_TYPES, initial="text")
    required = forms.BooleanField(label="Required", required=False)


class BaseIntakeQuestionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            label = form.cleaned_data.get("label", "").strip()
            if not label:
                continue
            if label.casefold() in seen:
                form.add_error("label", f"“{label}” is asked twice. Make each question different.")
            seen.add(label.casefold())

    def questions(self) -> list[dict[str, Any]]:
        """The filled rows, in order, as stored in Offering.intake_questions."""
        return [
            {
                "label": form.cleaned_data["label"].strip(),
                "type": form.cleaned_data["type"],
                "required": form.cleaned_data["required"],
            }
            for form in self.forms
            if form.cleaned_data.get("label", "").strip()
        ]


IntakeQuestionFormSet = forms.formset_factory(
    IntakeQuestionForm,
    formset=BaseIntakeQuestionFormSet,
    extra=2,
    max_num=MAX_QUESTIONS,
    validate_max=True,
)

_REMINDER_TOKEN = re.compile(r"^(\d+)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?$", re.IGNORECASE)


def parse_reminder_offsets(text: str) -> list[int]:
    """`"24h, 1h, 30"` -> [1440, 60, 30]: minutes before the call, latest last."""
    minutes: set[int] = set()
    for raw in (token.strip() for token in text.split(",")):
        if not raw:
            continue
        match = _REMINDER_TOKEN.match(raw)
        if match is None:
            raise forms.ValidationError(
                "“%(value)s” isn't a time before the call. Use minutes (30) or hours (2h), "
                "separated by commas.",
                code="invalid_reminder",
                params={"value": raw[:20]},
            )
        amount, unit = int(match.group(1)), (match.group(2) or "m").lower()
        value = amount * (1440 if unit.startswith("d") else 60 if unit.startswith("h") else 1)
        if not 1 <= value <= MAX_REMINDER_MINUTES:
            raise forms.ValidationError(
                "A reminder goes between 1 minute and 30 days before the call (“%(value)s”).",
                code="reminder_range",
                params={"value": raw[:20]},
            )
        minutes.add(value)
    if len(minutes) > MAX_REMINDERS:
        raise forms.ValidationError(f"At most {MAX_REMINDERS} reminders each.", code="too_many_reminders")
    return sorted(minutes, reverse=True)


def format_reminder_offsets(minutes: Iterable[int]) -> str:
    return ", ".join(f"{m // 60}h" if m % 60 == 0 else str(m) for m in minutes)


class ReminderField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault(
            "help_text", "Comma-separated, before the call: minutes (30) or hours (24h). Blank for none."
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[int]:  # type: ignore[override]
        return parse_reminder_offsets(super().clean(value))


def _hours_field(label: str, help_text: str) -> forms.DecimalField:
    """Hours (quarter hours allowed) for a setting stored in minutes: coaches think in hours."""
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=60 * 24,
        decimal_places=2,
        max_digits=6,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
        error_messages={
            "min_value": "Use 0 for none; this can't be negative.",
            "max_value": "At most 1440 hours (60 days).",
        },
    )


# The minute fields the form edits in hours: (model field, form field).
HOURS_FIELDS = (
    ("min_notice_minutes", "min_notice_hours"),
    ("cancel_notice_minutes", "cancel_notice_hours"),
    ("reschedule_notice_minutes", "reschedule_notice_hours"),
)


class OfferingForm(ModelForm):
    """An offering with its intake questions (a formset) and reminder offsets (text)."""

    client_reminders = ReminderField(label="Reminders to the client")
    coach_reminders = ReminderField(label="Reminders to you")
    min_notice_hours = _hours_field(
        "Minimum notice (hours)", "How long before the start a call can still be booked."
    )
    cancel_notice_hours = _hours_field(
        "Clients can cancel until (hours before)", "After that, they contact you to cancel."
    )
    reschedule_notice_hours = _hours_field(
        "Clients can move it until (hours before)", "After that, they contact you to move it."
    )

    class Meta:
        model = Offering
        fields = (
            "title",
            "slug",
            "description",
            "duration_minutes",
            "location_kind",
            "location_details",
            "phone_caller",
            "slot_step_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "horizon_days",
            "daily_cap",
            "requires_approval",
            "max_reschedules",
            "cancel_grace_minutes",
            "late_cancel_credit",
            "package_only",
            "price_amount",
            "price_currency",
            "color",
            "follow_up_enabled",
            "is_active",
            "is_listed",
        )
        labels = {
            "slug": "Address",
            "duration_minutes": "Length (minutes)",
            "slot_step_minutes": "Start times every (minutes)",
            "buffer_before_minutes": "Free time before (minutes)",
            "buffer_after_minutes": "Free time after (minutes)",
            "horizon_days": "Bookable up to (days ahead)",
            "max_reschedules": "Times a client can move one booking",
            "cancel_grace_minutes": "Free to cancel right after booking (minutes)",
            "price_amount": "Price",
            "price_currency": "Currency",
            "color": "Colour",
            "daily_cap": "Most calls a day",
            "location_kind": "Where",
            "location_details": "Link, phone number or address",
            "is_active": "Active: clients can book it",
            "is_listed": "Listed on your public page",
            "follow_up_enabled": "Follow-up email after the call",
            "late_cancel_credit": "When a package session is cancelled late",
            "package_only": "Bookable only with a package",
        }
        help_texts = {
            "slug": "Part of the booking link. Letters, numbers and hyphens; made from the title if blank.",
            "location_details": "For your own link: the meeting address (blank: the default link in your "
            "profile). For a phone call the client places: your number. In person: the address.",
            "phone_caller": "When you call, the booking form asks the client for their number.",
            "buffer_before_minutes": "Kept free before each call.",
            "buffer_after_minutes": "Kept free after each call.",
            "daily_cap": "Blank for no limit.",
            "follow_up_enabled": "An hour after the call, the client gets a thank-you with a link to book again.",
            "cancel_grace_minutes": "However close the call is, for this long after booking. 0 for none.",
            "price_amount": "Shown on your pages (no payment is taken). Blank for none, 0 for “Free”.",
            "price_currency": "Three letters, like EUR, USD or GBP.",
            "late_cancel_credit": "Later than “Clients can cancel until” above. Cancelling earlier "
            "always gives the session back.",
            "package_only": "Clients book it with one of the sessions of a package you gave them.",
        }
        error_messages = {
            "duration_minutes": {"min_value": "A call lasts at least 5 minutes."},
            "slot_step_minutes": {"min_value": "Start times must be at least 5 minutes apart."},
            "buffer_before_minutes": {"min_value": "A buffer can't be negative. Use 0 for none."},
            "buffer_after_minutes": {"min_value": "A buffer can't be negative. Use 0 for none."},
            "max_reschedules": {"max_value": "At most 20 times."},
            "price_amount": {"min_value": "A price can't be negative. Use 0 for “Free”."},
            "daily_cap": {"min_value": "Allow at least 1 call a day, or leave it blank for no limit."},
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "color": forms.TextInput(attrs={"type": "color"}),
            "price_currency": forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}),
            "late_cancel_credit": forms.RadioSelect,
        }

    def __init__(self, *args: Any, coach: Coach, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach
        self.today = today
        self.fields["slug"].required = False
        Kind = Offering.LocationKind
        self.fields["location_kind"].choices = [
            (Kind.ROOM, "Video call: a new room for each booking"),
            (Kind.VIDEO, "Video call: your own meeting link"),
            (Kind.PHONE, "Phone call"),
            (Kind.IN_PERSON, "In person"),
        ]
        if not self.instance.pk:
            # Works without any setup: every booking gets its own video room.
            self.fields["location_kind"].initial = Offering.LocationKind.ROOM
        for minutes, hours in HOURS_FIELDS:
            self.fields[hours].initial = Decimal(getattr(self.instance, minutes)) / 60
        # An offering saved with {} uses the defaults (booking/reminders.py): show them.
        offsets = (self.instance.reminder_offsets if self.instance.pk else None) or DEFAULT_REMINDERS
        self.fields["client_reminders"].initial = format_reminder_offsets(offsets.get("client", []))
        self.fields["coach_reminders"].initial = format_reminder_offsets(offsets.get("coach", []))
        # A post without the formset's management form leaves the questions as they are.
        prefix = "questions"
        posted = self.is_bound and f"{prefix}-TOTAL_FORMS" in self.data
        self.questions: BaseIntakeQuestionFormSet | None = (
            IntakeQuestionFormSet(
                self.data if posted else None, prefix=prefix, initial=self.instance.intake_questions or None
            )
            if posted or not self.is_bound
            else None
        )

    def clean_price_currency(self) -> str:
        return (self.cleaned_data.get("price_currency") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("price_amount") not in (None, 0) and not cleaned.get("price_currency"):
            self.add_error("price_currency", "Say which currency the price is in, like EUR.")
        self._clean_location(cleaned)
        if self.questions is not None and not self.questions.is_valid():
            # The rows carry their own messages; this one keeps the form invalid and
            # tells the summary at the top where to look.
            self.add_error(None, "Please check the intake questions.")
        return cleaned

    def _clean_location(self, cleaned: dict[str, Any]) -> None:
        """Each kind of place needs what the client will be sent; a room needs nothing."""
        kind = cleaned.get("location_kind")
        details = (cleaned.get("location_details") or "").strip()
        cleaned["location_details"] = details
        Kind = Offering.LocationKind
        if kind == Kind.VIDEO:
            if details and not _is_web_link(details):
                self.add_error("location_details", "Give the meeting link in full, starting https://.")
            elif not details and not _is_web_link(self.coach.default_meeting_url):
                self.add_error(
                    "location_details",
                    "Give the meeting link, or choose “a new room for each booking” "
                    "(you have no default link in your profile).",
                )
        elif (
            kind == Kind.PHONE and cleaned.get("phone_caller") == Offering.PhoneCaller.CLIENT and not details
        ):
            self.add_error("location_details", "Give the number the client should call.")
        elif kind == Kind.IN_PERSON and not details:
            self.add_error("location_details", "Give the address where you meet.")

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(self.data.get(self.add_prefix("title"), ""))[:60]
        if not slug:
            raise forms.ValidationError("Give this offering an address, like “intro-call”.", code="required")
        clash = Offering.objects.filter(coach=self.coach, slug=slug).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(
                "You already have an offering at the address “%(slug)s”. Pick another.",
                code="duplicate_slug",
                params={"slug": slug},
            )
        return slug

    def clean_duration_minutes(self) -> int:
        duration = self.cleaned_data["duration_minutes"]
        longest = self._longest_window_minutes()
        if longest is not None and duration > longest:
            raise forms.ValidationError(
                "This call is longer than any of your available windows (the longest is %(longest)s "
                "minutes). Make it shorter or widen your weekly hours.",
                code="longer_than_windows",
                params={"longest": longest},
            )
        return duration

    def _longest_window_minutes(self) -> int | None:
        """The longest window of the week or of an upcoming override; None with no windows yet."""
        by_day: dict[object, list[tuple[time, time]]] = defaultdict(list)
        for weekday, start, end in WeeklyHours.objects.filter(coach=self.coach).values_list(
            "weekday", "start", "end"
        ):
            by_day[("weekday", weekday)].append((start, end))
        for day, start, end in DateOverride.objects.filter(
            coach=self.coach, date__gte=self.today, start__isnull=False
        ).values_list("date", "start", "end"):
            by_day[("date", day)].append((start, end))
        if not by_day:
            return None  # a new coach may describe an offering before setting hours
        return max(longest_window_minutes(windows) for windows in by_day.values())

    def cleaned_offering(self) -> Offering:
        """The offering as the coach described it, not saved (coaching.services.offering_save saves it)."""
        offering: Offering = self.instance
        offering.coach = self.coach
        for minutes, hours in HOURS_FIELDS:
            setattr(offering, minutes, round(self.cleaned_data[hours] * 60))
        offering.reminder_offsets = {
            "client": self.cleaned_data["client_reminders"],
            "coach": self.cleaned_data["coach_reminders"],
        }
        if self.questions is not None:
            offering.intake_questions = self.questions.questions()
        return offering


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DayRows:
    weekday: int
    name: str
    prefix: str
    rows: list[WindowRow]


class WeeklyHoursForm(WindowRowsMixin, Form):
    """The week grid: for each weekday, rows of start/end; saving replaces every window."""

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach
        existing: dict[int, list[tuple[time, time]]] = defaultdict(list)
        for weekday, start, end in (
            WeeklyHours.objects.filter(coach=coach)
            .order_by("weekday", "start")
            .values_list("weekday", "start", "end")
        ):
            existing[weekday].append((start, end))
        for weekday in Weekday:
            self.add_window_rows(f"day{weekday.value}", existing[weekday.value])

    @property
    def days(self) -> list[DayRows]:
        return [
            DayRows(
                weekday.value, weekday.label, f"day{weekday.value}", self.window_rows(f"day{weekday.value}")
            )
            for weekday in Weekday
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.windows = {
            weekday.value: self.clean_windows(f"day{weekday.value}", weekday.label) for weekday in Weekday
        }
        return cleaned


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
class DateOverrideForm(WindowRowsMixin, Form):
    """One date: either unavailable all day, or its own windows (instead of the weekly hours)."""

    date = forms.DateField(
        label="Date",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter a date like 2026-12-24."},
    )
    unavailable = forms.BooleanField(label="Unavailable all day", required=False)
    note = forms.CharField(
        label="Note (only you see it)", max_length=200, required=False, help_text="For example “Holiday”."
    )

    prefix_windows = "window"

    def __init__(self, *args: Any, coach: Coach, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach
        self.today = today
        self.fields["date"].widget.attrs["min"] = today.isoformat()
        self.add_window_rows(self.prefix_windows, [])

    @property
    def rows(self) -> list[WindowRow]:
        return self.window_rows(self.prefix_windows)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day: date | None = cleaned.get("date")
        if day is not None and day < self.today:
            self.add_error("date", f"{format_day(day)} {day.year} has passed. Pick today or a later date.")
            day = None
        if day is not None and DateOverride.objects.filter(coach=self.coach, date=day).exists():
            self.add_error(
                "date", f"You already have an override on {format_day(day)}. Remove it first to change it."
            )
        day_name = format_day(day) if day else "This date"
        self.windows = self.clean_windows(self.prefix_windows, day_name)
        windows_given = any(
            cleaned.get(name) is not None or name in self.errors
            for n in range(self._window_row_counts[self.prefix_windows])
            for name in (f"{self.prefix_windows}-{n}-start", f"{self.prefix_windows}-{n}-end")
        )
        if cleaned.get("unavailable") and windows_given:
            self.add_error(
                "unavailable",
                "Choose either “unavailable all day” or windows, not both. Clear the windows "
                "to take the day off, or untick “unavailable all day” to work those hours.",
            )
        elif not cleaned.get("unavailable") and not windows_given and not self.has_error("date"):
            self.add_error("unavailable", "Tick “unavailable all day”, or add at least one window.")
        return cleaned


# ---------------------------------------------------------------------------
# Busy calendars
# ---------------------------------------------------------------------------
MAX_CALENDARS = 10


class BusyCalendarForm(Form):
    name = forms.CharField(
        max_length=100,
        help_text="For you: “Work calendar”, “Family”.",
    )
    url = forms.CharField(
        label="Secret address in iCal format",
        max_length=2000,
        help_text=(
            "Google Calendar: Settings › your calendar › “Secret address in iCal format”. "
            "Outlook: Settings › Calendar › Shared calendars › Publish a calendar (ICS link). "
            "iCloud and Fastmail: share the calendar publicly and copy its link (webcal:// works too)."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_url(self) -> str:
        try:
            url = check_address(self.cleaned_data["url"])
        except BusyCalendarError as exc:
            raise forms.ValidationError(exc.message, code="bad_address") from exc
        if BusyCalendar.objects.filter(coach=self.coach, url=url).exists():
            raise forms.ValidationError("This calendar is already connected.", code="duplicate")
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if BusyCalendar.objects.filter(coach=self.coach).count() >= MAX_CALENDARS:
            raise forms.ValidationError(
                f"You can connect up to {MAX_CALENDARS} calendars. Remove one to add another.",
                code="too_many",
            )
        return cleaned


def _is_web_link(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value.strip()


class CalDavConnectForm(Form):
    """A CalDAV account: the server (or just its host), the username and an app password."""

    server = forms.CharField(
        label="CalDAV server",
        max_length=2000,
        help_text="The address your provider gives for CalDAV, or just its host: caldav.fastmail.com, "
        "caldav.icloud.com, your Nextcloud's address.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    username = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label="App password",
        max_length=500,
        help_text="Make one for this site in your provider's security settings; it is stored encrypted.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
