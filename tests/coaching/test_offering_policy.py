"""The offering form exposes the policy (in hours), the grace period, a price label and a
colour; the coach picks what "Book a call" books."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from booking.services import client_cancel_problem
from coaching.models import Coach, Offering
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT, offering_data

pytestmark = pytest.mark.django_db


def test_the_policy_is_edited_in_hours_and_saved_in_minutes(coach_client: Client) -> None:
    data = offering_data(
        min_notice_hours="1.5",
        cancel_notice_hours="48",
        reschedule_notice_hours="12",
        max_reschedules="1",
        cancel_grace_minutes="30",
        price_amount="80",
        price_currency="eur",
        color="#aa3300",
    )
    response = coach_client.post(reverse("dashboard_offering_create"), data)
    assert response.status_code == HTTPStatus.FOUND
    saved = Offering.objects.get(slug="deep-dive")
    assert (saved.min_notice_minutes, saved.cancel_notice_minutes, saved.reschedule_notice_minutes) == (
        90,
        2880,
        720,
    )
    assert (saved.max_reschedules, saved.cancel_grace_minutes, saved.color) == (1, 30, "#aa3300")
    assert (saved.price_amount, saved.price_currency, saved.price_text) == (Decimal("80"), "EUR", "80 EUR")
    page = coach_client.get(reverse("dashboard_offering_edit", args=[saved.pk])).content.decode()
    assert 'name="cancel_notice_hours"' in page and 'value="48' in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"cancel_notice_hours": "-1"}, "cancel_notice_hours", "can&#x27;t be negative"),
        ({"reschedule_notice_hours": "2000"}, "reschedule_notice_hours", "At most 1440 hours"),
        ({"price_amount": "80", "price_currency": ""}, "price_currency", "Say which currency"),
        ({"price_amount": "80", "price_currency": "EURO"}, "price_currency", ""),
        ({"color": "red"}, "color", "Pick a colour"),
        ({"max_reschedules": "50"}, "max_reschedules", "At most 20"),
    ],
)
def test_bad_policy_values_re_render_with_a_message(
    coach_client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    response = coach_client.post(reverse("dashboard_offering_create"), offering_data(**overrides))
    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert not Offering.objects.filter(slug="deep-dive").exists()


def test_a_client_can_cancel_in_the_grace_period_however_close_the_call(offering: Offering, book) -> None:
    offering.cancel_grace_minutes = 15
    offering.save()
    booked_at = SLOT - timedelta(hours=3)  # well inside the 24 h cancellation window
    with time_machine.travel(booked_at, tick=False):
        booking = book(now=booked_at)
    assert client_cancel_problem(booking, now=booked_at + timedelta(minutes=15)) == ""
    assert "until 1 day before" in client_cancel_problem(booking, now=booked_at + timedelta(minutes=16))


def test_without_a_grace_period_the_window_decides(book) -> None:
    booked_at = SLOT - timedelta(hours=3)
    with time_machine.travel(booked_at, tick=False):
        booking = book(now=booked_at)
    assert "until 1 day before" in client_cancel_problem(booking, now=booked_at)


@pytest.mark.time_machine(NOW)
def test_the_coach_picks_what_book_a_call_books(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    longer = OfferingFactory(
        coach=coach, slug="deep-dive", title="Deep dive", duration_minutes=60, price_amount=0
    )
    assert "/ada/intro-call/" in _cta(coach_client.get("/ada/").content.decode())  # the first listed
    response = coach_client.post(
        reverse("dashboard_profile"),
        {
            "display_name": coach.display_name,
            "headline": "",
            "bio": "",
            "time_zone": coach.time_zone,
            "default_meeting_url": "",
            "contact_email": "",
            "featured_offering": str(longer.pk),
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    coach.refresh_from_db()
    assert coach.featured_offering == longer
    page = coach_client.get("/ada/").content.decode()
    assert "/ada/deep-dive/" in _cta(page)
    assert "Deep dive, 60 min, Free." in " ".join(page.split())


def _cta(page: str) -> str:
    """The opening tag of the "Book a call" link."""
    return page.split(">Book a call</a>")[0].rsplit("<a", 1)[1]


def test_only_the_coachs_own_active_offerings_can_be_featured(coach_client: Client, coach: Coach) -> None:
    other_offering = OfferingFactory()
    OfferingFactory(coach=coach, slug="old", is_active=False)
    form = coach_client.get(reverse("dashboard_profile")).context["form"]
    assert list(form.fields["featured_offering"].queryset) == list(
        Offering.objects.filter(coach=coach, is_active=True)
    )
    assert other_offering.coach != coach
