"""A newcomer's whole account life in a real browser: sign up, verify, sign in and out, reset.

The verification and reset links are read from ``django.core.mail.outbox``: the live
server runs in this process and pytest-django swaps in the in-memory mail backend.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import Page, expect

from tests.factories import DEFAULT_PASSWORD, UserFactory

EMAIL = "newcomer@example.com"
PASSWORD = "first passphrase for 2 calls"
NEW_PASSWORD = "second passphrase for 3 calls"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    """allauth's limiters count per IP (always 127.0.0.1 here) in a cache the whole suite shares."""
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture(autouse=True)
def _site_is_the_live_server(settings, live_server) -> None:
    """Account emails link to SITE_URL: here, the live server the browser talks to."""
    settings.SITE_URL = live_server.url


def _link(message: mail.EmailMessage, path_fragment: str) -> str:
    links = [url for url in re.findall(r"https?://\S+", message.body) if path_fragment in url]
    assert len(links) == 1, message.body
    return links[0]


def _account_nav(page: Page):
    return page.get_by_role("navigation", name="Account", exact=True)


def _sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page: Page) -> None:
    _account_nav(page).get_by_role("button", name="Sign out").click()
    expect(_account_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(_account_nav(page)).not_to_contain_text(EMAIL)


def test_it_signs_up_verifies_signs_in_and_out_and_resets_the_password(
    page: Page, live_server, mailoutbox
) -> None:
    """The newcomer's path through every account page works end to end in chromium."""
    base_url = live_server.url

    # Sign up from the header link.
    page.goto(base_url)
    _account_nav(page).get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign up")
    page.get_by_label("Your name").fill("Newcomer")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    expect(_account_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert [m.to for m in mailoutbox] == [[EMAIL]]

    # Follow the emailed link and confirm: that signs the newcomer in.
    page.goto(_link(mailoutbox[0], "/accounts/confirm-email/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    page.get_by_role("button", name="Confirm").click()
    expect(_account_nav(page)).to_contain_text(EMAIL)
    assert EmailAddress.objects.get(email=EMAIL).verified

    _sign_out(page)

    # Back in with the password.
    _sign_in(page, base_url, EMAIL, PASSWORD)
    expect(_account_nav(page)).to_contain_text(EMAIL)
    _sign_out(page)

    # Forgotten password: from the sign-in page's link to the emailed reset link.
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Reset My Password").click()
    expect(page.get_by_text("We have sent you an email")).to_be_visible()
    reset_mails = [m for m in mailoutbox if "/accounts/password/reset/key/" in m.body]
    assert [m.to for m in reset_mails] == [[EMAIL]]

    page.goto(_link(reset_mails[0], "/accounts/password/reset/key/"))
    page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()

    # The old password no longer works; the new one does.
    _sign_in(page, base_url, EMAIL, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(_account_nav(page).get_by_role("link", name="Sign in")).to_be_visible()

    _sign_in(page, base_url, EMAIL, NEW_PASSWORD)
    expect(_account_nav(page)).to_contain_text(EMAIL)


def test_it_does_not_sign_in_an_unverified_email_and_resends_the_link(
    page: Page, live_server, mailoutbox
) -> None:
    """The right password for an unverified address shows "verify your email" and mails a new link."""
    person = UserFactory(email="unverified@example.com", verified=False)
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=False)

    _sign_in(page, live_server.url, person.email, DEFAULT_PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    expect(_account_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(_account_nav(page)).not_to_contain_text(person.email)
    assert [m.to for m in mailoutbox] == [[person.email]]
    assert _link(mailoutbox[0], "/accounts/confirm-email/")
