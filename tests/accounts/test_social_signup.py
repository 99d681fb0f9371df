"""A Google signup keeps the person's name, and the social-account pages spell "Sign in" and
"Sign up" as the rest of the site does, in its layout (issue 13, 6)."""

from __future__ import annotations

import re
from http import HTTPStatus
from types import SimpleNamespace

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.forms import SignupForm
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.sessions.middleware import SessionMiddleware
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.adapters import SocialAccountAdapter
from accounts.models import User
from tests.accounts.test_sign_in_spelling import OTHER_SPELLINGS, _visible_text

pytestmark = pytest.mark.django_db

GOOGLE = SimpleNamespace(name="Google")
GOOGLE_DATA = {
    "email": "grace@example.com",
    "name": "Grace Hopper",
    "first_name": "Grace",
    "last_name": "Hopper",
}


def _request():
    request = RequestFactory().get("/accounts/google/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = SimpleNamespace(is_authenticated=False)
    return request


def _sociallogin(data: dict[str, str]) -> SocialLogin:
    sociallogin = SocialLogin(user=User(), account=SocialAccount(provider="google", uid="1234567890"))
    get_adapter().populate_user(_request(), sociallogin, data)
    return sociallogin


def test_the_site_uses_our_social_account_adapter() -> None:
    assert isinstance(get_adapter(), SocialAccountAdapter)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (GOOGLE_DATA, "Grace Hopper"),
        ({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"),
        ({"email": "x@example.com", "name": "  Two\nLines \t here "}, "Two Lines here"),
        ({"email": "nobody@example.com"}, ""),
    ],
)
def test_a_social_signup_fills_the_name_from_the_provider(data: dict[str, str], name: str) -> None:
    assert _sociallogin(data).user.name == name


def test_the_social_signup_form_starts_with_the_name_and_keeps_it() -> None:
    """When allauth must ask (the form), the name is filled in, and saving keeps what was sent."""
    sociallogin = _sociallogin(GOOGLE_DATA)
    form = SignupForm(sociallogin=sociallogin)
    assert form.initial["name"] == "Grace Hopper"
    assert form.initial["email"] == "grace@example.com"

    form = SignupForm({"name": "Grace B. Hopper", "email": "grace@example.com"}, sociallogin=sociallogin)
    assert form.is_valid(), form.errors
    user = form.save(_request())
    assert User.objects.get(pk=user.pk).name == "Grace B. Hopper"


def _assert_our_spelling(html: str) -> str:
    text = _visible_text(html)
    assert OTHER_SPELLINGS.findall(text) == []
    assert "third-party" not in text.lower()
    return text


def test_the_social_sign_in_page_says_sign_in_with_google() -> None:
    html = render_to_string("socialaccount/login.html", {"provider": GOOGLE, "process": "login"}, _request())
    _assert_our_spelling(html)
    assert re.search(r"<title>\s*Sign in with Google", html)
    assert re.search(r"<h1[^>]*>\s*Sign in with Google\s*</h1>", html)
    assert re.search(r"<button[^>]*>\s*Sign in with Google\s*</button>", html)
    assert "<main" in html  # the site's layout


def test_the_social_sign_up_page_says_sign_up() -> None:
    sociallogin = _sociallogin(GOOGLE_DATA)
    html = render_to_string(
        "socialaccount/signup.html",
        # The Google provider is installed only when its keys are set: stand in for it here.
        {
            "form": SignupForm(sociallogin=sociallogin),
            "account": SimpleNamespace(get_provider=lambda: GOOGLE),
        },
        _request(),
    )
    _assert_our_spelling(html)
    assert re.search(r"<h1[^>]*>\s*Sign up\s*</h1>", html)
    assert 'value="Grace Hopper"' in html
    assert "with your Google account" in html


@pytest.mark.parametrize("url_name", ["socialaccount_login_error", "socialaccount_login_cancelled"])
def test_the_social_error_pages_use_our_words(client: Client, url_name: str) -> None:
    response = client.get(reverse(url_name))
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.UNAUTHORIZED}  # the error page is a 401
    text = _assert_our_spelling(response.content.decode())
    assert "sign in" in text.lower()


def test_the_connections_page_uses_our_words(client_user_client: Client) -> None:
    response = client_user_client.get(reverse("socialaccount_connections"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    _assert_our_spelling(html)
    assert re.search(r"<h1[^>]*>\s*Connected accounts\s*</h1>", html)
