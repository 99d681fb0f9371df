"""Extra fields on allauth's forms (allauth builds its signup form on top of SignupExtraForm)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest

from accounts.models import User
from accounts.services import user_rename
from common.validators import validate_single_line


class SignupExtraForm(forms.Form):
    """The signup asks for a name: coaches see it on bookings, and it prefills the booking form."""

    # allauth orders the fields by this list; anything not listed follows.
    field_order = ["name", "email", "password1", "password2"]

    name = forms.CharField(
        label="Your name",
        max_length=150,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the user row exists."""
        user_rename(user=user, name=self.cleaned_data["name"])
