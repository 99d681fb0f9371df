"""The client's pass page, /passes/<token>/: balance, expiry in the visitor's zone, the ledger in
plain words and "Book a session" links that carry the pass.

Time is pinned: NOW is Tuesday 1 December 2026, 07:00 in New York; SLOT the next day at 10:00
there. Grace's pass of "Three calls" is granted at NOW and valid 30 days.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, BookingEvent
from booking.services import booking_cancel, booking_mark_outcome
from coaching.models import Offering
from practice import services
from practice.models import Pass
from practice.tokens import pass_token
from tests.factories import OfferingFactory, UserFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

CLIENT = BookingEvent.Actor.CLIENT
COACH = BookingEvent.Actor.COACH


def page_of(pass_obj: Pass) -> str:
    return f"/passes/{pass_token(pass_obj)}/"


def text(response: Any) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_it_shows_the_coach_the_package_the_balance_and_the_end(client: Client, grant) -> None:
    pass_obj = grant()
    response = client.get(page_of(pass_obj))
    assert response.status_code == HTTPStatus.OK
    words = text(response)
    assert "Three calls" in words
    assert "Your package with Ada Lovelace" in words
    assert "Sessions left 3 of 3" in words
    # 30 days after NOW, shown in the coach's zone while nothing says the visitor's.
    assert "Valid until Thursday 31 December 2026, 07:00 (New York time)" in words


def test_it_shows_the_end_in_the_zone_the_visitor_asks_for(client: Client, grant) -> None:
    """A half-hour zone: 12:00 UTC is 17:30 in Kolkata."""
    words = text(client.get(page_of(grant()), {"tz": "Asia/Kolkata"}))
    assert "Thursday 31 December 2026, 17:30 (Kolkata time)" in words


def test_it_shows_times_in_the_zone_the_client_booked_in(client: Client, grant, book) -> None:
    pass_obj = grant()
    book(client_pass=pass_obj)  # the booking's zone is Europe/Berlin
    words = text(client.get(page_of(pass_obj)))
    assert "Used for Intro call, Wednesday 2 December 2026, 16:00" in words
    assert "(Berlin time)" in words


def test_it_says_a_fixed_last_day_as_the_end_of_that_day(client: Client, offering: Offering) -> None:
    package = services.package_save(
        coach=offering.coach, name="Winter", sessions=2, offerings=[offering], valid_until=NOW.date()
    )
    pass_obj = services.pass_grant(package=package, client_email="g@example.com", client_name="G", now=NOW)
    words = text(client.get(page_of(pass_obj)))
    assert "Valid until the end of Tuesday 1 December 2026" in words


def test_it_writes_the_ledger_in_plain_words(client: Client, grant, book, offering: Offering) -> None:
    """Granted, used, returned, returned late, forfeited, adjusted with the reason, expired."""
    pass_obj = grant()
    early = book(SLOT, client_pass=pass_obj)
    booking_cancel(booking=early, by=CLIENT, now=NOW)
    late = book(SLOT + timedelta(hours=1), client_pass=pass_obj)
    booking_cancel(booking=late, by=CLIENT, now=SLOT - timedelta(hours=1))
    missed = book(SLOT + timedelta(hours=2), client_pass=pass_obj)
    booking_mark_outcome(booking=missed, outcome=Booking.Status.NO_SHOW, now=SLOT + timedelta(hours=3))
    offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
    offering.save()
    marked = book(SLOT + timedelta(hours=4), client_pass=pass_obj)
    booking_cancel(booking=marked, by=CLIENT, now=SLOT + timedelta(hours=3, minutes=30))
    services.pass_adjust(pass_obj=pass_obj, amount=1, reason="A gift for the holidays", now=NOW)
    services.passes_expire_due(now=pass_obj.expires_at)

    words = text(client.get(page_of(pass_obj), {"tz": "America/New_York"}))
    assert "Granted: 3 sessions" in words
    assert "Used for Intro call, Wednesday 2 December 2026, 10:00" in words
    assert "Returned: Intro call, Wednesday 2 December 2026, 10:00" in words
    assert "Forfeited — late cancellation: Intro call, Wednesday 2 December 2026, 11:00" in words
    assert "Forfeited — no-show: Intro call, Wednesday 2 December 2026, 12:00" in words
    assert "Returned — late cancellation: Intro call, Wednesday 2 December 2026, 14:00" in words
    assert "Adjusted by Ada Lovelace: 1 session added (A gift for the holidays)" in words
    assert "Expired: 2 sessions unused at the end of the pass" in words
    # Newest first: the expiry heads the history.
    assert words.index("Expired:") < words.index("Granted:")
    assert "Sessions left 0 of 3" in words


def test_it_says_when_the_pass_has_ended(client: Client, grant) -> None:
    pass_obj = grant()
    with time_machine.travel(pass_obj.expires_at, tick=False):
        words = text(client.get(page_of(pass_obj)))
    assert "Ended Thursday 31 December 2026, 07:00" in words
    assert "This package has ended; its 3 sessions can't be booked any more." in words
    assert "Book a session:" not in words


def test_it_links_each_active_covered_offering_with_the_pass(
    client: Client, grant, offering: Offering
) -> None:
    deep = OfferingFactory(coach=offering.coach, slug="deep-dive", title="Deep dive")
    retired = OfferingFactory(coach=offering.coach, slug="old-call", title="Old call", is_active=False)
    OfferingFactory(coach=offering.coach, slug="not-covered", title="Not covered")
    package = services.package_save(
        coach=offering.coach, name="Mixed", sessions=2, offerings=[offering, deep, retired], validity_days=30
    )
    pass_obj = services.pass_grant(package=package, client_email="g@example.com", client_name="G", now=NOW)
    token = pass_token(pass_obj)
    page = client.get(page_of(pass_obj)).content.decode()
    assert f'href="/ada/intro-call/?pass={token}"' in page
    assert f'href="/ada/deep-dive/?pass={token}"' in page
    assert "/ada/old-call/" not in page
    assert "/ada/not-covered/" not in page


def test_it_offers_no_booking_once_the_sessions_are_used(client: Client, grant, book) -> None:
    pass_obj = grant()
    for hour in range(3):
        book(SLOT + timedelta(hours=hour), client_pass=pass_obj)
    words = text(client.get(page_of(pass_obj)))
    assert "Sessions left 0 of 3" in words
    assert "You have used every session of this package." in words
    assert "Book a session:" not in words


@pytest.mark.parametrize(
    "suffix",
    ["PS-AAAAAAAA.guess", "not-a-token", "PS-AAAAAAAA.", "%00", "x" * 300],
)
def test_it_answers_404_for_unknown_or_malformed_links(client: Client, grant, suffix: str) -> None:
    grant()
    assert client.get(f"/passes/{suffix}/").status_code == HTTPStatus.NOT_FOUND


def test_it_answers_404_for_a_tampered_link(client: Client, grant) -> None:
    pass_obj = grant()
    reference, mac = pass_token(pass_obj).split(".")
    tampered = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert client.get(f"/passes/{reference}.{tampered}/").status_code == HTTPStatus.NOT_FOUND


def test_it_is_never_cached_nor_indexed(client: Client, grant) -> None:
    response = client.get(page_of(grant()))
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_it_shows_only_the_pass_of_the_link(client: Client, grant) -> None:
    """The token is the secret: one client's link shows nothing of another's pass."""
    mine = grant(to="grace@example.com")
    theirs = services.pass_grant(
        package=mine.package, client_email="alan@example.com", client_name="Alan Turing", now=NOW
    )
    page = client.get(page_of(mine)).content.decode()
    assert "Grace Hopper" in page
    assert "Alan" not in page
    assert theirs.reference not in page
    assert pass_token(theirs) not in page


def test_it_limits_lookups_per_address(client: Client, grant, settings) -> None:
    """Guessing links is slowed down as for manage links: 429, not an answer."""
    settings.MANAGE_LOOKUP_RATE = "3/m"
    pass_obj = grant()
    for _ in range(3):
        assert client.get("/passes/PS-AAAAAAAA.guess/").status_code == HTTPStatus.NOT_FOUND
    response = client.get(page_of(pass_obj))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many requests" in response.content.decode()


def test_it_says_an_unknown_zone_and_falls_back(client: Client, grant) -> None:
    response = client.get(page_of(grant()), {"tz": "Mars/Olympus"})
    assert response.status_code == HTTPStatus.OK
    assert "We don't know the time zone “Mars/Olympus”" in unescape(response.content.decode())


def test_it_renders_in_a_fixed_number_of_queries(
    client: Client, grant, book, django_assert_max_num_queries: Any
) -> None:
    """The pass, its ledger with each session, its offerings: the same few queries however long
    the history."""
    pass_obj = grant()
    with django_assert_max_num_queries(3):
        assert client.get(page_of(pass_obj)).status_code == HTTPStatus.OK
    for hour in range(3):
        booking = book(SLOT + timedelta(hours=hour), client_pass=pass_obj)
        booking_cancel(booking=booking, by=COACH, now=NOW)
    with django_assert_max_num_queries(3):
        assert client.get(page_of(pass_obj)).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_my_bookings_lists_the_clients_own_packages_only(
    client, grant, django_assert_max_num_queries
) -> None:
    grace = UserFactory(email="grace@example.com")
    mine = grant()
    grant(to="someone@example.com")
    client.force_login(grace)
    with django_assert_max_num_queries(12):
        html = client.get("/my/bookings/").content.decode()
    assert "Your packages" in html
    assert mine.name in html and "3 left" in html
    assert html.count('href="/passes/') == 1
