"""The coach's bookings in the dashboard: list and filters, pending approvals, a booking's
detail with answers and history, and every action behind a confirmation step.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, BookingEvent
from booking.services import booking_reschedule
from coaching.models import Coach, Offering
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LIST = "/dashboard/bookings/"


def html(response: Any) -> str:
    return response.content.decode()


def detail_url(booking: Booking, action: str = "") -> str:
    return f"/dashboard/bookings/{booking.reference}/" + (f"{action}/" if action else "")


def table_refs(page: str) -> list[str]:
    """References of the bookings in the list's table, in order."""
    table = page.split('<table class="booking-table">')[1] if '<table class="booking-table">' in page else ""
    return re.findall(r'href="/dashboard/bookings/(BK-[0-9A-Z]+)/"', table)


@pytest.fixture
def long_call(coach: Coach) -> Offering:
    return OfferingFactory(coach=coach, slug="deep-dive", title="Deep dive", duration_minutes=60)


def test_it_lists_upcoming_bookings_in_the_coachs_zone(coach_client: Client, book) -> None:
    later = book(SLOT + timedelta(days=1))
    first = book(SLOT, client_name="Grace Hopper")
    page = html(coach_client.get(LIST))
    assert table_refs(page) == [first.reference, later.reference]
    assert "Wednesday 2 December 2026, 10:00" in page
    assert "Times in America/New_York" in page


def test_it_filters_by_status_offering_and_time(coach_client: Client, book, long_call: Offering) -> None:
    confirmed = book(SLOT)
    deep = book(SLOT + timedelta(hours=2), on=long_call)
    cancelled = book(SLOT + timedelta(hours=4))
    cancelled.status = Booking.Status.CANCELLED
    cancelled.save()
    past = book(SLOT + timedelta(hours=5))
    Booking.objects.filter(pk=past.pk).update(
        start=NOW - timedelta(days=2),
        end=NOW - timedelta(days=2) + timedelta(minutes=30),
        blocked_start=NOW - timedelta(days=2),
        blocked_end=NOW - timedelta(days=2) + timedelta(minutes=30),
    )
    assert table_refs(html(coach_client.get(LIST, {"status": "cancelled"}))) == [cancelled.reference]
    assert table_refs(html(coach_client.get(LIST, {"offering": long_call.pk}))) == [deep.reference]
    assert table_refs(html(coach_client.get(LIST, {"when": "past"}))) == [past.reference]
    assert set(table_refs(html(coach_client.get(LIST, {"when": "all"})))) == {
        confirmed.reference,
        deep.reference,
        cancelled.reference,
        past.reference,
    }


def test_it_paginates_and_keeps_the_filters(coach_client: Client, book) -> None:
    for n in range(22):
        book(SLOT + timedelta(days=n // 11, minutes=30 * (n % 11)))
    page = html(coach_client.get(LIST, {"status": "confirmed"}))
    assert "Page 1 of 2" in page
    assert 'href="?page=2&amp;status=confirmed"' in page
    second = html(coach_client.get(LIST, {"status": "confirmed", "page": "2"}))
    assert len(table_refs(second)) == 2


def test_it_ignores_filters_it_does_not_understand(coach_client: Client, book) -> None:
    booking = book()
    for params in (
        {"status": "bogus"},
        {"offering": "abc"},
        {"offering": "999999"},
        {"when": "?"},
        {"page": "-3"},
    ):
        response = coach_client.get(LIST, params)
        assert response.status_code == HTTPStatus.OK, params
        assert table_refs(html(response)) == [booking.reference], params


def test_it_lists_pending_bookings_to_approve_or_decline(
    coach_client: Client, offering: Offering, book
) -> None:
    offering.requires_approval = True
    offering.save()
    pending = book()
    page = html(coach_client.get(LIST))
    pending_panel = page.split('id="pending-title"')[1].split("</section>")[0]
    assert pending.reference in pending_panel
    assert f'action="{detail_url(pending, "approve")}"' in pending_panel

    response = coach_client.post(detail_url(pending, "approve"))
    assert response["Location"] == detail_url(pending)
    pending.refresh_from_db()
    assert pending.status == Booking.Status.CONFIRMED
    assert "Booking approved" in html(coach_client.get(detail_url(pending)))
    assert "Nothing waiting for you." in html(coach_client.get(LIST))


def test_it_declines_with_a_reason_after_a_confirmation_step(
    coach_client: Client, offering: Offering, book
) -> None:
    offering.requires_approval = True
    offering.save()
    pending = book()
    confirm = html(coach_client.get(detail_url(pending, "decline")))
    assert "Decline this booking?" in confirm
    assert 'name="reason"' in confirm
    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING
    coach_client.post(detail_url(pending, "decline"), {"reason": "Fully booked that week"})
    pending.refresh_from_db()
    assert (pending.status, pending.cancel_reason) == (Booking.Status.DECLINED, "Fully booked that week")


def test_it_shows_a_bookings_answers_note_and_history(coach_client: Client, offering: Offering, book) -> None:
    booking = book(
        answers={"What do you want to talk about?": "Switching careers"},
        note="I'll call from my car.",
        client_time_zone="Asia/Kolkata",
    )
    booking_reschedule(
        booking=booking, new_start=SLOT + timedelta(hours=1), by=BookingEvent.Actor.CLIENT, now=NOW
    )
    page = html(coach_client.get(detail_url(booking)))
    assert "What do you want to talk about?" in page
    assert "Switching careers" in page
    assert "I&#x27;ll call from my car." in page
    assert "Wednesday 2 December 2026, 11:00–11:30" in page
    assert "21:30–22:00" in page and "Asia/Kolkata" in page
    history = page.split('id="history-title"')[1]
    assert "<strong>Booked</strong> by client" in history
    assert "<strong>Rescheduled</strong> by client" in history
    assert "From Wednesday 2 December 2026, 10:00–10:30 (America/New_York) to" in history
    for action in ("reschedule", "cancel"):
        assert f'href="{detail_url(booking, action)}"' in page
    assert f'href="{detail_url(booking, "no-show")}"' not in page


def test_it_cancels_after_a_confirmation_step(coach_client: Client, book) -> None:
    booking = book()
    confirm = coach_client.get(detail_url(booking, "cancel"))
    assert "Cancel this booking?" in html(confirm)
    response = coach_client.post(detail_url(booking, "cancel"), {"reason": "I'm ill"}, follow=True)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, BookingEvent.Actor.COACH)
    page = html(response)
    assert "Booking cancelled" in page
    assert f'href="{detail_url(booking, "cancel")}"' not in page


def test_it_reschedules_to_a_free_slot_after_a_confirmation_step(coach_client: Client, book) -> None:
    """The coach picks in their own zone; their moves don't count against the client's allowance."""
    booking = book()
    picker = html(coach_client.get(detail_url(booking, "reschedule")))
    assert "Times in <strong data-zone-label>America/New_York</strong>" in picker
    new = "2026-12-03T19:00:00Z"
    assert (
        f'href="{detail_url(booking, "reschedule")}?start=2026-12-03T19%3A00%3A00Z&amp;tz=America%2FNew_York"'
        in picker
    )
    confirm = html(coach_client.get(detail_url(booking, "reschedule"), {"start": new}))
    assert "Move the call to this time?" in confirm
    assert "Thursday 3 December 2026, 14:00–14:30" in confirm
    response = coach_client.post(detail_url(booking, "reschedule"), {"start": new})
    assert response["Location"] == detail_url(booking)
    booking.refresh_from_db()
    assert booking.start == datetime(2026, 12, 3, 19, tzinfo=UTC)
    assert booking.reschedule_count == 0


def test_it_shows_the_reason_when_the_new_time_is_taken(coach_client: Client, book) -> None:
    booking = book()
    book(SLOT + timedelta(hours=1), client_email="other@example.com")
    response = coach_client.post(detail_url(booking, "reschedule"), {"start": "2026-12-02T16:00:00Z"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert "This time was just taken" in html(response)
    page = html(coach_client.get(detail_url(booking, "reschedule"), {"start": "2026-12-02T16:00:00Z"}))
    assert "This time isn&#x27;t free any more" in page


def test_it_marks_completed_and_no_show_once_the_call_has_started(coach_client: Client, book) -> None:
    booking = book()
    early = coach_client.post(detail_url(booking, "no-show"))
    assert early.status_code == HTTPStatus.CONFLICT
    assert "A call can only be marked once it has started." in html(early)
    with time_machine.travel(SLOT + timedelta(minutes=45), tick=False):
        page = html(coach_client.get(detail_url(booking)))
        assert f'href="{detail_url(booking, "no-show")}"' in page
        assert "Mark this call a no-show?" in html(coach_client.get(detail_url(booking, "no-show")))
        coach_client.post(detail_url(booking, "no-show"))
        booking.refresh_from_db()
        assert booking.status == Booking.Status.NO_SHOW
        coach_client.post(detail_url(booking, "complete"))
        booking.refresh_from_db()
        assert booking.status == Booking.Status.COMPLETED


def test_it_shows_the_services_message_for_a_refused_action(coach_client: Client, book) -> None:
    booking = book()
    response = coach_client.post(detail_url(booking, "approve"))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "Only a booking waiting for approval can be approved." in html(response)


def test_it_answers_404_for_an_unknown_action_or_booking(coach_client: Client, book) -> None:
    booking = book()
    assert coach_client.get(detail_url(booking, "explode")).status_code == HTTPStatus.NOT_FOUND
    assert coach_client.get("/dashboard/bookings/BK-NOPE0000/").status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post("/dashboard/bookings/BK-NOPE0000/cancel/").status_code == HTTPStatus.NOT_FOUND


def test_it_reads_the_list_in_a_fixed_number_of_queries(
    coach_client: Client, book, long_call: Offering, django_assert_max_num_queries
) -> None:
    for n in range(15):
        book(SLOT + timedelta(days=n // 6, hours=n % 6), on=long_call if n % 2 else None)
    with django_assert_max_num_queries(9):
        assert coach_client.get(LIST).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_it_lets_the_coach_replace_a_clients_manage_link(
    coach_client, book, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """The old link 404s at once; the client is emailed the new one; nobody else is."""
    from booking.tokens import manage_token

    booking = book()
    old = manage_token(booking)
    path = f"/dashboard/bookings/{booking.reference}/new-link/"
    assert "Replace the client" in coach_client.get(path).content.decode()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(path)
    assert response.status_code == 302
    booking.refresh_from_db()
    new = manage_token(booking)
    assert new != old
    assert coach_client.get(f"/b/{old}/").status_code == 404
    assert [m.to for m in mailoutbox] == [[booking.client_email]]
    assert new in mailoutbox[0].body and old not in mailoutbox[0].body
