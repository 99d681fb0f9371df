"""The coach page's "next free" time is in the visitor's zone, named, and in the visitor's clock;
when the server only guessed (the coach's zone), the page asks the browser (issue 13, 2).

NOW is Tuesday 1 December 2026, 07:00 in New York; the coach works Mon-Fri 09-17 there:
the next free time is today 09:00 New York, 15:00 Berlin, 19:30 Kolkata.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from coaching.models import Offering
from tests.factories import UserFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def page(client: Client, path: str = "/ada/", **headers: str) -> str:
    response = client.get(path, **headers)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_it_shows_the_next_free_time_in_the_zone_the_visitor_asked_for(
    client: Client, offering: Offering
) -> None:
    html = page(client, "/ada/?tz=Asia/Kolkata")
    assert '<time datetime="2026-12-01T19:30:00+05:30">today 19:30</time>' in html
    assert '<span data-zone-text="long">your time (Asia/Kolkata)</span>' in html
    assert '<span data-zone-text="short">your time (Kolkata)</span>' in html
    assert "data-detect-zone" not in html  # nothing to correct


def test_it_uses_a_signed_in_visitors_zone_without_asking_the_browser(
    client: Client, offering: Offering
) -> None:
    client.force_login(UserFactory(email="berlin@example.com", time_zone="Europe/Berlin"))
    html = page(client)
    assert "today 15:00" in html
    assert "your time (Europe/Berlin)" in html
    assert "data-detect-zone" not in html


def test_it_says_the_zone_is_the_coachs_and_lets_the_browser_correct_it(
    client: Client, offering: Offering
) -> None:
    html = page(client)
    assert '<time datetime="2026-12-01T09:00:00-05:00">today 09:00</time>' in html
    assert "New York time, Ada Lovelace’s zone" in html
    assert (
        'data-next-free-zone="America/New_York" data-now="2026-12-01T12:00:00+00:00" data-detect-zone="1"'
        in html
    )
    assert "/static/js/slot-picker" in html


def test_it_shows_the_next_free_time_in_the_visitors_clock(client: Client, offering: Offering) -> None:
    html = page(client, "/ada/?tz=Europe/Berlin", HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<time datetime="2026-12-01T15:00:00+01:00">today 3:00 PM</time>' in html
