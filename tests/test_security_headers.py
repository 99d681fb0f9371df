"""Every page carries a strict Content-Security-Policy and the other security headers."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/nobody/", "/healthz"])
def test_it_sends_a_strict_csp_without_unsafe_inline(client: Client, path: str) -> None:
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_has_no_inline_scripts_or_styles_in_pages(client: Client, offering: object) -> None:
    """A strict CSP would block them: pages load scripts and styles from /static/ only."""
    for path in ("/", "/ada/", "/ada/intro-call/", "/accounts/login/", "/accounts/signup/"):
        html = client.get(path).content.decode()
        assert client.get(path).status_code == HTTPStatus.OK, path
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html), path
        assert " style=" not in html, path
        assert "<style" not in html, path


def test_it_allows_google_in_form_action_only_when_google_login_is_on(client: Client, settings) -> None:
    assert "accounts.google.com" not in client.get("/")["Content-Security-Policy"]
    settings.GOOGLE_LOGIN_ENABLED = True
    assert "form-action 'self' https://accounts.google.com" in client.get("/")["Content-Security-Policy"]
