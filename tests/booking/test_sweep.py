"""Nothing is lost when the broker is down at commit time: the sweep enqueues it later."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from kombu.exceptions import OperationalError

from booking import tasks
from booking.models import BookingEvent, EmailDelivery
from booking.services import booking_cancel, booking_create
from coaching.models import Offering
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db


def broker_down(*args: object, **kwargs: object) -> None:
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def create(offering: Offering):
    return booking_create(
        offering=offering,
        start=SLOT,
        client_name="Grace",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        now=NOW,
    ).booking


def test_it_keeps_the_booking_and_sends_later_when_the_broker_was_down(
    offering: Offering, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    """The enqueue fails after commit: no error for the client, the sweep sends the emails once."""
    with time_machine.travel(NOW, tick=False):
        monkeypatch.setattr(tasks.notify_booking_event, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            booking = create(offering)
        monkeypatch.undo()
        assert booking.pk and mail.outbox == []
        assert BookingEvent.objects.get().notified_at is None

        # Within the grace period the sweep leaves it alone (the message may still be on its way).
        assert tasks.sweep_unsent_emails() == 0

    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert tasks.sweep_unsent_emails() == 1
        assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
        assert BookingEvent.objects.get().notified_at is not None
        assert tasks.sweep_unsent_emails() == 0
        assert len(mail.outbox) == 2


def test_it_does_not_sweep_an_event_that_needs_no_email_again_and_again(
    offering: Offering, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    """A booking cancelled before its confirmation went out: planned once (no email), then left alone."""
    with time_machine.travel(NOW, tick=False):
        monkeypatch.setattr(tasks.notify_booking_event, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            booking = create(offering)
            booking_cancel(booking=booking, by="client", now=NOW)
        monkeypatch.undo()
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert tasks.sweep_unsent_emails() == 2
        kinds = sorted(EmailDelivery.objects.values_list("kind", flat=True))
        assert kinds == ["booking-cancelled", "booking-cancelled"]
        assert tasks.sweep_unsent_emails() == 0


def test_it_resends_a_delivery_whose_message_was_lost(
    offering: Offering, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    """Deliveries planned but never attempted (the send message was lost) are sent by the sweep."""
    with time_machine.travel(NOW, tick=False):
        monkeypatch.setattr(tasks.send_booking_email, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            create(offering)
        monkeypatch.undo()
        assert EmailDelivery.objects.count() == 2
        assert mail.outbox == []
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert tasks.sweep_unsent_emails() == 2
        assert len(mail.outbox) == 2
        assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
