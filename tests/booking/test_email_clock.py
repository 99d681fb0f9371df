"""Emails show times in each recipient's clock: the client's from their browser's language when
they booked, the coach's from their profile; 24-hour when nothing is known."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

# SLOT is 15:00 UTC: 16:00 in Berlin (the client), 10:00 in New York (the coach).


def _body(address: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message.body + message.alternatives[0][0]


def test_a_us_client_reads_12_hour_times_and_the_coach_24_hour(
    book, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        book(client_locale="en-US")
    client = _body("grace@example.com")
    assert "4:00 PM" in client and not re.search(r"\b16:00\b", client)
    coach = _body("ada@example.com")
    assert re.search(r"\b10:00\b", coach) and not re.search(r"\d (AM|PM)\b", coach)


def test_a_coach_with_a_12_hour_locale_reads_12_hour_times(
    book, coach, django_capture_on_commit_callbacks
) -> None:
    coach.locale = "en-US"
    coach.save(update_fields=["locale"])
    with django_capture_on_commit_callbacks(execute=True):
        book(client_locale="de-DE")
    assert "10:00 AM" in _body("ada@example.com")
    client = _body("grace@example.com")
    assert re.search(r"\b16:00\b", client) and not re.search(r"\d (AM|PM)\b", client)


def test_saving_the_profile_keeps_the_coachs_browser_language(coach_client, coach) -> None:
    data = {"display_name": "Ada", "headline": "", "bio": "", "time_zone": "America/New_York"}
    coach_client.post("/dashboard/profile/", data, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    coach.refresh_from_db()
    assert coach.locale == "en-US"
    # A request without the header keeps what was known.
    coach_client.post("/dashboard/profile/", data)
    coach.refresh_from_db()
    assert coach.locale == "en-US"
