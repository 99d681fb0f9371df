"""The coach's "Book for a client" form: which call, when (the coach's wall clock), who, and an
optional weekly repeat. Nothing here books: booking/views/coach_booking.py calls the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from booking.forms import repeat_count_field, repeat_field, skip_unavailable_field
from booking.models import Booking
from booking.series import resolve_local
from coaching.models import Coach, Offering
from common.forms import Form
from common.timezones import validate_timezone
from common.validators import validate_mailbox, validate_single_line


class CoachBookingForm(Form):
    offering = forms.ModelChoiceField(
        queryset=Offering.objects.none(),
        label="Call",
        empty_label=None,
        error_messages={"invalid_choice": "Pick one of your calls."},
    )
    day = forms.DateField(
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the day.", "invalid": "Give a date like 2026-12-24."},
    )
    time = forms.TimeField(
        label="Time (your zone)",
        widget=forms.TimeInput(attrs={"type": "time", "step": "300"}),
        error_messages={"required": "Give the time.", "invalid": "Give a time like 14:30."},
    )
    name = forms.CharField(
        label="Client's name",
        max_length=Booking._meta.get_field("client_name").max_length,
        validators=[validate_single_line],
    )
    email = forms.EmailField(
        label="Client's email",
        max_length=254,
        help_text="The confirmation, the invite and the link to change the booking go here.",
        validators=[validate_mailbox],
    )
    time_zone = forms.CharField(label="Client's time zone", max_length=64, validators=[validate_timezone])
    phone = forms.CharField(label="Client's phone number", max_length=32, required=False)
    note = forms.CharField(
        label="Note (optional, the client sees it)",
        required=False,
        max_length=Booking._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    repeat = repeat_field()
    repeat_count = repeat_count_field()
    skip_unavailable = skip_unavailable_field()

    def __init__(self, *args: Any, coach: Coach, zones: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach
        self.fields["offering"].queryset = coach.offerings.filter(is_active=True).order_by("title")
        self.fields["time_zone"].widget = forms.Select(choices=[(z, z) for z in zones])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day, at = cleaned.get("day"), cleaned.get("time")
        if day is not None and at is not None:
            start = resolve_local(datetime.combine(day, at), self.coach.zone)
            if start is None:
                self.add_error("time", "This time doesn't exist that day (the clocks go forward).")
            else:
                cleaned["start"] = start
        offering = cleaned.get("offering")
        if offering is not None and offering.asks_phone and not cleaned.get("phone"):
            self.add_error("phone", "This is a phone call you place: give the client's number.")
        if cleaned.get("repeat") and not cleaned.get("repeat_count"):
            self.add_error("repeat_count", "How many calls in all?")
        return cleaned
