"""The coach dashboard's bookings filters, read from the query string."""

from __future__ import annotations

from typing import Any

from django import forms

from booking.models import Booking
from booking.selectors import SEARCH_MAX_LENGTH, WHEN_CHOICES, WHEN_UPCOMING
from coaching.models import Coach, Offering
from common.forms import Form


class BookingFilterForm(Form):
    """The coach dashboard's filters; read from the query string."""

    q = forms.CharField(
        label="Client name or email",
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    when = forms.ChoiceField(label="When", choices=WHEN_CHOICES, required=False)
    status = forms.ChoiceField(
        label="Status", choices=(("", "Any status"), *Booking.Status.choices), required=False
    )
    offering = forms.ModelChoiceField(
        label="Offering", queryset=Offering.objects.none(), required=False, empty_label="Any offering"
    )

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offering"].queryset = Offering.objects.filter(coach=coach).order_by("title")

    def filters(self) -> dict[str, Any]:
        """Valid filters, defaults for the rest (a bad value never breaks the list)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        offering = data.get("offering")
        # A longer term is cut, not refused; an invalid one (a NUL byte) searches for nothing.
        term = (data.get("q") or "")[:SEARCH_MAX_LENGTH]
        return {
            "q": term,
            "when": data.get("when") or WHEN_UPCOMING,
            "status": data.get("status") or "",
            "offering_id": offering.pk if offering else None,
        }
