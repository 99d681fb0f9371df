"""A coach's public contact address: set on the profile, shown to clients instead of the sign-in
address (which clients never see: it would let anyone lock the coach out), nothing when blank."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import user_export_data
from booking.tokens import manage_token
from coaching.models import Coach, Offering
from tests.factories import CoachFactory, OfferingFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

SIGN_IN = "ada@example.com"
CONTACT = "hello@ada-coaching.example"


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def set_contact(coach: Coach, address: str) -> None:
    Coach.objects.filter(pk=coach.pk).update(contact_email=address)


@pytest.fixture
def unchangeable(offering: Offering) -> Offering:
    """The offering with notice periods so long that a client can no longer move or cancel."""
    Offering.objects.filter(pk=offering.pk).update(
        cancel_notice_minutes=60 * 24 * 30, reschedule_notice_minutes=60 * 24 * 30
    )
    offering.refresh_from_db()
    return offering


def manage_pages(token: str) -> list[str]:
    return [
        reverse("booking_manage", kwargs={"token": token}),
        reverse("booking_manage_cancel", kwargs={"token": token}),
        reverse("booking_manage_reschedule", kwargs={"token": token}),
        reverse("booking_confirmed", kwargs={"token": token}),
    ]


# ---------------------------------------------------------------------------
# The offering page with no free times
# ---------------------------------------------------------------------------
@pytest.fixture
def fully_booked(db: None) -> Offering:
    """A coach with no weekly hours at all: no free time in the whole horizon."""
    coach = CoachFactory(slug="busy", display_name="Busy Coach", user__email="busy-signin@example.com")
    return OfferingFactory(coach=coach, slug="call", title="Call")


def test_the_offering_page_without_free_times_never_shows_the_sign_in_address(
    client: Client, fully_booked: Offering
) -> None:
    html = page(client, "/busy/call/")
    assert "There are no free times in the next" in html
    assert "busy-signin@example.com" not in html
    assert "mailto:" not in html
    assert "Please check back later." in html  # the sentence ends well without an address


def test_the_offering_page_without_free_times_shows_the_contact_address(
    client: Client, fully_booked: Offering
) -> None:
    set_contact(fully_booked.coach, "bookings@busy.example")
    html = page(client, "/busy/call/")
    assert "busy-signin@example.com" not in html
    assert (
        'Please check back later, or write to Busy Coach at <a href="mailto:bookings@busy.example">'
        "bookings@busy.example</a>." in html
    )


# ---------------------------------------------------------------------------
# The manage pages
# ---------------------------------------------------------------------------
def test_the_manage_pages_never_show_the_sign_in_address(
    client: Client, unchangeable: Offering, book
) -> None:
    booking = book()
    pages = [page(client, path) for path in manage_pages(manage_token(booking))]
    for html in pages:
        assert SIGN_IN not in html
        assert "mailto:" not in html
    assert f"To change it now, contact Ada Lovelace and mention {booking.reference}." in pages[0]
    assert f"Contact Ada Lovelace and mention {booking.reference}." in pages[1]
    assert f"Contact Ada Lovelace and mention {booking.reference}." in pages[2]


def test_the_manage_pages_show_the_contact_address_when_set(
    client: Client, coach: Coach, unchangeable: Offering, book
) -> None:
    set_contact(coach, CONTACT)
    booking = book()
    manage, cancel, reschedule, _ = (page(client, path) for path in manage_pages(manage_token(booking)))
    link = f'<a href="mailto:{CONTACT}?subject=Booking%20{booking.reference}">{CONTACT}</a>'
    assert f"To change it now, contact Ada Lovelace at {link} and mention {booking.reference}." in manage
    assert f"Contact Ada Lovelace at {link} and mention {booking.reference}." in cancel
    assert f"Contact Ada Lovelace at {link} and mention {booking.reference}." in reschedule
    for html in (manage, cancel, reschedule):
        assert SIGN_IN not in html


# ---------------------------------------------------------------------------
# The profile
# ---------------------------------------------------------------------------
def profile_data(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "Ada Lovelace",
        "headline": "",
        "bio": "",
        "time_zone": "America/New_York",
        "default_meeting_url": "",
        "contact_email": "",
        **overrides,
    }


def test_the_coach_sets_and_clears_the_contact_address_on_the_profile(
    coach_client: Client, coach: Coach
) -> None:
    form = page(coach_client, reverse("dashboard_profile"))
    assert 'name="contact_email"' in form
    assert "your sign-in address is never shown" in form

    response = coach_client.post(
        reverse("dashboard_profile"), profile_data(contact_email=CONTACT), follow=True
    )
    assert "Profile saved." in response.content.decode()
    coach.refresh_from_db()
    assert coach.contact_email == CONTACT

    coach_client.post(reverse("dashboard_profile"), profile_data(contact_email=""))
    coach.refresh_from_db()
    assert coach.contact_email == ""


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-address", "Enter a valid email address."),
        ("me@[127.0.0.1]", "Use an email address with a domain name"),
    ],
)
def test_the_profile_refuses_an_unusable_contact_address(
    coach_client: Client, coach: Coach, address: str, message: str
) -> None:
    response = coach_client.post(reverse("dashboard_profile"), profile_data(contact_email=address))
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    coach.refresh_from_db()
    assert coach.contact_email == ""


def test_the_contact_address_is_in_the_coachs_data_export(coach: Coach) -> None:
    set_contact(coach, CONTACT)
    coach.refresh_from_db()
    exported = user_export_data(user=coach.user)
    assert exported["coach_profile"]["contact_email"] == CONTACT
