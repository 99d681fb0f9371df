""" "Sign in", "Sign up" and "Sign out" are spelled the same on every account page (titles too)."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

OTHER_SPELLINGS = re.compile(
    r"Sign In|Sign Up|Sign Out|\b[Ss]ignup\b|\b[Ll]og ?[Ii]n\b|\b[Ll]og ?[Oo]ut\b|\b[Rr]egister\b|Create an account"
)


def _visible_text(html: str) -> str:
    """The page's text and its title: tags, attributes and comments removed."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->", " ", html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("url_name", "title"),
    [
        ("account_login", "Sign in"),
        ("account_signup", "Sign up"),
        ("account_reset_password", None),
        ("account_email_verification_sent", None),
    ],
)
def test_entrance_pages_spell_sign_in_and_sign_up_one_way(
    client: Client, url_name: str, title: str | None
) -> None:
    page = client.get(reverse(url_name))

    assert page.status_code == HTTPStatus.OK
    text = _visible_text(page.content.decode())
    assert OTHER_SPELLINGS.findall(text) == []
    if title:
        assert re.search(rf"<title>\s*{title}\b", page.content.decode())
        assert re.search(rf"<h1[^>]*>\s*{title}\s*</h1>", page.content.decode())


def test_the_sign_out_page_says_sign_out(client_user_client: Client, user: User) -> None:
    page = client_user_client.get(reverse("account_logout")).content.decode()

    assert OTHER_SPELLINGS.findall(_visible_text(page)) == []
    assert re.search(r"<h1[^>]*>\s*Sign out\s*</h1>", page)
