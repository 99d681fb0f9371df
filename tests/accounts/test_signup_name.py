"""The signup asks for a name, and the booking form of a signed-in client is prefilled from the account."""

from __future__ import annotations

from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import User
from coaching.models import Offering
from tests.factories import DEFAULT_PASSWORD
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def _sign_up(client: Client, **fields: str) -> object:
    data = {"email": "ada@mail.test", "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD, **fields}
    return client.post(reverse("account_signup"), data)


def test_the_signup_form_asks_for_a_name_first(client: Client) -> None:
    page = client.get(reverse("account_signup")).content.decode()

    assert 'name="name"' in page
    assert 'autocomplete="name"' in page
    assert page.index('name="name"') < page.index('name="email"')


def test_signing_up_saves_the_name(client: Client) -> None:
    response = _sign_up(client, name="  Ada Lovelace ")

    assert response.status_code == HTTPStatus.FOUND
    assert User.objects.get(email="ada@mail.test").name == "Ada Lovelace"


@pytest.mark.parametrize("name", ["", "Ada\nLovelace", "Ada\u2028Lovelace"])
def test_the_signup_refuses_a_missing_or_multi_line_name(client: Client, name: str) -> None:
    response = _sign_up(client, name=name)

    assert response.status_code == HTTPStatus.OK
    assert not User.objects.filter(email="ada@mail.test").exists()


def test_the_booking_form_is_prefilled_with_the_name_and_email_given_at_signup(
    client: Client, offering: Offering, mailoutbox
) -> None:
    _sign_up(client, name="Ada Lovelace")
    user = User.objects.get(email="ada@mail.test")
    user.emailaddress_set.update(verified=True)
    client.force_login(user)

    url = reverse("booking_form", args=[offering.coach.slug, offering.slug])
    with time_machine.travel(NOW, tick=False):
        page = client.get(url, {"start": SLOT.isoformat(), "tz": "Europe/Berlin"}).content.decode()

    assert 'value="Ada Lovelace"' in page
    assert 'value="ada@mail.test"' in page
