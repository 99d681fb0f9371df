"""The home page lists coaches; a coach page shows their offerings; errors look like the site."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from coaching.models import Coach, Offering
from tests.factories import CoachFactory, OfferingFactory


@pytest.mark.django_db
def test_it_lists_coaches_with_offerings_on_the_home_page(client: Client, offering: Offering) -> None:
    """A coach with a listed offering appears, linked to their page."""
    CoachFactory(slug="no-offerings", display_name="Hidden Harriet")
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'href="/ada/"' in html
    assert "Ada Lovelace" in html
    assert "Hidden Harriet" not in html


@pytest.mark.django_db
def test_it_shows_an_empty_state_without_coaches(client: Client) -> None:
    response = client.get("/")
    assert "No coaches are taking bookings yet" in response.content.decode()


@pytest.mark.django_db
def test_it_paginates_the_home_page(client: Client, django_assert_max_num_queries) -> None:
    """25 coaches make two pages, with a fixed number of queries per page."""
    for n in range(25):
        OfferingFactory(coach=CoachFactory(display_name=f"Coach {n:02d}"))
    with django_assert_max_num_queries(4):
        first = client.get("/")
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/?page=2").content.decode()
    assert "Coach 24" in second
    assert client.get("/?page=abc").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_it_shows_a_coach_page_with_listed_offerings_only(
    client: Client, coach: Coach, offering: Offering
) -> None:
    OfferingFactory(coach=coach, title="Secret call", is_listed=False)
    OfferingFactory(coach=coach, title="Retired call", is_active=False)
    html = client.get("/ada/").content.decode()
    assert "Intro call" in html
    assert "Secret call" not in html
    assert "Retired call" not in html


@pytest.mark.django_db
def test_it_answers_head_requests_for_the_home_and_coach_pages(client: Client, offering: Offering) -> None:
    """Link checkers and uptime monitors send HEAD: the public pages answer it like GET."""
    assert client.head("/").status_code == HTTPStatus.OK
    assert client.head("/ada/").status_code == HTTPStatus.OK
    assert client.post("/ada/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.django_db
def test_it_answers_404_in_the_site_layout_for_an_unknown_coach(client: Client) -> None:
    response = client.get("/nobody-here/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    html = response.content.decode()
    assert "We couldn&#x27;t find that page" in html or "We couldn't find that page" in html
    assert 'class="skip-link"' in html


def test_it_renders_the_500_page_without_a_request_context() -> None:
    """The 500 page must render even when context processors are what failed."""
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert "Something went wrong on our side" in html
    assert 'id="main"' in html


@pytest.mark.django_db
def test_it_has_landmarks_and_a_skip_link(client: Client) -> None:
    html = client.get("/").content.decode()
    for needle in (
        '<a class="skip-link" href="#main">',
        '<main id="main"',
        "<header",
        "<footer",
        "<nav aria-label",
    ):
        assert needle in html


@pytest.mark.django_db
def test_it_points_favicon_ico_at_our_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"].endswith("favicon.svg")
    assert client.get(response["Location"]).status_code == HTTPStatus.OK
