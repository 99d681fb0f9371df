"""The policy a client reads never offers a deadline that has already passed: the booking form,
the confirmation and the client's emails say what still holds at that moment, in the client's
zone and clock, and whom to contact once nothing can be done online."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client

from booking.display import policy_lines
from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Coach, Offering
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

# NOW is Tuesday 1 December 2026, 12:00 UTC (13:00 in Berlin, 07:00 in New York).
# Today at 11:00 in New York: inside every 24-hour deadline, still bookable.
SOON = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
SOON_FORM = "/ada/intro-call/book/?start=2026-12-01T16:00:00Z&tz=Europe/Berlin"


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def policy_items(page: str) -> list[str]:
    match = re.search(r'<h2 id="policy-title">Cancelling and moving</h2> <ul>(.*?)</ul>', page)
    assert match, "no policy on the page"
    return re.findall(r"<li>(.*?)</li>", match.group(1))


# --- The pure lines ----------------------------------------------------------------------


def unsaved(**fields: object) -> Offering:
    coach = Coach(slug="ada", display_name="Ada Lovelace", time_zone="America/New_York")
    return Offering(coach=coach, slug="intro-call", title="Intro call", **fields)


def made(offering: Offering, *, start: datetime, booked_at: datetime, **fields: object) -> Booking:
    booking = Booking(
        coach=offering.coach, offering=offering, start=start, client_time_zone="Europe/Berlin", **fields
    )
    booking.created_at = booked_at
    return booking


def test_it_gives_the_deadlines_while_they_are_ahead() -> None:
    lines = policy_lines(unsaved(), start=SLOT, zone_name="Europe/Berlin", now=NOW)
    assert lines == [
        "Cancel online until Tuesday 1 December 2026, 16:00.",
        "Move it online until Tuesday 1 December 2026, 16:00, up to 2 times.",
    ]


def test_it_says_whom_to_contact_once_both_deadlines_have_passed() -> None:
    lines = policy_lines(unsaved(), start=SOON, zone_name="Europe/Berlin", now=NOW)
    assert lines == ["This call can no longer be cancelled or moved online; contact Ada Lovelace."]


def test_a_later_reschedule_deadline_is_still_offered_when_cancelling_is_over() -> None:
    offering = unsaved(cancel_notice_minutes=48 * 60, reschedule_notice_minutes=60)
    lines = policy_lines(offering, start=SLOT, zone_name="Europe/Berlin", now=NOW)
    assert lines == [
        "This call can no longer be cancelled online; contact Ada Lovelace.",
        "Move it online until Wednesday 2 December 2026, 15:00, up to 2 times.",
    ]


def test_a_passed_reschedule_deadline_says_so_while_cancelling_is_open() -> None:
    offering = unsaved(reschedule_notice_minutes=48 * 60)
    lines = policy_lines(offering, start=SLOT, zone_name="Europe/Berlin", now=NOW)
    assert lines == [
        "Cancel online until Tuesday 1 December 2026, 16:00.",
        "This call can no longer be moved online; contact Ada Lovelace.",
    ]


def test_before_booking_a_late_time_keeps_the_grace_period() -> None:
    offering = unsaved(cancel_grace_minutes=30)
    lines = policy_lines(offering, start=SOON, zone_name="Europe/Berlin", now=NOW)
    assert lines[0] == (
        "The cancellation deadline (Monday 30 November 2026, 17:00) has passed, but you can cancel "
        "online within 30 minutes of booking, however close the call is. After that, contact Ada Lovelace."
    )
    assert lines[1] == "This call can no longer be moved online; contact Ada Lovelace."


def test_a_booking_names_the_end_of_its_grace_period_and_drops_it_once_over() -> None:
    offering = unsaved(cancel_grace_minutes=30)
    booking = made(offering, start=SOON, booked_at=NOW - timedelta(minutes=10))
    [first, _] = policy_lines(offering, booking=booking, now=NOW)
    assert first == (
        "The cancellation deadline (Monday 30 November 2026, 17:00) has passed, but you can still "
        "cancel online until Tuesday 1 December 2026, 13:20, 30 minutes after booking. "
        "After that, contact Ada Lovelace."
    )
    later = NOW + timedelta(minutes=25)
    assert policy_lines(offering, booking=booking, now=later) == [
        "This call can no longer be cancelled or moved online; contact Ada Lovelace."
    ]


def test_a_booking_keeps_the_policy_it_was_made_under_and_counts_its_moves() -> None:
    # The offering's notice is 1 hour today; the booking was made under 2 days.
    offering = unsaved(cancel_notice_minutes=60, max_reschedules=2)
    booking = made(
        offering, start=SLOT, booked_at=NOW, policy_cancel_notice_minutes=48 * 60, reschedule_count=1
    )
    assert policy_lines(offering, booking=booking, now=NOW) == [
        "This call can no longer be cancelled online; contact Ada Lovelace.",
        "Move it online until Tuesday 1 December 2026, 16:00, once.",
    ]


@pytest.mark.parametrize(
    ("late_credit", "fate"),
    [
        (Offering.LateCancelCredit.FORFEIT, "uses up the session"),
        (Offering.LateCancelCredit.RETURN_LATE, "puts the session back on your package, marked late"),
    ],
)
def test_a_package_session_may_still_be_called_off_and_says_what_it_costs(
    late_credit: str, fate: str
) -> None:
    offering = unsaved(late_cancel_credit=late_credit)
    booking = made(offering, start=SOON, booked_at=NOW - timedelta(days=3), client_pass_id=1)
    lines = policy_lines(offering, booking=booking, now=NOW)
    assert (
        lines[0]
        == f"The cancellation deadline (Monday 30 November 2026, 17:00) has passed: cancelling online now {fate}."
    )
    early = made(offering, start=SLOT, booked_at=NOW, client_pass_id=1)
    assert policy_lines(offering, booking=early, now=NOW)[1] == f"After that, cancelling online {fate}."


def test_the_deadlines_follow_the_clients_clock() -> None:
    from common.hour_cycle import hour_cycle_for

    with hour_cycle_for("en-US"):
        [cancel, _] = policy_lines(unsaved(), start=SLOT, zone_name="Europe/Berlin", now=NOW)
    assert cancel == "Cancel online until Tuesday 1 December 2026, 4:00 PM."


def test_without_a_time_it_states_the_rules() -> None:
    assert policy_lines(unsaved(), now=NOW) == [
        "Cancel online until 1 day before the call starts.",
        "Move it online until 1 day before the call starts, up to 2 times.",
    ]


# --- The pages ---------------------------------------------------------------------------


def test_the_booking_form_of_a_time_inside_the_deadlines_says_they_have_passed(
    client: Client, offering: Offering
) -> None:
    page = text(client.get(SOON_FORM))
    assert policy_items(page) == [
        "This call can no longer be cancelled or moved online; contact Ada Lovelace."
    ]
    assert "Cancel online until" not in page


def test_the_booking_form_mentions_the_grace_period_that_will_apply(
    client: Client, offering: Offering
) -> None:
    offering.cancel_grace_minutes = 60
    offering.save()
    [cancel, move] = policy_items(text(client.get(SOON_FORM)))
    assert cancel.startswith("The cancellation deadline (Monday 30 November 2026, 17:00) has passed")
    assert "within 1 hour of booking" in cancel
    assert move == "This call can no longer be moved online; contact Ada Lovelace."


def test_the_booking_form_keeps_deadlines_that_are_ahead(client: Client, offering: Offering) -> None:
    page = text(client.get("/ada/intro-call/book/?start=2026-12-02T15:00:00Z&tz=Europe/Berlin"))
    assert policy_items(page) == [
        "Cancel online until Tuesday 1 December 2026, 16:00.",
        "Move it online until Tuesday 1 December 2026, 16:00, up to 2 times.",
    ]


def test_the_confirmation_of_a_late_booking_says_whom_to_contact(
    client: Client, offering: Offering, book
) -> None:
    booking = book(SOON)
    page = text(client.get(f"/b/{manage_token(booking)}/confirmed/"))
    assert policy_items(page) == [
        "This call can no longer be cancelled or moved online; contact Ada Lovelace."
    ]


def test_the_confirmation_of_a_late_booking_offers_the_grace_period(
    client: Client, offering: Offering, book
) -> None:
    offering.cancel_grace_minutes = 30
    offering.save()
    booking = book(SOON)
    [cancel, _] = policy_items(text(client.get(f"/b/{manage_token(booking)}/confirmed/")))
    # With the booking made, the grace period's end is a time: 30 minutes after booking.
    assert "you can still cancel online until" in cancel
    assert "30 minutes after booking" in cancel
    assert cancel.endswith("After that, contact Ada Lovelace.")


# --- The client's emails -----------------------------------------------------------------


def _client_email():  # type: ignore[no-untyped-def]
    [message] = [m for m in mail.outbox if m.to == ["grace@example.com"]]
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message.body, html


def test_the_confirmation_email_lists_the_deadlines_in_the_clients_zone_and_clock(
    book, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        book(client_locale="en-US")
    body, html = _client_email()
    assert "Cancelling and moving (Europe/Berlin time):" in body
    assert "- Cancel online until Tuesday 1 December 2026, 4:00 PM." in body
    assert "- Move it online until Tuesday 1 December 2026, 4:00 PM, up to 2 times." in body
    assert "Cancelling and moving</p>" in html
    assert "Cancel online until Tuesday 1 December 2026, 4:00 PM.</li>" in html
    [coach_message] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert "Cancelling and moving" not in coach_message.body  # the coach's email has no client policy


def test_the_confirmation_email_of_a_late_booking_says_whom_to_contact(
    book, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        book(SOON)
    body, html = _client_email()
    assert "- This call can no longer be cancelled or moved online; contact Ada Lovelace." in body
    assert "Cancel online until" not in body and "Cancel online until" not in html


def test_the_request_received_email_carries_the_policy_too(
    book, offering: Offering, django_capture_on_commit_callbacks
) -> None:
    offering.requires_approval = True
    offering.cancel_grace_minutes = 15
    offering.save()
    with django_capture_on_commit_callbacks(execute=True):
        book()
    body, html = _client_email()
    assert "has received your request" in body
    assert "- Cancel online until Tuesday 1 December 2026, 16:00." in body
    assert "You can cancel within 15 minutes of booking, however close the call is." in html
