"""The zone picker applies the chosen zone at once and keeps it across weeks; times read
12-hour for an American browser, on the page the server renders and the one the script
renders alike; the coach page's "next free" time moves to the browser's zone (issue 13).

The browser runs in Europe/Berlin with the en-US locale (so Accept-Language en-US).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

# Friday 27 November 2026, 17:00 in New York: the demo coach's next free time is Monday
# 30 November 09:00 New York = 15:00 Berlin = 19:30 Kolkata.
FRIDAY_5PM_NEW_YORK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
SLOTS_API = re.compile(r"/api/v1/coaches/demo/offerings/intro-call/slots\?.*tz=Asia%2FKolkata")


def assert_accessible(page: Page) -> None:
    """No axe-core violations, wide and at 320 px."""
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        results = Axe().run(page)
        assert results.violations_count == 0, f"at {width}px: {results.generate_report()}"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def american(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_picked_zone_applies_at_once_and_stays_across_weeks(
    american: Page, live_server, demo: None
) -> None:
    page = american
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        page.goto(f"{live_server.url}/demo/intro-call/")
        # The script put the times in the browser's zone, in the browser's 12-hour clock.
        expect(page.locator("[data-zone-label]")).to_have_text("Europe/Berlin")
        expect(page.locator(".slot-link").first).to_have_accessible_name("Monday 30 November, 3:00 PM")

        # Pick a zone: the times change with no button pressed.
        with page.expect_response(SLOTS_API) as api:
            page.get_by_label("Your time zone").select_option("Asia/Kolkata")
        assert api.value.status == 200
        expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")
        expect(page.locator(".slot-link").first).to_have_accessible_name("Monday 30 November, 7:30 PM")
        expect(page.locator("[data-week-link=next]")).to_have_attribute(
            "href", re.compile(r"tz=Asia%2FKolkata")
        )
        assert_accessible(page)

        # Next week keeps the chosen zone.
        page.get_by_role("link", name="Next week").click()
        expect(page.locator("[data-week-title]")).to_have_text("5–11 December 2026")
        assert "tz=Asia%2FKolkata" in page.url
        expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")
        expect(page.get_by_label("Your time zone")).to_have_value("Asia/Kolkata")
        expect(page.get_by_role("link", name="Monday 7 December, 7:30 PM")).to_be_visible()

        # The page the server renders for that address reads the same.
        page.reload()
        expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")
        expect(page.get_by_role("link", name="Monday 7 December, 7:30 PM")).to_be_visible()
        page.get_by_role("link", name="Previous week").click()
        expect(page.locator(".slot-link").first).to_have_accessible_name("Monday 30 November, 7:30 PM")
        assert "tz=Asia%2FKolkata" in page.url
        assert_accessible(page)


def test_without_javascript_the_show_times_button_applies_the_zone(
    browser: Browser, live_server, demo: None
) -> None:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
            page.goto(f"{live_server.url}/demo/intro-call/")
            expect(page.locator("[data-zone-label]")).to_have_text("America/New_York")
            page.get_by_label("Your time zone").select_option("Asia/Kolkata")
            page.get_by_role("button", name="Show times").click()
            expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")
            expect(page.get_by_role("link", name="Monday 30 November, 19:30")).to_be_visible()
            page.get_by_role("link", name="Next week").click()
            assert "tz=Asia%2FKolkata" in page.url
            expect(page.get_by_role("link", name="Monday 7 December, 19:30")).to_be_visible()
    finally:
        context.close()


def test_the_coach_page_shows_the_next_free_time_in_the_browsers_zone(
    american: Page, live_server, demo: None
) -> None:
    page = american
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        page.goto(f"{live_server.url}/demo/")
        expect(page.locator("[data-next-free]")).to_contain_text(
            "Next free: Mon 3:00 PM your time (Europe/Berlin)"
        )
        expect(page.locator(".card").first).to_contain_text("Next free: Mon 3:00 PM your time (Berlin)")
        expect(page.get_by_role("link", name="Book a call", exact=True)).to_have_attribute(
            "href", "/demo/intro-call/?tz=Europe%2FBerlin"
        )
        assert_accessible(page)
