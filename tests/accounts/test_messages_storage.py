"""Flash messages stay on the server: no cookie carries their text, an address included."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def _decoded(value: str) -> str:
    """Each ``:``-separated part of a cookie value, base64-decoded where it is base64 (signed values)."""
    parts = [value]
    for part in value.split(":"):
        try:
            parts.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace"))
        except ValueError:
            continue
    return "\n".join(parts)


def assert_no_cookie_carries(response: Any, email: str) -> None:
    """No Set-Cookie names ``email`` (as it is, URL-encoded or in base64), and none is a messages cookie."""
    assert "messages" not in response.cookies
    for morsel in response.cookies.values():
        text = f"{morsel.OutputString()}\n{_decoded(morsel.value)}"
        for form in (email, quote(email), quote(email, safe="")):
            assert form not in text


def test_the_confirmation_sent_message_names_the_address_on_the_page_not_in_a_cookie(client: Client) -> None:
    email = "newcomer@example.com"
    response = client.post(
        reverse("account_signup"),
        {"name": "Newcomer", "email": email, "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert_no_cookie_carries(response, email)

    page = client.get(response["Location"])
    assert f"Confirmation email sent to {email}." in page.content.decode()
    assert_no_cookie_carries(page, email)


def test_the_signed_in_message_is_shown_without_a_messages_cookie(client: Client, user: User) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert_no_cookie_carries(response, user.email)

    page = client.get(response["Location"])
    assert "Successfully signed in as" in page.content.decode()
    assert_no_cookie_carries(page, user.email)
