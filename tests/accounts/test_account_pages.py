"""The account pages (allauth inside our layout), driven through Django's test client."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 77"
WRONG_LOGIN = "The email address and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    """allauth's limiters count per IP in the cache, which every test shares as 127.0.0.1.

    They are not under test here, and left on they would make these tests depend on
    how many sign-ins the rest of the suite (or, with Redis, an earlier run) made.
    """
    settings.ACCOUNT_RATE_LIMITS = False


def _link(message: mail.EmailMessage, path_fragment: str) -> str:
    """The one URL in an email's text body that contains ``path_fragment``."""
    links = [url for url in re.findall(r"https?://\S+", message.body) if path_fragment in url]
    assert len(links) == 1, message.body
    return links[0]


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def _sign_up(client: Client, email: str = "newcomer@example.com") -> object:
    return client.post(
        reverse("account_signup"),
        {"name": "Newcomer", "email": email, "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
    )


def test_it_sends_a_verification_mail_on_signup_and_does_not_sign_in(client: Client, mailoutbox) -> None:
    """Signing up creates an unverified account, mails a link and shows "verify your email"."""
    response = _sign_up(client)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_email_verification_sent")
    assert _signed_in_user_id(client) is None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newcomer@example.com"]
    assert "/accounts/confirm-email/" in _link(mailoutbox[0], "/accounts/confirm-email/")
    assert EmailAddress.objects.get(email="newcomer@example.com").verified is False
    page = client.get(response["Location"])
    assert "Verify Your Email Address" in page.content.decode()


def test_it_verifies_the_email_from_the_link_and_signs_in(client: Client, mailoutbox) -> None:
    """Opening the mailed link and confirming marks the address verified and signs the person in."""
    _sign_up(client)
    link = _link(mailoutbox[0], "/accounts/confirm-email/")

    page = client.get(link)
    assert page.status_code == HTTPStatus.OK
    assert "newcomer@example.com" in page.content.decode()
    response = client.post(link)

    assert response.status_code == HTTPStatus.FOUND
    user = User.objects.get(email="newcomer@example.com")
    assert EmailAddress.objects.get(user=user).verified is True
    assert _signed_in_user_id(client) == str(user.pk)


def test_it_gives_the_same_error_for_a_wrong_password_and_an_unknown_email(
    client: Client, user: User
) -> None:
    """A failed sign-in says the pair is wrong, never whether the email has an account."""
    wrong_password = client.post(reverse("account_login"), {"login": user.email, "password": "not it at all"})
    unknown_email = client.post(
        reverse("account_login"), {"login": "nobody@example.com", "password": "not it at all"}
    )

    for response in (wrong_password, unknown_email):
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert WRONG_LOGIN in html
        assert 'role="alert"' in html
    assert _signed_in_user_id(client) is None


def test_it_marks_a_field_with_an_error_for_assistive_technology(client: Client) -> None:
    """A field error sits next to its input, which is aria-invalid and described by the error."""
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
    )

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert '<ul class="errorlist" id="id_email_error">' in html
    email_input = re.search(r'<input type="email" name="email"[^>]*>', html)
    assert email_input is not None
    assert 'aria-invalid="true"' in email_input.group(0)
    assert 'aria-describedby="id_email_error"' in email_input.group(0)


def test_it_signs_in_a_verified_user_with_the_right_password(client: Client, user: User) -> None:
    """The right email and password sign in and go to the home page."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert _signed_in_user_id(client) == str(user.pk)


def test_it_does_not_sign_in_an_unverified_email_and_resends_the_link(client: Client, mailoutbox) -> None:
    """The right password with an unverified address leads to "verify your email" and a fresh link."""
    person = UserFactory(email="unverified@example.com", verified=False)
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=False)

    response = client.post(reverse("account_login"), {"login": person.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_email_verification_sent")
    assert _signed_in_user_id(client) is None
    assert [m.to for m in mailoutbox] == [["unverified@example.com"]]
    assert _link(mailoutbox[0], "/accounts/confirm-email/")


def test_it_answers_a_reset_for_an_unknown_email_like_one_for_a_known_email(
    client: Client, user: User, mailoutbox
) -> None:
    """Requesting a reset looks the same either way; only the real account gets a reset link."""
    known = client.post(reverse("account_reset_password"), {"email": user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == HTTPStatus.FOUND
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    reset_mails = [m for m in mailoutbox if "/accounts/password/reset/key/" in m.body]
    assert [m.to for m in reset_mails] == [[user.email]]
    # allauth may tell the owner of an unknown address that someone asked; that mail
    # goes only to that address and carries no way into any account.
    for message in mailoutbox:
        if message.to == ["nobody@example.com"]:
            assert "/accounts/password/reset/key/" not in message.body


def test_it_resets_a_password_from_the_mailed_link(client: Client, user: User, mailoutbox) -> None:
    """The reset link leads to a form that sets a new password; the old one stops working."""
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = _link(mailoutbox[0], "/accounts/password/reset/key/")

    form_page = client.get(link, follow=True)
    assert form_page.status_code == HTTPStatus.OK
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_reset_password_from_key_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(DEFAULT_PASSWORD)


def test_it_changes_the_password_of_a_signed_in_user(client_user_client: Client, user: User) -> None:
    """A signed-in person changes their password with the current one and stays signed in."""
    response = client_user_client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _signed_in_user_id(client_user_client) == str(user.pk)


def test_it_refuses_a_password_change_with_a_wrong_current_password(
    client_user_client: Client, user: User
) -> None:
    """A wrong current password re-renders the form with the error next to that field."""
    response = client_user_client.post(
        reverse("account_change_password"),
        {"oldpassword": "not my password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == HTTPStatus.OK
    assert 'id="id_oldpassword_error"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def _entrance_urls(client: Client, user: User, mailoutbox) -> list[str]:
    """Pages for someone signed out, including the two reached only from a mailed link."""
    newcomer = UserFactory(email="pending@example.com", verified=False)
    EmailAddress.objects.create(user=newcomer, email=newcomer.email, primary=True, verified=False)
    client.post(reverse("account_login"), {"login": newcomer.email, "password": DEFAULT_PASSWORD})
    confirm_url = _link(mailoutbox[-1], "/accounts/confirm-email/")
    client.post(reverse("account_reset_password"), {"email": user.email})
    reset_url = _link(mailoutbox[-1], "/accounts/password/reset/key/")
    set_password_url = client.get(reset_url, follow=True).redirect_chain[-1][0]
    return [
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_email_verification_sent"),
        confirm_url,
        reverse("account_confirm_email", args=["no-such-key"]),
        reverse("account_reset_password"),
        reverse("account_reset_password_done"),
        set_password_url,
        reverse("account_reset_password_from_key", kwargs={"uidb36": "0", "key": "bad-key"}),
        reverse("account_reset_password_from_key_done"),
        reverse("account_inactive"),
    ]


def _assert_in_our_layout(url: str, html: str) -> None:
    assert 'class="skip-link" href="#main"' in html, url
    assert '<main id="main"' in html, url
    assert 'class="card card-narrow auth-card"' in html, url
    assert html.count("<h1") == 1, url
    # A strict Content-Security-Policy comes later: nothing inline.
    assert "<script" not in html, url
    assert " style=" not in html, url


def test_it_renders_every_entrance_page_inside_our_layout(client: Client, user: User, mailoutbox) -> None:
    """Sign in, sign up, verification and reset pages answer 200 in the site layout, with one h1."""
    for url in _entrance_urls(client, user, mailoutbox):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        _assert_in_our_layout(url, response.content.decode())


def test_it_renders_every_account_page_inside_our_layout_with_the_account_menu(
    client_user_client: Client,
) -> None:
    """Email, password change and sign-out pages answer 200 in the layout with the account sub-menu."""
    for name in ("account_email", "account_change_password", "account_logout"):
        url = reverse(name)
        response = client_user_client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        html = response.content.decode()
        _assert_in_our_layout(url, html)
        assert 'aria-label="Account settings"' in html, url
        assert f'href="{url}" aria-current="page"' in html, url


def test_it_links_sign_in_sign_up_and_forgotten_password_to_each_other(client: Client) -> None:
    """From each way in, the other ways in are one link away."""
    login = client.get(reverse("account_login")).content.decode()
    signup = client.get(reverse("account_signup")).content.decode()
    reset = client.get(reverse("account_reset_password")).content.decode()

    assert f'href="{reverse("account_signup")}"' in login
    assert f'href="{reverse("account_reset_password")}"' in login
    assert f'href="{reverse("account_login")}"' in signup
    assert f'href="{reverse("account_login")}"' in reset
    assert f'href="{reverse("account_signup")}"' in reset
