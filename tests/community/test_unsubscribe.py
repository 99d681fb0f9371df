"""Unsubscribe: one click from any email (RFC 8058 headers), a confirm page on GET, harmless twice."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from coaching.models import Coach
from community import emails as community_emails
from community import tokens
from community.models import Subscriber
from tests.community.conftest import strip_site

pytestmark = pytest.mark.django_db


def test_it_unsubscribes_with_a_one_click_post_without_a_csrf_token(coach: Coach, subscriber) -> None:
    """Mail systems POST ``List-Unsubscribe=One-Click`` with no cookie: that must work."""
    reader = subscriber()
    url = community_emails.unsubscribe_url(reader)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        strip_site(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == HTTPStatus.OK
    assert "You’re unsubscribed" in response.content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED
    assert reader.unsubscribed_at is not None


def test_it_asks_before_unsubscribing_on_get(client: Client, coach: Coach, subscriber) -> None:
    """A link scanner's GET changes nothing; the page has the button."""
    reader = subscriber()
    path = strip_site(community_emails.unsubscribe_url(reader))
    html = client.get(path).content.decode()
    assert "Unsubscribe from Ada Lovelace’s emails?" in html
    assert f'<form method="post" action="{path}">' in html
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.CONFIRMED


def test_it_makes_unsubscribing_twice_harmless(client: Client, coach: Coach, subscriber) -> None:
    reader = subscriber()
    path = strip_site(community_emails.unsubscribe_url(reader))
    client.post(path)
    first_time = Subscriber.objects.get().unsubscribed_at
    for response in (client.post(path), client.get(path)):
        assert response.status_code == HTTPStatus.OK
        assert "You were already unsubscribed" in response.content.decode()
    assert Subscriber.objects.get().unsubscribed_at == first_time


def test_it_answers_404_for_a_tampered_unsubscribe_link(client: Client, coach: Coach, subscriber) -> None:
    reader = subscriber()
    token = tokens.unsubscribe_token(reader)
    other = subscriber(email="other@example.com")
    forged = f"{other.pk}.{token.split('.', 1)[1]}"
    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "abc", "1.", ".x", "9" * 30 + ".x"):
        assert client.get(f"/community/unsubscribe/{bad}/").status_code == HTTPStatus.NOT_FOUND
        assert client.post(f"/community/unsubscribe/{bad}/").status_code == HTTPStatus.NOT_FOUND
    assert Subscriber.objects.filter(status=Subscriber.Status.UNSUBSCRIBED).count() == 0


def test_it_keeps_old_links_working_across_a_secret_key_rotation(
    client: Client, coach: Coach, subscriber, settings
) -> None:
    reader = subscriber()
    path = strip_site(community_emails.unsubscribe_url(reader))
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-of-sufficient-length-0123456789"
    assert client.post(path).status_code == HTTPStatus.OK
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_it_puts_the_unsubscribe_headers_on_the_confirmation_email(coach: Coach, subscriber) -> None:
    reader = subscriber(status=Subscriber.Status.PENDING)
    message = community_emails.notice_message(reader)
    assert message is not None
    url = community_emails.unsubscribe_url(reader)
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    assert url in message.alternatives[0][0]


def test_it_sends_nothing_to_an_address_that_left(coach: Coach, subscriber) -> None:
    assert community_emails.notice_message(subscriber(status=Subscriber.Status.UNSUBSCRIBED)) is None
