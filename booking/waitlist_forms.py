"""The waitlist's join form: who, their zone and the days they want (booking/waitlist.py checks the rest)."""

from __future__ import annotations

from typing import Any

from django import forms

from booking.models import WaitlistEntry
from common.forms import Form
from common.timezones import validate_timezone
from common.validators import validate_mailbox, validate_single_line


class WaitlistForm(Form):
    name = forms.CharField(
        label="Your name",
        max_length=WaitlistEntry._meta.get_field("name").max_length,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="We email you once to confirm, then only when a time is held for you.",
        validators=[validate_mailbox],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    time_zone = forms.CharField(
        label="Your time zone",
        max_length=64,
        validators=[validate_timezone],
        error_messages={"required": "Pick a time zone."},
    )
    date_from = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the first day.", "invalid": "Give a date like 2026-12-24."},
    )
    date_to = forms.DateField(
        label="To (included)",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the last day.", "invalid": "Give a date like 2026-12-24."},
    )

    def __init__(self, *args: Any, zones: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if zones:
            self.fields["time_zone"].widget = forms.Select(choices=[(z, z) for z in zones])

    def add_problem(self, field: str, message: str) -> None:
        """A problem the service found, shown at its field (``from``/``to`` are the dates)."""
        name = {"from": "date_from", "to": "date_to"}.get(field, field)
        self.add_error(name if name in self.fields else None, message)
