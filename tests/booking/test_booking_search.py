"""The dashboard's bookings list: search by the client's name or email (any case, a part of
either), with the status and offering filters kept, through the pages; "upcoming" leaves out
cancelled and declined calls unless the coach asks for exactly those; bad input never a 500."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from booking.models import Booking
from coaching.models import Coach, Offering
from tests.factories import BookingFactory, CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LIST = "/dashboard/bookings/"


def html(response: Any) -> str:
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def table_refs(page: str) -> list[str]:
    table = page.split('<table class="booking-table">')[1] if '<table class="booking-table">' in page else ""
    return re.findall(r'href="/dashboard/bookings/(BK-[0-9A-Z]+)/"', table)


@pytest.fixture
def people(offering: Offering) -> dict[str, Booking]:
    return {
        "grace": BookingFactory(
            offering=offering, start=SLOT, client_name="Grace Hopper", client_email="grace@navy.example"
        ),
        "ada": BookingFactory(
            offering=offering,
            start=SLOT + timedelta(hours=1),
            client_name="Ada Byron",
            client_email="countess@example.org",
        ),
        "alan": BookingFactory(
            offering=offering,
            start=SLOT + timedelta(hours=2),
            client_name="Alan Turing",
            client_email="ALAN@Bletchley.example",
        ),
    }


@pytest.mark.parametrize(
    ("q", "who"),
    [
        ("grace", ["grace"]),
        ("HOPPER", ["grace"]),
        ("ron", ["ada"]),
        ("countess", ["ada"]),
        ("bletchley", ["alan"]),
        ("alan@", ["alan"]),
        (".example", ["grace", "alan"]),
        ("  ada  ", ["ada"]),
        ("%", []),
        ("_", []),
        ("nobody", []),
    ],
)
def test_it_finds_clients_by_a_part_of_their_name_or_email_in_any_case(
    coach_client: Client, people: dict[str, Booking], q: str, who: list[str]
) -> None:
    page = html(coach_client.get(LIST, {"q": q}))
    assert table_refs(page) == [people[name].reference for name in who]


def test_it_shows_the_clients_email_in_each_row(coach_client: Client, people: dict[str, Booking]) -> None:
    page = html(coach_client.get(LIST))
    table = page.split('<table class="booking-table">')[1]
    assert "grace@navy.example" in table and "countess@example.org" in table


def test_it_says_when_nothing_matches(coach_client: Client, people: dict[str, Booking]) -> None:
    page = html(coach_client.get(LIST, {"q": "zelda"}))
    assert "No bookings of a client matching “zelda”" in page
    assert 'value="zelda"' in page


def test_it_combines_the_search_with_status_offering_and_when(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    other = OfferingFactory(coach=coach, slug="deep", title="Deep dive")
    confirmed = BookingFactory(offering=offering, start=SLOT, client_name="Grace One")
    pending = BookingFactory(
        offering=offering,
        start=SLOT + timedelta(hours=1),
        client_name="Grace Two",
        status=Booking.Status.PENDING,
    )
    on_other = BookingFactory(offering=other, start=SLOT + timedelta(hours=2), client_name="Grace Three")
    past = BookingFactory(offering=offering, start=NOW - timedelta(days=2), client_name="Grace Past")
    BookingFactory(offering=offering, start=SLOT + timedelta(hours=3), client_name="Someone Else")
    assert table_refs(html(coach_client.get(LIST, {"q": "grace"}))) == [
        confirmed.reference,
        pending.reference,
        on_other.reference,
    ]
    assert table_refs(html(coach_client.get(LIST, {"q": "grace", "status": "pending"}))) == [
        pending.reference
    ]
    assert table_refs(html(coach_client.get(LIST, {"q": "grace", "offering": other.pk}))) == [
        on_other.reference
    ]
    assert table_refs(html(coach_client.get(LIST, {"q": "grace", "when": "past"}))) == [past.reference]


def test_upcoming_leaves_out_cancelled_and_declined_unless_asked_for(
    coach_client: Client, offering: Offering
) -> None:
    live = BookingFactory(offering=offering, start=SLOT)
    cancelled = BookingFactory(
        offering=offering, start=SLOT + timedelta(hours=1), status=Booking.Status.CANCELLED
    )
    declined = BookingFactory(
        offering=offering, start=SLOT + timedelta(hours=2), status=Booking.Status.DECLINED
    )
    assert table_refs(html(coach_client.get(LIST))) == [live.reference]
    assert table_refs(html(coach_client.get(LIST, {"when": "upcoming"}))) == [live.reference]
    assert table_refs(html(coach_client.get(LIST, {"status": "cancelled"}))) == [cancelled.reference]
    assert table_refs(html(coach_client.get(LIST, {"status": "declined"}))) == [declined.reference]
    # "All" keeps its history.
    assert set(table_refs(html(coach_client.get(LIST, {"when": "all"})))) == {
        live.reference,
        cancelled.reference,
        declined.reference,
    }


def test_it_never_finds_another_coachs_bookings(coach_client: Client, people: dict[str, Booking]) -> None:
    stranger = OfferingFactory(coach=CoachFactory(slug="other"))
    BookingFactory(
        offering=stranger, start=SLOT, client_name="Grace Elsewhere", client_email="grace@other.example"
    )
    page = html(coach_client.get(LIST, {"q": "grace", "when": "all"}))
    assert table_refs(page) == [people["grace"].reference]
    assert "Grace Elsewhere" not in page


def test_the_pages_keep_the_search_and_filters(coach_client: Client, offering: Offering) -> None:
    for n in range(25):
        BookingFactory(offering=offering, start=SLOT + timedelta(minutes=30 * n), client_name=f"Grace {n}")
    BookingFactory(offering=offering, start=SLOT + timedelta(days=1), client_name="Other person")
    page = html(coach_client.get(LIST, {"q": "grace", "status": "confirmed"}))
    assert "Page 1 of 2" in page
    assert 'href="?page=2&amp;q=grace&amp;status=confirmed"' in page
    second = html(coach_client.get(LIST, {"q": "grace", "status": "confirmed", "page": "2"}))
    assert len(table_refs(second)) == 5
    assert "Other person" not in second


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"},
        {"q": "a" * 5000},
        {"q": "' OR 1=1 --"},
        {"q": "😀"},
        {"status": "nonsense", "q": "grace"},
        {"offering": "not-a-number"},
        {"offering": "99999999999999999999999"},
        {"when": "<script>"},
        {"page": "-1"},
        {"page": "nonsense"},
    ],
)
def test_bad_query_params_never_break_the_list(
    coach_client: Client, people: dict[str, Booking], params: dict
) -> None:
    response = coach_client.get(LIST, params)
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("count", [3, 40])
def test_it_searches_in_a_fixed_number_of_queries(
    coach_client: Client, coach: Coach, offering: Offering, django_assert_max_num_queries: Any, count: int
) -> None:
    """Session, user, coach, the offerings of the filter, the count and the page, the pending
    list, the layout's "is a coach" and the navigation's count: however many bookings match."""
    for n in range(count):
        extra = OfferingFactory(coach=coach) if n % 2 else offering
        BookingFactory(offering=extra, start=SLOT + timedelta(minutes=30 * n), client_name=f"Grace {n}")
        BookingFactory(
            offering=offering,
            start=SLOT + timedelta(days=2, minutes=30 * n),
            status=Booking.Status.PENDING,
            client_name="Someone Else",
        )
    with django_assert_max_num_queries(9):
        page = html(coach_client.get(LIST, {"q": "GRACE"}))
    assert len(table_refs(page)) == min(count, 20)
