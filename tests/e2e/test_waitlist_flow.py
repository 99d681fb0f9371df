"""A client finds the demo coach's Monday full, joins the waitlist from the offering page,
confirms from the email's link, and when a call is cancelled books the held time in one click
(issue 16). The browser runs in Europe/Berlin; the coach works in New York. The links are read
from the locmem outbox, which the live server shares; tasks run eagerly in its thread."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import time_machine
from playwright.sync_api import Page, expect

from booking.models import Booking, WaitlistHold
from booking.services import booking_cancel, booking_create
from coaching.models import Coach, DateOverride
from tests.e2e.support import assert_accessible, sign_in

# Friday 27 November 2026, 17:00 in New York.
FRIDAY_5PM_NEW_YORK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)
MONDAY_9AM = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 15:00 in Berlin


def link_in(body: str) -> str:
    found = re.search(r"https?://\S+?(/w/[^/\s]+/)", body)
    assert found, body
    return found.group(1)


def test_it_joins_the_waitlist_confirms_and_books_the_held_time(
    page: Page, live_server, demo: None, mailoutbox
) -> None:
    coach = Coach.objects.get(slug="demo")
    offering = coach.offerings.get(slug="intro-call")
    # Monday has one half hour, and it is booked.
    DateOverride.objects.create(coach=coach, date=MONDAY, start=time(9), end=time(9, 30))
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        booked = booking_create(
            offering=offering,
            start=MONDAY_9AM,
            client_name="Early Bird",
            client_email="early@example.com",
            client_time_zone="America/New_York",
        ).booking
        page.goto(f"{live_server.url}/demo/intro-call/?tz=Europe/Berlin&week=2026-11-30")
        expect(page.get_by_role("heading", name="Fully booked on the days you want?")).to_be_visible()
        page.get_by_role("link", name="Tell me when a time opens").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Tell me when a time opens")
        expect(page.get_by_label("From")).to_have_value("2026-11-30")
        expect(page.get_by_label("Your time zone")).to_have_value("Europe/Berlin")
        assert_accessible(page, "the waitlist form")
        page.get_by_label("Your name").fill("Nora Newcomer")
        page.get_by_label("Email").fill("nora@example.com")
        page.get_by_label("To (included)").fill("2026-11-30")
        page.get_by_role("button", name="Join the waitlist").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Almost there: check your inbox")

        [confirm] = [m for m in mailoutbox if m.to == ["nora@example.com"]]
        page.goto(live_server.url + link_in(confirm.body))
        assert_accessible(page, "the waitlist confirmation")
        page.get_by_role("button", name="Yes, put me on the list").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You're on the waitlist")

        # The early bird cancels: the time is held for Nora, and one email tells her.
        booking_cancel(booking=booked, by="client")
        [offer] = [m for m in mailoutbox if m.to == ["nora@example.com"] and "held for you" in m.subject]
        assert "Monday 30 November 2026, 15:00–15:30 (Europe/Berlin)" in offer.body
        page.goto(live_server.url + link_in(offer.body))
        expect(page.get_by_role("heading", level=1)).to_have_text("A time is held for you")
        assert_accessible(page, "the held time")
        page.get_by_role("button", name="Book this time").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("booked")

    booking = Booking.objects.get(client_email="nora@example.com")
    assert (booking.start, booking.status, booking.client_time_zone) == (
        MONDAY_9AM,
        "confirmed",
        "Europe/Berlin",
    )
    assert WaitlistHold.objects.get().status == WaitlistHold.Status.TAKEN


def test_the_coach_books_weekly_calls_for_a_client_and_sees_the_waitlist(
    page: Page, context, live_server, demo: None
) -> None:
    coach = Coach.objects.get(slug="demo")
    sign_in(context, live_server.url, coach.user)
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        page.goto(f"{live_server.url}/dashboard/bookings/")
        page.get_by_role("link", name="Book for a client").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Book for a client")
        assert_accessible(page, "the coach's booking form")
        page.get_by_label("Call", exact=True).select_option(label="Intro call (30 min)")
        page.get_by_label("Day").fill("2026-11-30")
        page.get_by_label("Time (your zone)").fill("10:00")
        page.get_by_label("Client's name").fill("Grace Hopper")
        page.get_by_label("Client's email").fill("grace@example.com")
        page.get_by_label("Client's time zone").select_option("Europe/Berlin")
        page.get_by_label("Every week").check()
        page.get_by_label("How many calls in all").fill("3")
        page.get_by_role("button", name="Book", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Booked 3 calls for Grace Hopper")
        page.goto(f"{live_server.url}/dashboard/waitlist/")
        expect(page.get_by_text("Nobody is waiting")).to_be_visible()
        assert_accessible(page, "the coach's waitlist")
    starts = sorted(Booking.objects.filter(client_email="grace@example.com").values_list("start", flat=True))
    assert [s.isoformat() for s in starts] == [
        "2026-11-30T15:00:00+00:00",
        "2026-12-07T15:00:00+00:00",
        "2026-12-14T15:00:00+00:00",
    ]
