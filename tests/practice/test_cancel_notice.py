"""The client's cancel page says what cancelling now does to a package session, by the
policy the booking kept: back on the package, used up, or back marked late."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client

from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import SLOT

pytestmark = pytest.mark.django_db


def cancel_page(client: Client, booking, at) -> str:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return unescape(client.get(f"/b/{manage_token(booking)}/cancel/").content.decode())


def test_early_late_and_late_marked(client: Client, grant, book, offering: Offering) -> None:
    pass_obj = grant()
    booking = book(client_pass=pass_obj)
    assert "Your session goes back on your package “Three calls”." in cancel_page(
        client, booking, SLOT - timedelta(hours=25)
    )
    late = cancel_page(client, booking, SLOT - timedelta(hours=2))
    assert "has passed: cancelling now uses up the session of your package “Three calls”." in late
    offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
    offering.save()
    marked = book(SLOT + timedelta(hours=1), client_pass=pass_obj)
    assert "puts the session back on your package “Three calls”, marked late" in cancel_page(
        client, marked, SLOT - timedelta(hours=2)
    )


def test_a_booking_without_a_pass_gets_no_package_words(client: Client, book) -> None:
    assert "package" not in cancel_page(client, book(), SLOT - timedelta(hours=25))
