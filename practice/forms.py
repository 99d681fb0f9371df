"""Forms of the coach's practice pages: packages, granting a pass, adjusting one, giving back a
forfeited credit, the passes list's filters, and the client pages' notes and search.

Forms only clean input; practice/services.py makes the change and may still refuse it with a
``PracticeError`` whose ``field`` names the input (``apply_error`` puts it there).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from coaching.models import Coach, Offering
from common.forms import Form
from common.validators import validate_single_line
from practice.models import Client, Package, SessionNote
from practice.selectors import PASS_FILTERS, SEARCH_MAX_LENGTH, coach_packages_grantable

VALIDITY_DAYS = "days"
VALIDITY_DATE = "date"
NOTES_MAX_LENGTH = Client._meta.get_field("notes").max_length or 20000
NOTE_MAX_LENGTH = SessionNote._meta.get_field("body").max_length or 20000


def apply_error(form: forms.Form, field: str, message: str) -> None:
    """Put a service's refusal on the field it names, or on the whole form."""
    form.add_error(field if field in form.fields else None, message)


def _cleaned(form: forms.Form) -> dict[str, Any]:
    """The fields of a filter form that are valid (none for an unbound form)."""
    form.is_valid()
    return getattr(form, "cleaned_data", None) or {}


def search_term(form: forms.Form) -> str:
    """The valid search term of a filter form ("" for none or a bad one: the list never breaks);
    a longer one is cut, not refused."""
    return (_cleaned(form).get("q") or "")[:SEARCH_MAX_LENGTH]


def _search_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
class PackageForm(Form):
    """A package: what it covers, how many sessions, how long it lasts, its price label."""

    name = forms.CharField(
        label="Name", max_length=120, help_text="What clients see, e.g. “Six sessions over three months”."
    )
    description = forms.CharField(
        label="Description",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what the package is for.",
    )
    offerings = forms.ModelMultipleChoiceField(
        label="Calls it covers",
        queryset=Offering.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one of your calls the package covers.",
            "invalid_choice": "Choose among your own calls.",
            "invalid_pk_value": "Choose among your own calls.",
        },
    )
    sessions = forms.IntegerField(
        label="Sessions",
        min_value=1,
        max_value=500,
        help_text="How many sessions each client gets.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "A package has at least 1 session.",
            "max_value": "At most 500 sessions.",
        },
    )
    validity = forms.ChoiceField(
        label="Valid",
        choices=[
            (VALIDITY_DAYS, "For a number of days from the grant"),
            (VALIDITY_DATE, "Until a fixed last day"),
        ],
        initial=VALIDITY_DAYS,
        widget=forms.RadioSelect,
    )
    validity_days = forms.IntegerField(
        label="Days from the grant",
        required=False,
        min_value=1,
        max_value=3660,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="For example 90 for about three months.",
        error_messages={
            "min_value": "At least 1 day.",
            "max_value": "At most 3660 days (about ten years).",
        },
    )
    valid_until = forms.DateField(
        label="Last day",
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        help_text="Sessions must start by the end of this day, in your time zone.",
        error_messages={"invalid": "Enter a date like 2026-12-24."},
    )
    price_amount = forms.DecimalField(
        label="Price",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text="Shown to you and your clients (no payment is taken). Blank for none, 0 for “Free”.",
        error_messages={"min_value": "A price can't be negative. Use 0 for “Free”."},
    )
    price_currency = forms.CharField(
        label="Currency",
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}),
        help_text="Three letters, like EUR, USD or GBP.",
    )

    def __init__(
        self, *args: Any, coach: Coach, today: date, package: Package | None = None, **kwargs: Any
    ) -> None:
        if package is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "name": package.name,
                "description": package.description,
                "offerings": list(package.offerings.all()),
                "sessions": package.sessions,
                "validity": VALIDITY_DATE if package.valid_until else VALIDITY_DAYS,
                "validity_days": package.validity_days,
                "valid_until": package.valid_until,
                "price_amount": package.price_amount,
                "price_currency": package.price_currency,
            }
        super().__init__(*args, **kwargs)
        self.coach = coach
        self.today = today
        self.package = package
        self.fields["offerings"].queryset = Offering.objects.filter(coach=coach).order_by("title", "pk")
        self.fields["valid_until"].widget.attrs["min"] = today.isoformat()
        # A package's name reaches email subjects: one line of visible text.
        self.fields["name"].validators.append(validate_single_line)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_price_currency(self) -> str:
        currency = (self.cleaned_data.get("price_currency") or "").strip().upper()
        if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise forms.ValidationError("Use a three-letter currency code, like EUR or USD.", code="currency")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if (
            cleaned.get("price_amount") not in (None, 0)
            and not cleaned.get("price_currency")
            and "price_currency" not in self.errors
        ):
            self.add_error("price_currency", "Say which currency the price is in, like EUR.")
        validity = cleaned.get("validity")
        if validity == VALIDITY_DAYS:
            cleaned["valid_until"] = None
            if cleaned.get("validity_days") is None and "validity_days" not in self.errors:
                self.add_error("validity_days", "Say for how many days from the grant the package is valid.")
        elif validity == VALIDITY_DATE:
            cleaned["validity_days"] = None
            last_day = cleaned.get("valid_until")
            if last_day is None:
                if "valid_until" not in self.errors:
                    self.add_error("valid_until", "Give the package's last day.")
            elif last_day < self.today and (self.package is None or last_day != self.package.valid_until):
                # Keeping an old package's past date is allowed (to edit its name, say); a new
                # past date would make a package nobody can be granted.
                self.add_error("valid_until", "This day has passed. Pick today or a later day.")
        return cleaned

    def package_fields(self) -> dict[str, Any]:
        """The keyword arguments of ``services.package_save``."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"].strip(),
            "offerings": list(data["offerings"]),
            "sessions": data["sessions"],
            "validity_days": data["validity_days"],
            "valid_until": data["valid_until"],
            "price_amount": data["price_amount"],
            "price_currency": data["price_currency"] if data["price_amount"] not in (None, 0) else "",
        }


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------
class GrantForm(Form):
    """Who gets a pass of which package."""

    package = forms.ModelChoiceField(
        label="Package",
        queryset=Package.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choose the package to give.",
            "invalid_choice": "Choose one of your active packages.",
        },
    )
    client_email = forms.EmailField(
        label="Client's email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Give the client's email address.", "invalid": "Enter an email address."},
    )
    client_name = forms.CharField(
        label="Client's name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Give the client's name."},
    )

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = coach_packages_grantable(coach=coach)
        self.fields["client_name"].validators.append(validate_single_line)

    def clean_client_email(self) -> str:
        return self.cleaned_data["client_email"].strip().lower()

    def clean_client_name(self) -> str:
        return " ".join(self.cleaned_data["client_name"].split())


class AdjustForm(Form):
    """Sessions added to (or taken from) a pass by hand, and why."""

    amount = forms.IntegerField(
        label="Sessions to add",
        min_value=-500,
        max_value=500,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="2 adds two sessions; −1 takes one away.",
        error_messages={
            "required": "Say how many sessions to add, or a negative number to take some away.",
            "invalid": "Enter a whole number, like 2 or -1.",
            "min_value": "At most 500 at a time.",
            "max_value": "At most 500 at a time.",
        },
    )
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="The client sees it in the pass's history.",
        error_messages={"required": "Say why: the client sees it in the pass's history."},
    )

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Add or remove at least one session.", code="zero")
        return amount

    def clean_reason(self) -> str:
        return " ".join(self.cleaned_data["reason"].split())


class GiveBackForm(Form):
    """Giving back a credit a late cancellation or a no-show forfeited: the reason is required."""

    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="The client sees it in the pass's history.",
        error_messages={"required": "Say why the credit is given back: the client sees it."},
    )

    def clean_reason(self) -> str:
        return " ".join(self.cleaned_data["reason"].split())


class PassFilterForm(Form):
    """The passes list's filter and search, read from the query string."""

    status = forms.ChoiceField(label="Show", choices=PASS_FILTERS, required=False)
    q = _search_field("Client name or email")

    def filters(self) -> dict[str, str]:
        term = search_term(self)
        return {"status": _cleaned(self).get("status") or "", "q": term}


# ---------------------------------------------------------------------------
# Clients (booking/views/clients.py)
# ---------------------------------------------------------------------------
CLIENT_SORT_NAME = "name"
CLIENT_SORT_LAST = "last"
CLIENT_SORT_MOST = "most"
CLIENT_SORTS = (
    (CLIENT_SORT_NAME, "Name"),
    (CLIENT_SORT_LAST, "Last session"),
    (CLIENT_SORT_MOST, "Most sessions"),
)


class ClientFilterForm(Form):
    q = _search_field("Name or email")
    sort = forms.ChoiceField(label="Sort by", choices=CLIENT_SORTS, required=False)

    def filters(self) -> dict[str, str]:
        term = search_term(self)
        return {"q": term, "sort": _cleaned(self).get("sort") or CLIENT_SORT_NAME}


class ClientNotesForm(Form):
    notes = forms.CharField(
        label="Your notes on this client",
        required=False,
        max_length=NOTES_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Private: never shown to the client. Markdown: **bold**, *italics*, lists with “- ”.",
        error_messages={"max_length": f"Notes can be at most {NOTES_MAX_LENGTH} characters long."},
    )


class SessionNoteForm(Form):
    body = forms.CharField(
        label="Private note on this session",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Private: never shown to the client. Markdown. Leave it empty to remove the note.",
        error_messages={"max_length": f"A note can be at most {NOTE_MAX_LENGTH} characters long."},
    )
