"""Account emails (verification, reset) speak as the site: its name, its address, its email layout."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://calls.nextbestmove.test"


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False
    settings.SITE_NAME = "Next Best Move Coaching"
    settings.SITE_URL = SITE_URL
    settings.SITE_DOMAIN = "calls.nextbestmove.test"


def _html(message: mail.EmailMultiAlternatives) -> str:
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    return html


def _assert_speaks_as_the_site(message: mail.EmailMultiAlternatives, path_fragment: str) -> str:
    """Site name in subject, text and HTML; no request-host placeholder; one absolute link to SITE_URL."""
    html = _html(message)
    assert "Next Best Move Coaching" in message.subject
    for body in (message.body, html):
        assert "Next Best Move Coaching" in body
        for placeholder in ("127.0.0.1:8000", "example.com", "testserver", "Hello from"):
            assert placeholder not in body
    # The HTML is laid out like our other emails (the same card and footer).
    assert "max-width: 560px" in html
    links = {url for url in re.findall(r"https?://[^\s\"<]+", message.body) if path_fragment in url}
    assert len(links) == 1, message.body
    [link] = links
    assert link.startswith(f"{SITE_URL}/")
    assert f'href="{link}"' in html
    return link


def test_the_verification_email_names_the_site_and_links_to_it(client: Client, mailoutbox) -> None:
    client.post(
        reverse("account_signup"),
        {
            "name": "Ada",
            "email": "ada@mail.test",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )

    [message] = mailoutbox
    link = _assert_speaks_as_the_site(message, "/accounts/confirm-email/")
    # The link works: opening it shows the confirmation page of this address.
    page = client.get(link.removeprefix(SITE_URL))
    assert page.status_code == HTTPStatus.OK
    assert "ada@mail.test" in page.content.decode()


def test_the_password_reset_email_names_the_site_and_links_to_it(client: Client, mailoutbox) -> None:
    UserFactory(email="ada@mail.test")

    client.post(reverse("account_reset_password"), {"email": "ada@mail.test"})

    [message] = mailoutbox
    link = _assert_speaks_as_the_site(message, "/accounts/password/reset/key/")
    # allauth moves the key into the session and redirects to the form: the link is live.
    response = client.get(link.removeprefix(SITE_URL), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert 'name="password1"' in response.content.decode()


def test_the_unknown_account_email_names_the_site_and_links_to_the_signup(client: Client, mailoutbox) -> None:
    client.post(reverse("account_reset_password"), {"email": "nobody@mail.test"})

    [message] = mailoutbox
    _assert_speaks_as_the_site(message, "/accounts/signup/")
