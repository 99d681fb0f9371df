"""A package session marked a no-show: its client is told the session is used up, and nobody
else gets an email (a call without a package sends none, as before)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from booking.models import Booking
from booking.services import booking_mark_outcome
from tests.support import SLOT

pytestmark = pytest.mark.django_db


def mark_no_show(booking: Booking, capture) -> None:  # type: ignore[no-untyped-def]
    mail.outbox.clear()
    with capture(execute=True):
        booking_mark_outcome(
            booking=booking, outcome=Booking.Status.NO_SHOW, now=SLOT + timedelta(minutes=40)
        )


def test_the_client_of_a_package_session_hears_it_was_used_up(
    grant, book, django_capture_on_commit_callbacks
) -> None:
    booking = book(client_pass=grant())
    mark_no_show(booking, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert message.subject.startswith("Missed: Intro call")
    assert "A missed call uses up its session of your package “Three calls”: 2 left." in message.body


def test_a_call_without_a_package_sends_no_email(book, django_capture_on_commit_callbacks) -> None:
    mark_no_show(book(), django_capture_on_commit_callbacks)
    assert mail.outbox == []
