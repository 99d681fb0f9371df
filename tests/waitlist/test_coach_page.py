"""The coach's waitlist page: the line in order with the time held now, failed emails with "try
again", taking someone off the line after a question; another coach's entries are not reachable."""

from __future__ import annotations

import pytest

from booking.models import WaitlistEmail, WaitlistEntry, WaitlistHold
from booking.services import booking_cancel
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PAGE = "/dashboard/waitlist/"


def test_the_line_in_order_with_the_held_time_in_the_coachs_zone(
    coach_client,
    offering,
    full_day,
    in_line,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
) -> None:
    in_line(1, confirm=False)
    in_line(2)
    in_line(3)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    with django_assert_max_num_queries(12):
        page = coach_client.get(PAGE).content.decode()
    assert page.index("Waiting 2") < page.index("Waiting 3")
    assert "Waiting 1" not in page and "1 more person has asked to join" in page
    assert "Wednesday 2 December 2026, 10:00–10:30" in page  # New York, the coach's zone


def test_an_empty_line_says_so(coach_client, offering) -> None:
    assert "Nobody is waiting" in coach_client.get(PAGE).content.decode()


def test_taking_someone_off_asks_first_and_passes_their_hold_on(
    coach_client, offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    first, second = in_line(1), in_line(2)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    url = f"/dashboard/waitlist/{first.reference}/remove/"
    assert "Take Waiting 1 off the waitlist?" in coach_client.get(url).content.decode()
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.WAITING
    with django_capture_on_commit_callbacks(execute=True):
        assert coach_client.post(url).status_code == 302
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.LEFT
    assert second.holds.get().status == WaitlistHold.Status.HELD


def test_a_failed_email_is_listed_and_sent_again(
    coach_client, offering, in_line, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    entry = in_line(1, confirm=False)
    email = entry.emails.get()
    WaitlistEmail.objects.filter(pk=email.pk).update(
        status=WaitlistEmail.Status.FAILED, attempts=9, last_error="SMTPServerDisconnected"
    )
    page = coach_client.get(PAGE).content.decode()
    assert "could not be sent" in page and "SMTPServerDisconnected" in page
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(f"/dashboard/waitlist/emails/{email.pk}/retry/")
    email.refresh_from_db()
    assert email.status == WaitlistEmail.Status.SENT
    assert mailoutbox[-1].to == ["waiting1@example.com"]


def test_another_coachs_entries_are_not_found(client, offering, in_line) -> None:
    entry = in_line(1)
    other = CoachFactory(slug="other")
    client.force_login(other.user)
    assert client.get(f"/dashboard/waitlist/{entry.reference}/remove/").status_code == 404
    assert client.post(f"/dashboard/waitlist/emails/{entry.emails.get().pk}/retry/").status_code == 404
    assert entry.reference not in client.get(PAGE).content.decode()
