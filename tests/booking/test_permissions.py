"""Who may see and change which booking: a client only their own, a coach only theirs,
anyone with a manage link only that booking, and a tampered link nothing at all.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from booking.models import Booking
from booking.services import booking_reset_manage_link
from booking.tokens import manage_token
from coaching.models import Coach
from tests.factories import CoachFactory, UserFactory, WeeklyHoursFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

ACTIONS = ("approve", "decline", "cancel", "complete", "no-show", "reschedule")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def booking(book) -> Booking:
    return book()


@pytest.fixture
def other_coach(db: None) -> Coach:
    grace = CoachFactory(slug="grace", display_name="Grace Hopper", user__email="grace-coach@example.com")
    WeeklyHoursFactory(coach=grace, weekday=2)
    return grace


def dashboard_urls(booking: Booking) -> list[str]:
    base = f"/dashboard/bookings/{booking.reference}/"
    return ["/dashboard/bookings/", base, *(f"{base}{action}/" for action in ACTIONS)]


def test_it_sends_anonymous_visitors_to_sign_in(client: Client, booking: Booking) -> None:
    for url in ["/my/bookings/", *dashboard_urls(booking)]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    response = client.post(f"/dashboard/bookings/{booking.reference}/cancel/")
    assert response.status_code == HTTPStatus.FOUND
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("staff", [False, True], ids=["client", "staff"])
def test_it_keeps_people_without_a_coach_profile_out_of_the_dashboard(
    client: Client, booking: Booking, staff: bool
) -> None:
    """A client, or even staff without a coach profile, gets a 403 page and changes nothing."""
    person = UserFactory(email="staff@example.com" if staff else "client2@example.com", is_staff=staff)
    client.force_login(person)
    for url in dashboard_urls(booking):
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    for action in ACTIONS:
        assert (
            client.post(f"/dashboard/bookings/{booking.reference}/{action}/").status_code
            == HTTPStatus.FORBIDDEN
        )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_it_hides_another_coachs_bookings(client: Client, booking: Booking, other_coach: Coach) -> None:
    """Grace sees none of Ada's bookings: not in her list, 404 on detail and every action."""
    client.force_login(other_coach.user)
    page = client.get("/dashboard/bookings/", {"when": "all"}).content.decode()
    assert booking.reference not in page
    for url in dashboard_urls(booking)[1:]:
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    for action in ACTIONS:
        response = client.post(
            f"/dashboard/bookings/{booking.reference}/{action}/", {"start": "2026-12-02T16:00:00Z"}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND, action
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (Booking.Status.CONFIRMED, SLOT)


def test_it_does_not_filter_into_another_coachs_offering(
    client: Client, booking: Booking, other_coach: Coach
) -> None:
    """Filtering by Ada's offering id from Grace's dashboard is ignored, not a way in."""
    client.force_login(other_coach.user)
    page = client.get(
        "/dashboard/bookings/", {"offering": booking.offering_id, "when": "all"}
    ).content.decode()
    assert booking.reference not in page


def test_it_shows_a_client_only_their_own_bookings(
    client: Client, user: User, other_user: User, book
) -> None:
    mine = book(client=user, client_email=user.email)
    theirs = book(SLOT.replace(hour=16), client=other_user, client_email=other_user.email)
    client.force_login(other_user)
    page = client.get("/my/bookings/").content.decode()
    assert manage_token(theirs) in page
    assert manage_token(mine) not in page
    assert mine.reference not in page


def test_it_gives_a_coach_their_own_client_bookings_only_under_my_bookings(
    coach_client: Client, booking: Booking
) -> None:
    """A coach's "my bookings" lists calls they booked as a client, not their clients' calls."""
    assert booking.reference not in coach_client.get("/my/bookings/").content.decode()


TAMPERED = [
    "nonsense",
    "BK-",
    "BK-XXXXXXXX.",
    ".mac",
    "BK-XXXXXXXX.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "x" * 5000,
    "BK-%3Cscript%3E.abc",
]


@pytest.mark.parametrize("suffix", ["", "confirmed/", "cancel/", "reschedule/"])
def test_it_answers_404_for_tampered_manage_links(client: Client, booking: Booking, suffix: str) -> None:
    token = manage_token(booking)
    reference, mac = token.split(".")
    forged = [
        *TAMPERED,
        f"{reference}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"{reference}.{mac}x",
        f"{reference}x.{mac}",
        reference,
        mac,
    ]
    for bad in forged:
        assert client.get(f"/b/{bad}/{suffix}").status_code == HTTPStatus.NOT_FOUND, bad
        assert client.post(f"/b/{bad}/{suffix}").status_code in (
            HTTPStatus.NOT_FOUND,
            HTTPStatus.METHOD_NOT_ALLOWED,
        ), bad
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_it_does_not_open_one_booking_with_anothers_link(client: Client, book) -> None:
    first = book()
    second = book(SLOT.replace(hour=16), client_email="second@example.com")
    _, mac = manage_token(first).split(".")
    assert client.get(f"/b/{second.reference}.{mac}/").status_code == HTTPStatus.NOT_FOUND


def test_it_stops_answering_a_replaced_manage_link(client: Client, booking: Booking) -> None:
    old = manage_token(booking)
    booking = booking_reset_manage_link(booking=booking, now=NOW)
    assert client.get(f"/b/{old}/").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"/b/{manage_token(booking)}/").status_code == HTTPStatus.OK


def test_it_limits_lookups_of_manage_links(client: Client, booking: Booking, settings) -> None:
    """Guessing links is slowed down per address: 429, not an answer."""
    settings.MANAGE_LOOKUP_RATE = "3/m"
    for _ in range(3):
        assert client.get("/b/BK-AAAAAAAA.guess/").status_code == HTTPStatus.NOT_FOUND
    response = client.get(f"/b/{manage_token(booking)}/")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many requests" in response.content.decode()


def test_it_lets_anyone_with_the_link_manage_the_booking(
    client: Client, user: User, booking: Booking
) -> None:
    """The manage link is the key: it opens the booking signed in as anyone, or signed out."""
    client.force_login(user)
    assert client.get(f"/b/{manage_token(booking)}/").status_code == HTTPStatus.OK
    client.logout()
    assert client.get(f"/b/{manage_token(booking)}/").status_code == HTTPStatus.OK
