"""A coach sets hours and a day off in the dashboard, and the preview shows exactly the slots they imply.

time-machine's travel is process-wide, so it pins the clock of the live server's
thread too; tick=True keeps time moving so the browser's waits still progress.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from coaching.models import Coach, DateOverride, Offering, WeeklyHours
from tests.e2e.support import sign_in_with_password

# Monday 30 November 2026, 08:00 in New York (the coach fixture's zone): the preview
# covers Mon 30 Nov - Sun 6 Dec.
MONDAY_8AM_NEW_YORK = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def _assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _preview(page: Page) -> dict[str, list[str]]:
    days: dict[str, list[str]] = {}
    for day in page.locator(".preview-day").all():
        times = day.locator("time").all_inner_texts()
        if times:
            days[day.locator("dt").inner_text()] = times
    return days


def test_it_previews_the_slots_of_the_hours_and_override_set_in_the_browser(
    page: Page, live_server, coach: Coach, offering: Offering
) -> None:
    """Tuesday 10-12 and Thursday 14-15 weekly, Thursday 3 Dec off: only Tuesday's four slots remain."""
    base_url = live_server.url
    with time_machine.travel(MONDAY_8AM_NEW_YORK, tick=True):
        sign_in_with_password(page, base_url, coach.user.email, "/dashboard/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")

        # Weekly hours: clear the fixture's Mon-Fri 09-17, keep Tuesday 10-12.
        page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Weekly hours").click()
        for weekday in range(5):
            page.locator(f"#id_day{weekday}-0-start").fill("")
            page.locator(f"#id_day{weekday}-0-end").fill("")
        page.locator("#id_day1-0-start").fill("10:00")
        page.locator("#id_day1-0-end").fill("12:00")
        # Thursday's window goes in a row the page script adds.
        thursday = page.get_by_role("group", name="Thursday")
        thursday.get_by_role("button", name="Add a window on Thursday").click()
        expect(thursday.locator("[data-window-row]")).to_have_count(4)
        page.locator("#id_day3-3-start").fill("14:00")
        page.locator("#id_day3-3-end").fill("15:00")
        _assert_accessible(page)
        page.get_by_role("button", name="Save weekly hours").click()
        expect(page.get_by_role("status")).to_contain_text("Weekly hours saved.")
        assert list(WeeklyHours.objects.filter(coach=coach).values_list("weekday", "start", "end")) == [
            (1, datetime(2000, 1, 1, 10).time(), datetime(2000, 1, 1, 12).time()),
            (3, datetime(2000, 1, 1, 14).time(), datetime(2000, 1, 1, 15).time()),
        ]

        # A validation error comes back next to the field, linked to it.
        page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Date overrides").click()
        expect(page.get_by_text("No upcoming overrides")).to_be_visible()
        page.get_by_role("link", name="Add an override").click()
        page.get_by_label("Date", exact=True).fill("2026-12-03")
        page.get_by_label("Unavailable all day").check()
        page.locator("#id_window-0-start").fill("09:00")
        page.locator("#id_window-0-end").fill("10:00")
        page.get_by_role("button", name="Save override").click()
        unavailable = page.get_by_label("Unavailable all day")
        expect(unavailable).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#id_unavailable_error")).to_contain_text("not both")
        _assert_accessible(page)

        # Thursday 3 December: unavailable all day.
        page.locator("#id_window-0-start").fill("")
        page.locator("#id_window-0-end").fill("")
        page.get_by_label("Note (only you see it)").fill("Conference")
        page.get_by_role("button", name="Save override").click()
        expect(page.get_by_role("status")).to_contain_text("Override for Thu 3 Dec saved.")
        expect(page.locator(".row-list")).to_contain_text("Unavailable all day")
        assert (
            DateOverride.objects.filter(coach=coach, start=None).values_list("date", flat=True).get().day == 3
        )

        page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Preview").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preview your slots")
        assert _preview(page) == {"Tue 1 Dec": ["10:00", "10:30", "11:00", "11:30"]}
        expect(page.locator(".preview-day")).to_have_count(7)
        expect(page.get_by_text(re.compile(r"times in America/New_York"))).to_be_visible()
        _assert_accessible(page)
