"""The client sees the cancellation and reschedule policy before booking and after, in their zone."""

from __future__ import annotations

import pytest
from django.test import Client

from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(response.content.decode().split())


def test_the_offering_page_states_the_policy(client: Client, offering: Offering) -> None:
    page = text(client.get("/ada/intro-call/"))
    assert "Cancelling and moving" in page
    assert "Cancel online until 1 day before the call starts." in page
    assert "Move it online until 1 day before the call starts, up to 2 times." in page


def test_the_booking_form_gives_the_deadlines_in_the_clients_zone(client: Client, offering: Offering) -> None:
    # The slot is Wednesday 2 December, 15:00 UTC = 16:00 in Berlin.
    page = text(client.get("/ada/intro-call/book/?start=2026-12-02T15:00:00Z&tz=Europe/Berlin"))
    assert "Cancel online until Tuesday 1 December 2026, 16:00." in page
    assert "Move it online until Tuesday 1 December 2026, 16:00, up to 2 times." in page


def test_the_confirmation_repeats_them_with_the_grace_period(
    client: Client, offering: Offering, book
) -> None:
    offering.cancel_grace_minutes = 30
    offering.reschedule_notice_minutes = 120
    offering.max_reschedules = 1
    offering.save()
    booking = book()
    page = text(client.get(f"/b/{manage_token(booking)}/confirmed/"))
    assert "Cancel online until Tuesday 1 December 2026, 16:00." in page
    assert "You can cancel within 30 minutes of booking, however close the call is." in page
    assert "Move it online until Wednesday 2 December 2026, 14:00, once." in page


def test_without_online_moves_the_page_says_whom_to_ask(client: Client, offering: Offering) -> None:
    offering.max_reschedules = 0
    offering.cancel_notice_minutes = 0
    offering.save()
    page = text(client.get("/ada/intro-call/"))
    assert "Cancel online any time before the call starts." in page
    assert "To move it, contact the coach." in page
