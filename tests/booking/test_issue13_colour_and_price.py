"""An offering's colour marks it in the calendar, the agenda and on the coach's page, without
breaking the CSP (an SVG fill, never a style attribute); its price label shows on the booking
form and the confirmation, and the public API gives it as ``price``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from api.schemas import CoachOut
from booking.tokens import manage_token
from coaching.models import Offering
from tests.factories import BookingFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PINK = "#c2185b"
TODAY_10AM = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York


def html(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def no_inline_style(page: str) -> None:
    # The CSP's style-src is 'self' only: a style attribute would be dropped by the browser.
    assert not re.search(r"<[^>]+\sstyle=", page)
    assert "{#" not in page and "#}" not in page  # template comments are one line each


@pytest.fixture
def pink(offering: Offering) -> Offering:
    offering.color = PINK
    offering.save()
    return offering


def test_the_csp_forbids_inline_styles(client: Client, offering: Offering) -> None:
    policy = client.get("/ada/")["Content-Security-Policy"]
    assert "style-src 'self';" in policy and "unsafe-inline" not in policy


def test_the_week_calendar_marks_each_booking_with_its_offerings_colour(
    coach_client: Client, pink: Offering
) -> None:
    BookingFactory(offering=pink, start=SLOT)
    other = OfferingFactory(coach=pink.coach, slug="deep", title="Deep dive", color="#00796b")
    BookingFactory(offering=other, start=TODAY_10AM)
    page = html(coach_client.get("/dashboard/calendar/"))
    assert re.search(
        rf'<svg class="offering-dot"[^>]*aria-hidden="true"[^>]*><circle [^>]*fill="{PINK}"', page
    )
    assert 'fill="#00796b"' in page
    no_inline_style(page)


def test_the_agenda_marks_each_call_with_its_offerings_colour(coach_client: Client, pink: Offering) -> None:
    BookingFactory(offering=pink, start=TODAY_10AM)
    page = html(coach_client.get("/dashboard/"))
    assert re.search(rf'<svg class="offering-dot"[^>]*>.*?fill="{PINK}".*?</svg>Intro call</p>', page)
    no_inline_style(page)


def test_the_coach_page_cards_carry_their_colours(client: Client, pink: Offering) -> None:
    OfferingFactory(coach=pink.coach, slug="deep", title="Deep dive", color="#00796b")
    page = html(client.get("/ada/"))
    stripes = re.findall(r'<svg class="offering-stripe"[^>]*><rect [^>]*fill="(#[0-9a-f]{6})"', page)
    assert sorted(stripes) == sorted([PINK, "#00796b"])
    no_inline_style(page)


def test_the_booking_form_and_the_confirmation_show_the_price(
    client: Client, offering: Offering, book
) -> None:
    offering.price_amount = Decimal("60")
    offering.price_currency = "EUR"
    offering.save()
    form = " ".join(
        html(client.get("/ada/intro-call/book/?start=2026-12-02T15:00:00Z&tz=Europe/Berlin")).split()
    )
    assert "<dt>Price</dt> <dd>60 EUR</dd>" in form
    booking = book()
    confirmation = " ".join(html(client.get(f"/b/{manage_token(booking)}/confirmed/")).split())
    assert "<dt>Price</dt> <dd>60 EUR</dd>" in confirmation
    assert "#}" not in form and "#}" not in confirmation


def test_without_a_price_no_price_row_shows(client: Client, offering: Offering) -> None:
    form = html(client.get("/ada/intro-call/book/?start=2026-12-02T15:00:00Z&tz=Europe/Berlin"))
    assert "<dt>Price</dt>" not in form


@pytest.mark.parametrize(
    ("amount", "currency", "price"),
    [
        (None, "", None),
        (Decimal("0"), "", {"amount": "0.00", "currency": "", "text": "Free"}),
        (Decimal("60"), "EUR", {"amount": "60.00", "currency": "EUR", "text": "60 EUR"}),
        (Decimal("49.5"), "USD", {"amount": "49.50", "currency": "USD", "text": "49.50 USD"}),
    ],
)
def test_the_api_gives_each_offerings_price(
    client: Client, offering: Offering, amount: Decimal | None, currency: str, price: dict[str, str] | None
) -> None:
    offering.price_amount = amount
    offering.price_currency = currency
    offering.save()
    response = client.get("/api/v1/coaches/ada")
    assert response.status_code == 200
    body = response.json()
    [out] = body["offerings"]
    assert out["price"] == price
    CoachOut.model_validate(body)


def test_the_api_schema_documents_the_price(client: Client) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    offering = schemas["OfferingOut"]
    assert "price" in offering["required"]
    assert set(schemas["PriceOut"]["properties"]) == {"amount", "currency", "text"}
