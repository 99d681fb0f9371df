"""Guessing passwords is throttled everywhere, and a stranger cannot lock a coach out (issue 12, 7-8)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


def login(client: Client, email: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=address)


def test_it_sends_the_admin_login_to_the_throttled_sign_in(client: Client) -> None:
    """/admin/login/ never checks a password itself: every attempt goes to allauth's login."""
    UserFactory(email="staff@example.com", is_staff=True)
    for _ in range(25):
        response = client.post("/admin/login/", {"username": "staff@example.com", "password": "wrong"})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client.session
    for _ in range(5):
        login(client, "staff@example.com", "wrong", "203.0.113.9")
    assert TOO_MANY in login(client, "staff@example.com", DEFAULT_PASSWORD, "203.0.113.9").content.decode()


def test_it_lets_staff_into_admin_after_signing_in(client: Client) -> None:
    UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    login(client, "staff@example.com", DEFAULT_PASSWORD, "203.0.113.9")
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_it_does_not_let_a_stranger_lock_the_coach_out(client: Client) -> None:
    """Five wrong passwords from one address lock that address out of the account, not the coach."""
    UserFactory(email="coach@example.com")
    for _ in range(5):
        login(Client(), "coach@example.com", "wrong", "198.51.100.7")
    assert TOO_MANY in login(Client(), "coach@example.com", DEFAULT_PASSWORD, "198.51.100.7").content.decode()
    response = login(client, "coach@example.com", DEFAULT_PASSWORD, "203.0.113.20")
    assert response.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" in client.session
