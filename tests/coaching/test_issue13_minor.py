"""Small fixes: the API tokens page reads times in the coach's zone and clock, and "your page is
ready" names the offering made with the page, whatever the coach added since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from coaching.models import ApiToken, Coach
from coaching.services import api_token_create
from tests.factories import OfferingFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


@pytest.fixture
def used_token(coach: Coach) -> ApiToken:
    token, _ = api_token_create(coach=coach, name="CRM", scope=ApiToken.Scope.READ)
    # 15:30 UTC: 10:30 in New York, where the coach works.
    token.last_used_at = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    token.save(update_fields=["last_used_at"])
    return token


def test_the_api_tokens_page_shows_the_last_use_in_the_coachs_zone(
    coach_client: Client, used_token: ApiToken
) -> None:
    page = coach_client.get("/dashboard/api-tokens/").content.decode()
    assert "last used" in page and "1 Dec 2026, 10:30" in page


def test_the_api_tokens_page_follows_a_12_hour_locale(coach_client: Client, used_token: ApiToken) -> None:
    page = coach_client.get("/dashboard/api-tokens/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "1 Dec 2026, 10:30 AM" in page


def test_the_ready_page_names_the_first_offering_made(coach_client: Client, coach: Coach) -> None:
    first = OfferingFactory(coach=coach, slug="zz-first", title="Zebra call", duration_minutes=60)
    OfferingFactory(coach=coach, slug="aa-later", title="Aardvark call", duration_minutes=15)
    # Created later but sorting first by the offerings' own order (duration, then title).
    assert coach.offerings.first().title == "Aardvark call"
    type(first).objects.filter(pk=first.pk).update(created_at=NOW - timedelta(days=1))
    page = coach_client.get("/dashboard/start/ready/").content.decode()
    assert "Clients can book “Zebra call” with you now" in page


def test_the_ready_page_without_offerings_says_your_first_call(coach_client: Client) -> None:
    page = coach_client.get("/dashboard/start/ready/").content.decode()
    assert "Clients can book “your first call” with you now" in page
