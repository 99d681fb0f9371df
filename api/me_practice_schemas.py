"""Request and response shapes of the coach's packages and passes (api/me_practice.py).

As for the setup (api/me_setup_schemas.py), the dashboard's forms (practice/forms.py) give
the rules and the messages; these give the types. Write bodies refuse unknown fields. A pass's
``id`` is its reference (``PS-...``), the one a booking's ``pass`` names.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt

from api.schemas import EMAIL_MAX_LENGTH, PassEntryOut, PriceIn, QueryInt, Text

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR_LENGTH = 200
MAX_SLUG_LENGTH = 100
MAX_OFFERINGS = 100
# Ids beyond what the database's integer column holds name nothing.
MAX_ID = 2**63 - 1

PassStatus = Literal["active", "expired", "used_up"]

PACKAGE_EXAMPLE = {
    "id": 4,
    "name": "Six sessions over three months",
    "description": "For a change you want to see through.",
    "offerings": ["intro-call", "deep-dive"],
    "sessions": 6,
    "validity_days": 90,
    "valid_until": None,
    "price_amount": "480.00",
    "price_currency": "EUR",
    "is_active": True,
    "passes_granted": 3,
    "created_at": "2026-11-02T09:30:00-05:00",
}
ENTRY_EXAMPLES = [
    {
        "kind": "grant",
        "amount": 6,
        "booking": None,
        "by": "coach",
        "reason": "",
        "late": False,
        "at": "2026-12-01T07:00:00-05:00",
    },
    {
        "kind": "use",
        "amount": -1,
        "booking": "BK-7Q2M9XHD",
        "by": "client",
        "reason": "",
        "late": False,
        "at": "2026-12-01T08:15:00-05:00",
    },
]
PASS_EXAMPLE = {
    "id": "PS-4K8M2QXR",
    "token": "PS-4K8M2QXR.Zm9vYmFyYmF6cXV4cXV1eHF1dXg",
    "book_url": "https://coaching.example.com/passes/PS-4K8M2QXR.Zm9vYmFyYmF6cXV4cXV1eHF1dXg/",
    "client": {"name": "Grace Hopper", "email": "grace@example.com"},
    "package": {"id": 4, "name": "Six sessions over three months"},
    "name": "Six sessions over three months",
    "sessions": 6,
    "remaining": 5,
    "status": "active",
    "expires_at": "2027-03-01T07:00:00-05:00",
    "created_at": "2026-12-01T07:00:00-05:00",
}
PASS_DETAIL_EXAMPLE = {**PASS_EXAMPLE, "ledger": ENTRY_EXAMPLES}


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
class PackageOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [PACKAGE_EXAMPLE]})

    id: int = Field(description="Pass to /packages/{id}, and as `package` to grant a pass")
    name: str
    description: str
    offerings: list[str] = Field(description="The slugs of the offerings it pays for")
    sessions: int
    validity_days: int | None = Field(description="Days from the grant; null with a fixed `valid_until`")
    valid_until: str | None = Field(
        description="The last day (YYYY-MM-DD, your zone) sessions may start on; null with `validity_days`"
    )
    price_amount: str | None = Field(description="A label only, e.g. '480.00'; null shows no price")
    price_currency: str
    is_active: bool = Field(description="Retired packages (false) can no longer be granted")
    passes_granted: int
    created_at: str = Field(description="ISO 8601 in your zone")


class PackagesOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [PACKAGE_EXAMPLE], "next_offset": None}]}
    )

    items: list[PackageOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last")


Slug = Annotated[Text, Field(max_length=MAX_SLUG_LENGTH)]


class _PackageFields(Schema):
    model_config = ConfigDict(extra="forbid")

    description: Text | None = Field(None, max_length=100_000)
    validity_days: StrictInt | None = Field(
        None, description="Valid for this many days from each grant (instead of `valid_until`)"
    )
    valid_until: Text | None = Field(
        None,
        max_length=50,
        description="Valid until the end of this day, YYYY-MM-DD in your zone (instead of `validity_days`)",
    )
    price_amount: PriceIn = Field(None, description="e.g. '480' or '49.50'; null for no price")
    price_currency: Text | None = Field(None, max_length=50, description="Three letters, e.g. EUR")
    is_active: StrictBool | None = Field(None, description="false retires the package: no new grants")


class PackageCreateIn(_PackageFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Six sessions over three months",
                    "offerings": ["intro-call"],
                    "sessions": 6,
                    "validity_days": 90,
                    "price_amount": "480",
                    "price_currency": "EUR",
                }
            ]
        },
    )

    name: Text = Field(max_length=1000)
    offerings: list[Slug] = Field(max_length=MAX_OFFERINGS, description="Slugs of your offerings it covers")
    sessions: StrictInt


class PackagePatchIn(_PackageFields):
    """Only the fields named change. Sending one of ``validity_days`` and ``valid_until`` switches
    the validity to it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sessions": 8, "valid_until": "2027-06-30"}, {"is_active": False}]},
    )

    name: Text | None = Field(None, max_length=1000)
    offerings: list[Slug] | None = Field(None, max_length=MAX_OFFERINGS, description="Replaces the list")
    sessions: StrictInt | None = None


# ---------------------------------------------------------------------------
# Passes
# ---------------------------------------------------------------------------
class PassClientOut(Schema):
    name: str
    email: str


class PassPackageOut(Schema):
    id: int
    name: str = Field(description="The package's name today")


class CoachPassOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [PASS_EXAMPLE]})

    id: str = Field(description="The pass's reference: pass to /passes/{id}; a booking's `pass` names it")
    token: str = Field(
        description="The client's secret: `POST /api/v1/bookings` takes it as `pass`, "
        "`GET /api/v1/passes/{token}` shows the pass"
    )
    book_url: str = Field(description="The pass's page, to send to the client: its balance and what it books")
    client: PassClientOut
    package: PassPackageOut
    name: str = Field(description="The package's name when the pass was granted")
    sessions: int = Field(description="Sessions granted")
    remaining: int
    status: PassStatus = Field(
        description="active: sessions left and not ended; used_up: none left; expired: ended"
    )
    expires_at: str = Field(description="Sessions must start before this instant (ISO 8601, your zone)")
    created_at: str


class CoachPassDetailOut(CoachPassOut):
    model_config = ConfigDict(json_schema_extra={"examples": [PASS_DETAIL_EXAMPLE]})

    ledger: list[PassEntryOut] = Field(description="Every change of the balance, oldest first")


class PassesPageOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [PASS_EXAMPLE], "next_cursor": None}]}
    )

    items: list[CoachPassOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class PassQuery(Schema):
    """The passes list's filters; newest first, a page at a time."""

    client: Text | None = Field(
        None,
        max_length=EMAIL_MAX_LENGTH,
        description="Only this client's passes (their email address, in any case)",
        examples=["grace@example.com"],
    )
    package: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only passes of this package (its id)", examples=[4]
    )
    status: PassStatus | None = Field(None, description="Only passes in this state", examples=["active"])
    limit: QueryInt = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many passes per page")
    cursor: Text | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="The previous page's next_cursor, to read the next page (opaque)",
    )


class GrantIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"package": 4, "client_email": "grace@example.com", "client_name": "Grace Hopper"}]
        },
    )

    package: StrictInt = Field(description="One of your active packages (its id)")
    client_email: Text = Field(max_length=1000)
    client_name: Text = Field(max_length=1000)


class AdjustIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": 1, "reason": "A bonus session for the referral."}]},
    )

    amount: StrictInt = Field(description="Sessions to add; negative to take some away (never below zero)")
    reason: Text = Field(max_length=1000, description="The client sees it in the pass's history")


class GiveBackIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"booking": "BK-7Q2M9XHD", "reason": "The train strike, of course."}]
        },
    )

    booking: Text = Field(
        max_length=100, description="The reference of the booking whose credit was forfeited"
    )
    reason: Text = Field(max_length=1000, description="The client sees it in the pass's history")
