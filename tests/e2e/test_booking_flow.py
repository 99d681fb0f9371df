"""A newcomer books the demo coach as a guest, then reschedules and cancels from the manage link.

time-machine's travel is process-wide, so it pins the clock of the live server's
thread too; tick=True keeps time moving so the browser's waits still progress. The
browser runs in Europe/Berlin (tests/e2e/conftest.py), so the page script switches
the slot picker from the coach's New York time to Berlin time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from booking.models import Booking, BookingEvent

# Friday 27 November 2026, 17:00 in New York (23:00 in Berlin): the demo coach's week is
# over, so the first free time is Monday 30 November 09:00 New York (15:00 Berlin), far
# enough ahead for the demo offering's 24-hour notice to reschedule and cancel online.
FRIDAY_5PM_NEW_YORK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def assert_accessible(page: Page) -> None:
    """axe-core finds no violations on the page as it is now."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_it_books_reschedules_and_cancels_the_demo_coach_as_a_guest(
    page: Page, live_server, demo: None
) -> None:
    base_url = live_server.url
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        # Home page -> the demo coach -> the intro call.
        page.goto(f"{base_url}/")
        page.get_by_role("link", name="Dana Demo").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dana Demo")
        page.get_by_role("link", name="Book Intro call").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Intro call")

        # The script notices the browser's zone and shows Berlin times.
        expect(page.locator("[data-zone-label]")).to_have_text("Europe/Berlin")
        expect(page.get_by_text("Dana Demo works in New York time (America/New_York)")).to_be_visible()
        first = page.get_by_role("link", name="Monday 30 November, 15:00")
        expect(first).to_be_visible()
        expect(page.locator(".slot-link").first).to_have_accessible_name("Monday 30 November, 15:00")
        assert_accessible(page)

        # Next week and back again, without losing the zone: the script asks the JSON API.
        with page.expect_response(re.compile(r"/api/v1/coaches/demo/offerings/intro-call/slots\?")) as api:
            page.get_by_role("link", name="Next week").click()
        assert api.value.status == 200
        expect(page.locator("[data-week-title]")).to_have_text("4–10 December 2026")
        expect(page.locator("[data-picker-status]")).to_contain_text(
            "Showing 4–10 December 2026 in Europe/Berlin"
        )
        assert "tz=Europe%2FBerlin&week=2026-12-04" in page.url
        expect(page.get_by_role("link", name="Monday 7 December, 15:00")).to_be_visible()
        page.get_by_role("link", name="Previous week").click()
        expect(page.locator("[data-week-title]")).to_have_text("27 November – 3 December 2026")

        # Book the first free time as a guest.
        page.locator(".slot-link").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Book Intro call")
        expect(page.get_by_text("Monday 30 November 2026, 15:00–15:30")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Your name").fill("Nora Newcomer")
        page.get_by_label("Email").fill("nora@example.com")
        page.get_by_role("button", name="Book this time").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
        expect(page.get_by_text("Monday 30 November 2026, 15:00–15:30")).to_be_visible()
        expect(page.get_by_text("09:00–09:30")).to_be_visible()
        expect(page.get_by_role("link", name="Add to calendar (.ics)")).to_have_attribute(
            "href", re.compile(r"^/b/BK-[^/]+/invite\.ics$")
        )
        assert_accessible(page)
        booking = Booking.objects.get()
        assert (booking.client_name, booking.client_time_zone) == ("Nora Newcomer", "Europe/Berlin")
        assert booking.start == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)

        # The manage link from the confirmation.
        page.locator(".manage-link a").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your booking")
        assert_accessible(page)

        # Reschedule to the next day's first time.
        page.get_by_role("link", name="Reschedule").click()
        expect(page.get_by_role("heading", level=2, name="Pick a new time")).to_be_visible()
        page.get_by_role("link", name="Tuesday 1 December, 15:00").click()
        expect(page.get_by_role("heading", name="Move your call to this time?")).to_be_visible()
        page.get_by_role("button", name="Yes, move my call").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Your call is moved to Tuesday 1 December 2026, 15:00–15:30"
        )
        booking.refresh_from_db()
        assert booking.start == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        assert booking.reschedule_count == 1

        # Then cancel it, with a reason.
        page.get_by_role("link", name="Cancel booking").click()
        page.get_by_label("Reason (optional)").fill("Found the answer already")
        page.get_by_role("button", name="Yes, cancel the booking").click()
        expect(page.get_by_role("status")).to_contain_text("Your booking is cancelled")
        expect(page.get_by_text("You cancelled this booking.")).to_be_visible()
        expect(page.get_by_role("link", name="Reschedule")).to_have_count(0)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert list(booking.events.values_list("kind", flat=True)) == [
        BookingEvent.Kind.CREATED,
        BookingEvent.Kind.RESCHEDULED,
        BookingEvent.Kind.CANCELLED,
    ]


def test_it_books_without_javascript(browser, live_server, demo: None) -> None:
    """With scripts off, the zone form, the week links and the slot links do everything."""
    context = browser.new_context(java_script_enabled=False, locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
            page.goto(f"{live_server.url}/demo/intro-call/")
            # Nothing told the server the zone: the coach's is shown until the visitor picks one.
            expect(page.locator("[data-zone-label]")).to_have_text("America/New_York")
            expect(page.locator("[data-zone-filter]")).to_be_hidden()
            page.get_by_label("Your time zone").select_option("Asia/Kolkata")
            page.get_by_role("button", name="Show times").click()
            expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")
            page.get_by_role("link", name="Next week").click()
            expect(page.locator("[data-week-title]")).to_have_text("5–11 December 2026")
            # Monday 7 December 09:00 in New York is 19:30 in Kolkata.
            page.get_by_role("link", name="Monday 7 December, 19:30").click()
            page.get_by_label("Your name").fill("Kiran Offline")
            page.get_by_label("Email").fill("kiran@example.com")
            page.get_by_role("button", name="Book this time").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
            expect(page.get_by_text("Monday 7 December 2026, 19:30–20:00")).to_be_visible()
        booking = Booking.objects.get()
        assert (booking.client_time_zone, booking.start) == (
            "Asia/Kolkata",
            datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
        )
    finally:
        context.close()
