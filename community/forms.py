"""Forms of the landing page and the email community: thin, every message in the reader's words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from coaching.models import Coach
from common.forms import Form, ModelForm
from common.validators import validate_mailbox, validate_single_line
from community.landing import consent_label
from community.models import Broadcast, Subscriber

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PREVIEW_LENGTH = 20_000


class CommunitySignupForm(Form):
    """Email, optional first name, consent; ``website`` is a honeypot people never see."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        validators=[validate_mailbox],
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )
    first_name = forms.CharField(
        label="First name (optional)",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        validators=[validate_single_line],
    )
    consent = forms.BooleanField(
        error_messages={"required": "Tick the box to agree to the emails: we only send them with your yes."},
    )
    # Hidden by a CSS class (static/css/community.css), out of the tab order and the
    # accessibility tree: people leave it empty, form-filling bots do not.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "signup_%s")
        super().__init__(*args, **kwargs)
        self.coach = coach
        pitch = coach.community_pitch.strip()
        self.pitch = f"{pitch}." if pitch and pitch[-1] not in ".!?" else pitch
        self.fields["consent"].label = consent_label(coach)
        self.fields["consent"].help_text = format_html(
            'How we keep and use your address: <a href="{}">privacy policy</a>.', reverse("privacy")
        )

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())

    @property
    def visible_fields_in_order(self) -> list[forms.BoundField]:
        return [self["email"], self["first_name"], self["consent"]]


class LandingForm(ModelForm):
    """What the landing page says: headline, introduction, photo and the community signup."""

    class Meta:
        model = Coach
        fields = ("headline", "intro_markdown", "photo", "community_enabled", "community_pitch")
        labels = {"headline": "Headline", "intro_markdown": "Introduction", "photo": "Photo"}
        help_texts = {
            "headline": "One line under your name, also the description when your page is shared.",
            "photo": "A JPEG or PNG up to 5 MB; shown on your page and when it is shared.",
        }
        widgets = {
            "intro_markdown": forms.Textarea(attrs={"rows": 14}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Both reach email headers and the page title: one line of visible text.
        for name in ("headline", "community_pitch"):
            self.fields[name].validators.append(validate_single_line)

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > MAX_PHOTO_BYTES:
            raise ValidationError("This photo is larger than 5 MB. Please pick a smaller one.")
        return photo


class BroadcastForm(ModelForm):
    class Meta:
        model = Broadcast
        fields = ("subject", "body_markdown")
        labels = {"subject": "Subject", "body_markdown": "Message"}
        help_texts = {
            "body_markdown": "Markdown: **bold**, *italic*, [links](https://…), lists. "
            "Each email ends with your name and a one-click unsubscribe link.",
        }
        widgets = {"body_markdown": forms.Textarea(attrs={"rows": 14})}
        error_messages = {
            "subject": {"required": "Give your email a subject."},
            "body_markdown": {"required": "Write the message first."},
        }


SUBSCRIBER_STATUS_CHOICES = (("", "All"), *Subscriber.Status.choices)


class SubscriberFilterForm(Form):
    """The subscriber list's filters, read from the query string; bad values fall back to "all"."""

    status = forms.ChoiceField(label="Status", choices=SUBSCRIBER_STATUS_CHOICES, required=False)
    q = forms.CharField(label="Email contains", max_length=254, required=False)

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or "", "q": (data.get("q") or "").strip()}


class PreviewForm(Form):
    text = forms.CharField(required=False, max_length=MAX_PREVIEW_LENGTH, strip=False)
