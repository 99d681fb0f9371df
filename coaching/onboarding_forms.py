"""The "Become a coach" form: profile, address, zone, a first offering and weekly hours on one page.

Each message is attached to the field it is about, so the template links it to the input
(Django adds aria-describedby); the weekly hours are one start and end per ticked day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from django import forms
from django.utils.text import slugify

from coaching import services
from coaching.models import Coach, Offering, Weekday
from common.forms import Form
from common.images import MAX_PHOTO_BYTES
from common.timezones import timezone_names, validate_timezone
from common.validators import validate_single_line

DURATIONS = (15, 30, 45, 60, 90)
WORKDAYS = frozenset({0, 1, 2, 3, 4})
DEFAULT_START, DEFAULT_END = time(9), time(17)


def _time_field(label: str, initial: time) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        initial=initial,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "class": "time-input"}),
    )


@dataclass(frozen=True)
class DayFields:
    weekday: int
    name: str
    on: forms.BoundField
    start: forms.BoundField
    end: forms.BoundField


class BecomeCoachForm(Form):
    display_name = forms.CharField(
        label="Your name", max_length=120, help_text="As clients see it on your page and in invites."
    )
    headline = forms.CharField(
        label="Headline",
        max_length=200,
        required=False,
        help_text="One line under your name, e.g. “Career coaching for engineers”.",
    )
    photo = Coach._meta.get_field("photo").formfield(
        label="Photo (optional)",
        required=False,
        help_text="A JPEG or PNG up to 5 MB.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    slug = forms.CharField(
        label="Your address",
        max_length=60,
        help_text="Your page’s link ends with it. Lowercase letters, numbers and hyphens.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    time_zone = forms.CharField(
        label="Time zone",
        initial="UTC",
        validators=[validate_timezone],
        widget=forms.Select(),
        help_text="Your weekly hours are in this zone.",
    )
    offering_title = forms.CharField(
        label="Name of the call", max_length=120, initial="Intro call", help_text="What clients book."
    )
    offering_duration = forms.TypedChoiceField(
        label="Length",
        coerce=int,
        initial=30,
        choices=[(minutes, f"{minutes} minutes") for minutes in DURATIONS],
    )
    offering_description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("display_name", "headline", "offering_title"):
            self.fields[name].validators.append(validate_single_line)
        self.fields["time_zone"].widget.choices = [
            (name, name.replace("_", " ")) for name in timezone_names()
        ]
        for weekday in Weekday:
            n = weekday.value
            self.fields[f"day{n}-on"] = forms.BooleanField(
                label=f"Take calls on {weekday.label}", required=False, initial=n in WORKDAYS
            )
            self.fields[f"day{n}-start"] = _time_field(f"{weekday.label} from", DEFAULT_START)
            self.fields[f"day{n}-end"] = _time_field(f"{weekday.label} until", DEFAULT_END)

    @property
    def profile_fields(self) -> list[forms.BoundField]:
        return [self["display_name"], self["headline"], self["photo"]]

    @property
    def offering_fields(self) -> list[forms.BoundField]:
        return [self["offering_title"], self["offering_duration"], self["offering_description"]]

    @property
    def days(self) -> list[DayFields]:
        return [
            DayFields(
                w.value,
                w.label,
                self[f"day{w.value}-on"],
                self[f"day{w.value}-start"],
                self[f"day{w.value}-end"],
            )
            for w in Weekday
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        problem = services.coach_slug_problem(slug)
        if problem:
            raise forms.ValidationError(problem, code="bad_slug")
        return slug

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > MAX_PHOTO_BYTES:
            raise forms.ValidationError("This photo is larger than 5 MB. Please pick a smaller one.")
        return photo

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.windows: dict[int, list[tuple[time, time]]] = {}
        for weekday in Weekday:
            n, name = weekday.value, weekday.label
            if not cleaned.get(f"day{n}-on"):
                continue
            start_name, end_name = f"day{n}-start", f"day{n}-end"
            if start_name in self.errors or end_name in self.errors:
                continue  # not a time at all: already reported
            start, end = cleaned.get(start_name), cleaned.get(end_name)
            if start is None:
                self.add_error(start_name, f"{name}: add a start time, or untick {name}.")
            elif end is None:
                self.add_error(end_name, f"{name}: add an end time, or untick {name}.")
            elif end <= start:
                self.add_error(
                    end_name,
                    f"{name}: {start:%H:%M}–{end:%H:%M} ends before it starts. The end must be later.",
                )
            else:
                self.windows[n] = [(start, end)]
        if not self.windows and not any(
            f"day{w.value}-{p}" in self.errors for w in Weekday for p in ("start", "end")
        ):
            self.add_error(None, "Weekly hours: tick at least one day when you take calls.")
        duration = cleaned.get("offering_duration")
        longest = max(
            ((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for ((s, e),) in self.windows.values()),
            default=None,
        )
        if duration and longest is not None and duration > longest:
            self.add_error(
                "offering_duration",
                f"A {duration}-minute call is longer than your longest day ({longest} minutes). "
                "Pick a shorter call or longer hours.",
            )
        return cleaned

    def offering(self) -> Offering:
        """The first offering as described, unsaved (coaching.services.coach_onboard saves it)."""
        title = self.cleaned_data["offering_title"]
        return Offering(
            title=title,
            slug=slugify(title)[:60] or "call",
            duration_minutes=self.cleaned_data["offering_duration"],
            description=self.cleaned_data["offering_description"],
            # Works with no setup: each booking gets its own video room.
            location_kind=Offering.LocationKind.ROOM,
        )
