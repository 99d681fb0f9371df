"""The waitlist's pages: the offering page's call to action, the join form (validation, "check
your inbox"), the entry's link (confirm, book the held time in one click, let it go, leave),
and links that were altered (404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from booking.models import Booking, WaitlistEntry, WaitlistHold
from booking.services import booking_cancel
from booking.tokens import waitlist_token
from coaching.models import Offering
from tests.support import NOW
from tests.waitlist.conftest import DAY, FIRST

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

JOIN = "/ada/intro-call/waitlist/"


def join_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "time_zone": "Europe/Berlin",
        "date_from": DAY.isoformat(),
        "date_to": DAY.isoformat(),
        **overrides,
    }


def test_the_offering_page_offers_the_waitlist_when_the_week_has_full_days(
    client, offering: Offering, full_day
) -> None:
    page = client.get("/ada/intro-call/?tz=America/New_York&week=2026-12-01").content.decode()
    assert "Fully booked on the days you want?" in page
    assert "/ada/intro-call/waitlist/?tz=America%2FNew_York&amp;from=2026-12-01&amp;to=2026-12-07" in page


def test_the_join_form_prefills_the_week_and_the_zone(client, offering: Offering) -> None:
    page = client.get(JOIN + "?tz=Europe/Berlin&from=2026-12-02&to=2026-12-08").content.decode()
    assert 'value="2026-12-02"' in page and 'value="2026-12-08"' in page
    assert '<option value="Europe/Berlin" selected>' in page


def test_joining_answers_check_your_inbox_and_sends_one_confirmation(
    client, offering: Offering, full_day, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(JOIN, join_data())
    assert response.status_code == 302 and response["Location"] == JOIN + "sent/"
    assert "check your inbox" in client.get(response["Location"]).content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["grace@example.com"]
    assert "Wednesday 2 December 2026" in mailoutbox[0].body
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.UNCONFIRMED


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date_to": "2026-11-30", "date_from": "2026-11-29"}, "These dates have passed"),
        ({"date_to": "2026-12-01", "date_from": "2026-12-05"}, "on or after the first day"),
        ({"date_from": "yesterday"}, "Give a date like"),
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"time_zone": "Mars/Olympus"}, "is not a known time zone"),
        ({"date_from": "2026-12-02", "date_to": "2027-06-01"}, "at most 92 days"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_input_re_renders_the_form_with_the_problem(
    client, offering: Offering, overrides, message
) -> None:
    response = client.post(JOIN, join_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    "query", ["?from=9999-12-31", "?from=2026-13-01&to=x", "?to=1999-01-01", "?tz=Nowhere/Land"]
)
def test_hand_made_dates_in_the_address_give_a_form(client, offering: Offering, query: str) -> None:
    assert client.get(JOIN + query).status_code == 200


def test_the_whole_path_confirm_get_a_hold_and_book_it_in_one_click(
    client, offering: Offering, full_day, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(JOIN, join_data())
    entry = WaitlistEntry.objects.get()
    link = reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)})
    assert link in mailoutbox[0].body
    # Following the link confirms nothing (mail scanners follow links): a button does.
    page = client.get(link).content.decode()
    assert "Yes, put me on the list" in page
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.UNCONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link + "confirm/")
    assert "You're on the waitlist" in client.get(link).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    offer = [m for m in mailoutbox if "held for you" in m.subject]
    assert len(offer) == 1 and link in offer[0].body
    assert "16:00" in offer[0].body  # 10:00 in New York, in Grace's Berlin
    page = client.get(link).content.decode()
    assert "A time is held for you" in page and "Book this time" in page
    hold = WaitlistHold.objects.get()
    response = client.post(link + "take/", {"hold": str(hold.pk)})
    assert response.status_code == 302 and "/b/" in response["Location"]
    booking = Booking.objects.get(client_email="grace@example.com")
    assert booking.start == FIRST and booking.client_time_zone == "Europe/Berlin"
    assert "You've booked" in client.get(link).content.decode()


def test_a_required_intake_question_is_asked_before_taking(
    client, offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    offering.intake_questions = [{"label": "Your goal", "type": "text", "required": True}]
    offering.save(update_fields=["intake_questions"])
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    link = reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)})
    hold = entry.holds.get()
    response = client.post(link + "take/", {"hold": str(hold.pk), "q1": ""})
    assert response.status_code == 400 and "This question needs an answer." in response.content.decode()
    response = client.post(link + "take/", {"hold": str(hold.pk), "q1": "Focus"})
    assert response.status_code == 302
    assert Booking.objects.get(client_email="waiting1@example.com").answers == {"Your goal": "Focus"}


def test_letting_the_time_go_and_leaving_from_the_link(
    client, offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    link = reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)})
    hold = entry.holds.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link + "release/", {"hold": str(hold.pk)})
    hold.refresh_from_db()
    assert hold.status == WaitlistHold.Status.RELEASED
    assert "Leave the waitlist?" in client.get(link + "leave/").content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING  # the question changed nothing
    client.post(link + "leave/")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT


def test_a_call_that_became_package_only_says_so(
    client, offering: Offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    offering.package_only = True
    offering.save(update_fields=["package_only"])
    link = reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)})
    response = client.post(link + "take/", {"hold": str(entry.holds.get().pk)}, follow=True)
    assert response.status_code == 200 and "package" in response.content.decode()
    assert not Booking.objects.filter(client_email="waiting1@example.com").exists()


def test_a_hold_that_went_to_someone_else_says_so(
    client, offering: Offering, full_day, in_line, django_capture_on_commit_callbacks, time_machine
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    hold = entry.holds.get()
    time_machine.move_to(NOW + timedelta(minutes=31), tick=False)
    from booking.services import booking_create

    booking_create(
        offering=offering,
        start=FIRST,
        client_name="Quick",
        client_email="q@example.com",
        client_time_zone="UTC",
    )
    link = reverse("waitlist_entry", kwargs={"token": waitlist_token(entry)})
    response = client.post(link + "take/", {"hold": str(hold.pk)}, follow=True)
    assert "this time went to someone else" in response.content.decode()


@pytest.mark.parametrize("suffix", ["", "leave/"])
def test_an_altered_link_is_not_found(client, offering: Offering, in_line, suffix: str) -> None:
    token = waitlist_token(in_line(1))
    assert client.get(f"/w/{token[:-2]}xx/{suffix}").status_code == 404
    assert client.get(f"/w/nothing/{suffix}").status_code == 404
    assert client.post(f"/w/{token[:-2]}xx/confirm/").status_code == 404


def test_a_bad_hold_id_changes_nothing(client, offering: Offering, in_line) -> None:
    token = waitlist_token(in_line(1))
    for value in ("", "abc", "99999999999999999999999", "-1", "²", "١"):
        response = client.post(f"/w/{token}/take/", {"hold": value}, follow=True)
        assert response.status_code == 200
        assert "not held for you" in response.content.decode()
