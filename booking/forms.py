"""Forms of the booking pages: thin wrappers that validate input and name every problem.

Nothing here changes a booking: views pass the cleaned data to booking/services.py.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from accounts.models import User
from booking import intake
from booking.models import Booking
from booking.series import MAX_OCCURRENCES
from coaching.models import Offering
from common.display import year_in_range
from common.forms import Form
from common.timezones import validate_timezone
from common.validators import validate_mailbox, validate_phone_number, validate_single_line
from community.landing import consent_label

# ISO 8601 instants are short; anything longer is not one.
MAX_START_LENGTH = 40
MAX_REASON_LENGTH = 500


def parse_start(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string with an offset (or Z), else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_START_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    if not year_in_range(parsed):
        return None
    return parsed.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """How pages put an instant in a link: ``2026-12-02T15:00:00Z`` (no ``+`` to escape)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_form_token() -> str:
    """A one-time token for a booking form: a resubmission carries it and books nothing new."""
    return secrets.token_urlsafe(24)


class StartField(forms.CharField):
    """A slot's start instant, carried as ISO 8601 in a hidden field."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_START_LENGTH)
        kwargs.setdefault("error_messages", {"required": "Pick a time first."})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        parsed = parse_start(value)
        if parsed is None:
            raise ValidationError(
                "That isn't a valid time. Please pick one of the free times.", code="invalid"
            )
        return parsed

    def run_validators(self, value: Any) -> None:
        # The length validator applies to the string; the parsed value is a datetime.
        return

    def prepare_value(self, value: Any) -> Any:
        return iso_utc(value) if isinstance(value, datetime) else value


def repeat_field() -> forms.ChoiceField:
    """A standing series' rhythm (the client's booking form and the coach's alike)."""
    return forms.ChoiceField(
        label="Repeat",
        required=False,
        choices=(("", "Just this call"), ("1", "Every week"), ("2", "Every 2 weeks")),
        widget=forms.RadioSelect,
        initial="",
    )


def repeat_count_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="How many calls in all",
        required=False,
        min_value=2,
        max_value=MAX_OCCURRENCES,
        initial=6,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "A series has at least 2 calls.",
            "max_value": f"A series has at most {MAX_OCCURRENCES} calls.",
        },
    )


def skip_unavailable_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Book the free dates and leave out the ones that aren't")


class BookingForm(Form):
    """Name, email, the offering's intake questions, a note; start, zone and token hidden."""

    start = StartField()
    time_zone = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        validators=[validate_timezone],
        error_messages={"required": "Pick a time zone."},
    )
    form_token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        validators=[
            RegexValidator(r"^[A-Za-z0-9_-]{16,64}$", "This form has expired. Please send it again.")
        ],
        error_messages={"required": "This form has expired. Please send it again."},
    )
    name = forms.CharField(
        label="Your name",
        max_length=Booking._meta.get_field("client_name").max_length,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="We send the confirmation and a link to change the booking here.",
        validators=[validate_mailbox],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # Only for a phone call the coach places (see __init__).
    phone = forms.CharField(
        label="Your phone number",
        max_length=32,
        help_text="With the country code. Only your coach sees it, to call you.",
        validators=[validate_phone_number],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        error_messages={"required": "Give the number your coach should call you on."},
    )
    note = forms.CharField(
        label="Anything your coach should know? (optional)",
        required=False,
        max_length=Booking._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Opt-in to the coach's email community: unchecked unless ticked, and confirmed by
    # email before anything is sent (community/services.py). Its label is the consent text.
    join_community = forms.BooleanField(required=False, help_text="We’ll email you a link to confirm first.")
    # Which of the client's passes pays (its link token), or "" for none: only when the client
    # holds a pass for this call (see __init__).
    use_pass = forms.ChoiceField(
        label="Your package",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "That package can't be used here. Pick one of the choices."},
    )

    # A standing series (booking/series.py): the client reviews its dates before booking.
    repeat = repeat_field()
    repeat_count = repeat_count_field()
    skip_unavailable = skip_unavailable_field()
    # The series the client saw listed ("interval:count:start"): booking waits for a review.
    series_reviewed = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(
        self,
        *args: Any,
        offering: Offering,
        user: User | None = None,
        passes: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``passes``: ``(token, label)`` of each pass the client may use here, the default first."""
        super().__init__(*args, **kwargs)
        self.offering = offering
        if passes:
            choices = list(passes)
            if not offering.package_only:
                choices.append(("", "Don't use a package: book this call on its own"))
            field = self.fields["use_pass"]
            field.choices = choices
            field.required = offering.package_only
            field.error_messages["required"] = "This call is booked with a package: pick one of yours."
            field.initial = passes[0][0]
        else:
            del self.fields["use_pass"]
        if offering.coach.community_enabled:
            self.fields["join_community"].label = consent_label(offering.coach)
        else:
            del self.fields["join_community"]
        if not offering.asks_phone:
            del self.fields["phone"]
        if offering.requires_approval:
            # A series is not offered for calls the coach approves one by one.
            for name in ("repeat", "repeat_count", "skip_unavailable", "series_reviewed"):
                del self.fields[name]
        self.questions = intake.questions(offering)
        if user is not None and user.is_authenticated:
            # A signed-in client books under their account's address.
            self.fields["email"].initial = user.email
            self.fields["email"].disabled = True
            self.fields["email"].help_text = "Your account's address: the booking is linked to your account."
            if user.name and not self.initial.get("name"):
                self.fields["name"].initial = user.name
        # Intake questions go between the email and the note, in the coach's order.
        note = self.fields.pop("note")
        for question in self.questions:
            self.fields[question["key"]] = self._question_field(question)
        self.fields["note"] = note

    @staticmethod
    def _question_field(question: dict[str, Any]) -> forms.Field:
        label = question["label"]
        required = question["required"]
        if question["type"] == "yes_no":
            return forms.ChoiceField(
                label=label,
                required=required,
                choices=(("yes", "Yes"), ("no", "No")),
                widget=forms.RadioSelect,
                error_messages={"required": "This question needs an answer."},
            )
        widget = forms.Textarea(attrs={"rows": 4}) if question["type"] == "long_text" else forms.TextInput
        return forms.CharField(
            label=label if required else f"{label} (optional)",
            required=required,
            max_length=intake.MAX_ANSWER_LENGTH,
            widget=widget,
            error_messages={"required": "This question needs an answer."},
        )

    @property
    def series_key(self) -> str:
        """ "interval:count:start" of the series asked for, "" for one call (valid forms only)."""
        data = self.cleaned_data
        if not data.get("repeat"):
            return ""
        return f"{data['repeat']}:{data['repeat_count']}:{data['start'].isoformat()}"

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[question["key"]] for question in self.questions]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("repeat") and not cleaned.get("repeat_count") and "repeat_count" not in self.errors:
            self.add_error("repeat_count", f"Say how many calls in all: 2 to {MAX_OCCURRENCES}.")
        raw = {q["key"]: cleaned[q["key"]] for q in self.questions if q["key"] in cleaned}
        if len(raw) == len(self.questions):
            try:
                cleaned["answers"] = intake.clean_answers(self.offering, raw)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    self.add_error(key if key in self.fields else None, messages)
        return cleaned

    def fingerprint_payload(self) -> dict[str, Any]:
        """What makes two submissions the same request (for the idempotency check)."""
        data = self.cleaned_data
        return {
            "offering": self.offering.pk,
            "start": data["start"].isoformat(),
            "name": data["name"],
            "email": data["email"],
            "time_zone": data["time_zone"],
            "answers": data.get("answers", {}),
            "note": data["note"],
            "phone": data.get("phone", ""),
            # A different package for the same form token is a different request.
            **({"pass": data["use_pass"]} if data.get("use_pass") else {}),
            **(
                {"series": self.series_key, "skip": bool(data.get("skip_unavailable"))}
                if self.series_key
                else {}
            ),
        }


class CancelForm(Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shared with the other side in the cancellation email.",
    )


class RescheduleForm(Form):
    start = StartField()
