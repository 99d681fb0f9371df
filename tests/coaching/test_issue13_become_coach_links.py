"""Something links to "Become a coach": the navigation, the home page and "My bookings" show it to
a signed-in, verified person who is not a coach while ``COACH_SIGNUP=open``, and to no one else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from coaching.models import Coach
from tests.factories import UserFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

START = "/dashboard/start/"
LINK = re.compile(r'<a[^>]*href="/dashboard/start/"[^>]*>Become a coach</a>')


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def navigation(html: str) -> str:
    match = re.search(r'<nav aria-label="Account">(.*?)</nav>', html, re.S)
    assert match
    return match.group(1)


@pytest.fixture
def signup_open(settings: Any) -> None:
    settings.COACH_SIGNUP = "open"


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_a_verified_non_coach_finds_it_in_the_navigation_home_and_my_bookings(
    signed_in: Client, signup_open: None
) -> None:
    home = page(signed_in, "/")
    assert LINK.search(navigation(home))
    assert len(LINK.findall(home)) == 2  # the navigation and the home page's own invitation
    assert "Take bookings yourself" in home
    mine = page(signed_in, "/my/bookings/")
    assert len(LINK.findall(mine)) == 2
    assert "Coach others too?" in mine


def test_the_link_opens_the_form(signed_in: Client, signup_open: None) -> None:
    assert signed_in.get(START).status_code == 200


def test_nobody_sees_it_while_signup_is_closed(signed_in: Client, settings: Any) -> None:
    settings.COACH_SIGNUP = "closed"
    for path in ("/", "/my/bookings/"):
        html = page(signed_in, path)
        assert "Become a coach" not in html and "Are you a coach?" not in html


def test_a_coach_sees_the_dashboard_instead(coach_client: Client, coach: Coach, signup_open: None) -> None:
    home = page(coach_client, "/")
    assert "Become a coach" not in home
    assert 'href="/dashboard/">Dashboard</a>' in navigation(home)


def test_an_unverified_person_does_not_see_it(client: Client, signup_open: None) -> None:
    client.force_login(UserFactory(email="new@example.com", verified=False))
    assert "Become a coach" not in page(client, "/")


def test_a_visitor_is_told_to_sign_up_first(client: Client, signup_open: None, settings: Any) -> None:
    home = page(client, "/")
    assert not LINK.search(home)
    assert "Are you a coach?" in home
    assert 'href="/accounts/signup/">sign up</a>' in home
    settings.COACH_SIGNUP = "closed"
    assert "Are you a coach?" not in page(client, "/")


def test_it_costs_no_query_while_signup_is_closed_and_one_while_open(
    signed_in: Client, settings: Any
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(signed_in, "/my/bookings/")
        return len(captured)

    settings.COACH_SIGNUP = "closed"
    closed = queries()
    settings.COACH_SIGNUP = "open"
    assert queries() == closed + 1  # whether the address is verified; "is a coach" is shared
