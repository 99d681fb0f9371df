"""What the coach sees and sets: the booking page's reminders, and the follow-up switch per offering."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from booking.models import Reminder
from coaching.models import Offering
from tests.support import NOW, SLOT, offering_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

S = Reminder.Status


def page(client: Client, reference: str) -> str:
    response = client.get(reverse("dashboard_booking", kwargs={"reference": reference}))
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_it_lists_a_bookings_reminders_and_their_state(coach_client: Client, book) -> None:
    """Soonest first, in the coach's zone (New York), with what happened to each."""
    booking = book()
    Reminder.objects.filter(booking=booking, kind="before-1440").update(
        status=S.SENT, sent_at=SLOT - timedelta(hours=24)
    )
    Reminder.objects.filter(booking=booking, recipient="coach").update(
        status=S.SCHEDULED,
        attempts=1,
        last_error="The mail server closed the connection [SMTPServerDisconnected]",
    )
    html = page(coach_client, booking.reference)
    assert '<h2 id="reminders-title">Reminders</h2>' in html
    section = html.split('id="reminders-title"')[1].split("</section>")[0]
    assert section.index("24 hours before") < section.index("1 hour before") < section.index("Follow-up")
    assert "Tuesday 1 December 2026, 10:00" in section  # sent: when it went out, in New York
    assert "Wednesday 2 December 2026, 09:00" in section  # due an hour before 10:00
    assert "Wednesday 2 December 2026, 11:30" in section  # the follow-up: an hour after 10:30
    assert section.count("status-confirmed") == 1  # sent
    assert "The mail server closed the connection" in section  # retrying, and why
    assert "could not be sent" not in section


def test_it_says_reminders_come_with_approval_for_a_pending_booking(
    coach_client: Client, book, offering: Offering
) -> None:
    offering.requires_approval = True
    offering.save()
    booking = book()
    assert "Reminders are planned when you approve the booking." in page(coach_client, booking.reference)


def test_it_keeps_the_booking_page_to_a_fixed_number_of_queries(
    coach_client: Client, book, django_assert_max_num_queries
) -> None:
    """One query for the reminders, however many there are."""
    booking = book()
    # +1: the navigation's count of bookings waiting for approval (booking/context_processors.py).
    with django_assert_max_num_queries(8):
        page(coach_client, booking.reference)


def test_it_offers_the_follow_up_switch_on_by_default(coach_client: Client) -> None:
    html = coach_client.get(reverse("dashboard_offering_create")).content.decode()
    checkbox = re.search(r'<input[^>]*name="follow_up_enabled"[^>]*>', html)
    assert checkbox is not None and "checked" in checkbox.group(0)
    assert "Follow-up email after the call" in html


def test_it_turns_follow_ups_off_for_an_offering(coach_client: Client, offering: Offering) -> None:
    """An unticked checkbox is absent from the post: follow-ups off. Ticked: on again."""
    url = reverse("dashboard_offering_edit", args=[offering.pk])
    response = coach_client.post(url, offering_data(slug="intro-call"))
    assert response.status_code == HTTPStatus.FOUND
    offering.refresh_from_db()
    assert offering.follow_up_enabled is False
    coach_client.post(url, offering_data(slug="intro-call", follow_up_enabled="on"))
    offering.refresh_from_db()
    assert offering.follow_up_enabled is True
