"""After signing in, a coach lands on the dashboard and a client on the home page."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from coaching.models import Coach
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, **extra: str):
    return client.post("/accounts/login/", {"login": email, "password": DEFAULT_PASSWORD, **extra})


def test_it_sends_a_coach_to_the_dashboard(client: Client, coach: Coach) -> None:
    response = sign_in(client, coach.user.email)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_it_sends_a_client_home(client: Client, user: User) -> None:
    response = sign_in(client, user.email)
    assert response["Location"] == "/"


def test_it_honours_next_for_a_coach(client: Client, coach: Coach) -> None:
    response = sign_in(client, coach.user.email, next="/dashboard/hours/")
    assert response["Location"] == "/dashboard/hours/"


def test_it_shows_the_dashboard_link_to_coaches_only(client: Client, coach: Coach, user: User) -> None:
    client.force_login(coach.user)
    assert 'href="/dashboard/"' in client.get("/").content.decode()
    client.force_login(user)
    assert 'href="/dashboard/"' not in client.get("/").content.decode()
