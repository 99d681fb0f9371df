"""A client books weekly calls with the demo coach in a browser, reviews the dates, lands on
the series' page, and cancels one call from its own manage link (issue 16).

The browser runs in Europe/Berlin (tests/e2e/conftest.py); the coach works in New York.
time-machine's travel pins the live server's clock too; tick=True keeps time moving.
"""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from icalendar import Calendar
from playwright.sync_api import Page, expect

from booking.invites import invite_bytes
from booking.models import Booking, BookingSeries
from tests.e2e.support import assert_accessible

# Friday 27 November 2026, 17:00 in New York: the first free time is Monday 30 November
# 09:00 there (15:00 in Berlin).
FRIDAY_5PM_NEW_YORK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
FIRST_MONDAY = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_it_books_a_weekly_series_and_cancels_one_call_from_its_link(
    page: Page, live_server, demo: None
) -> None:
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        page.goto(f"{live_server.url}/demo/intro-call/book/?start=2026-11-30T14:00:00Z&tz=Europe/Berlin")
        expect(page.get_by_role("heading", level=1)).to_have_text("Book Intro call")
        page.get_by_label("Your name").fill("Nora Newcomer")
        page.get_by_label("Email").fill("nora@example.com")
        page.get_by_label("Every week").check()
        page.get_by_label("How many calls in all").fill("4")
        page.get_by_role("button", name="Book this time").click()

        # The review: four Mondays at 15:00 in Berlin, nothing booked yet.
        expect(page.get_by_role("heading", name="Your 4 calls (Europe/Berlin)")).to_be_visible()
        expect(page.locator(".series-review li")).to_have_count(4)
        expect(page.get_by_text("Monday 21 December, 15:00")).to_be_visible()
        assert not Booking.objects.exists()
        assert_accessible(page, "the series review")
        page.get_by_role("button", name="Book these calls").click()

        # The series' page: every call with its own link.
        expect(page.get_by_role("heading", level=1)).to_have_text("Your weekly calls")
        expect(page.get_by_role("status")).to_contain_text("Booked: 4 calls")
        expect(page.get_by_role("link", name="Move or cancel this call")).to_have_count(4)
        assert_accessible(page, "the series page")
        series = BookingSeries.objects.get()
        assert sorted(Booking.objects.values_list("start", flat=True))[0] == FIRST_MONDAY

        # Cancel the second call from its own manage link.
        page.get_by_role("link", name="Move or cancel this call").nth(1).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your booking")
        expect(page.get_by_role("link", name="see them all")).to_be_visible()
        page.get_by_role("link", name="Cancel booking").click()
        page.get_by_role("button", name="Yes, cancel the booking").click()
        expect(page.get_by_role("status")).to_contain_text("Your booking is cancelled")
        page.get_by_role("link", name="see them all").click()
        expect(page.locator("tbody tr").nth(1)).to_contain_text("Cancelled")
        expect(page.get_by_role("link", name="Move or cancel this call")).to_have_count(3)

    statuses = list(series.occurrences.order_by("series_index").values_list("status", flat=True))
    assert statuses == ["confirmed", "cancelled", "confirmed", "confirmed"]
    # Its invite cancels that date of the series, not a booking of its own.
    cancelled = Booking.objects.select_related("coach__user", "offering", "series").get(status="cancelled")
    [event] = Calendar.from_ical(invite_bytes(cancelled, method="CANCEL", now=FRIDAY_5PM_NEW_YORK)).walk(
        "VEVENT"
    )
    assert "RECURRENCE-ID" in event and str(event["UID"]).startswith(series.reference.lower())
