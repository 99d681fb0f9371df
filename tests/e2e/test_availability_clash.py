"""A coach narrows their weekly hours over a booked call: the page warns, links the call, and
"Save anyway" saves the hours and leaves the booking alone.

time-machine's travel is process-wide, so it pins the clock of the live server's thread
too; tick=True keeps time moving so the browser's waits still progress.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, expect

from booking.models import Booking
from coaching.models import Coach, Offering, WeeklyHours
from tests.factories import DEFAULT_PASSWORD
from tests.support import NOW, SLOT

BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def _sign_in(page: Page, base_url: str, email: str, next_path: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{base_url}{next_path}")


def _serious(page: Page) -> list[dict[str, Any]]:
    return [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def _assert_accessible(page: Page, label: str) -> None:
    """No serious or critical axe finding at a desktop and a phone width, nor sideways scrolling at 320 px."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        violations = _serious(page)
        report = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}" for v in violations
        )
        assert not violations, f"{label} at {size['width']}px: {page.url}\n{report}"
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{label}: {overflow}px wider than a {size['width']}px screen"
    page.set_viewport_size(DESKTOP)


def test_a_coach_narrows_hours_over_a_booking_sees_it_and_saves_anyway(
    page: Page, live_server, coach: Coach, offering: Offering, book
) -> None:
    """Wednesday 13:00-17:00 leaves Grace's Wed 10:00 call outside: warned, linked, then saved anyway."""
    base_url = live_server.url
    with time_machine.travel(NOW, tick=True):
        booking = book(SLOT)
        before = (booking.status, booking.start, booking.end, booking.sequence)
        _sign_in(page, base_url, coach.user.email, "/dashboard/hours/")

        page.locator("#id_day2-0-start").fill("13:00")
        page.get_by_role("button", name="Save weekly hours").click()

        expect(page.get_by_role("alert")).to_contain_text(
            "1 booked call falls outside these hours. It stays booked unless you move or cancel it."
        )
        warning = page.get_by_role("region", name="Booked calls outside these hours")
        expect(warning.get_by_role("link", name="Grace Hopper", exact=True)).to_have_attribute(
            "href", reverse("dashboard_booking", kwargs={"reference": booking.reference})
        )
        expect(warning).to_contain_text("Wednesday 2 December 2026, 10:00–10:30")
        expect(page.locator("#id_day2-0-start")).to_have_value("13:00")  # what the coach typed stays
        assert list(WeeklyHours.objects.filter(coach=coach, weekday=2).values_list("start", "end")) == [
            (time(9), time(17))
        ]
        _assert_accessible(page, "the clash warning")

        warning.get_by_role("button", name="Save anyway").click()
        expect(page.get_by_role("status")).to_contain_text("Weekly hours saved.")
        expect(page.get_by_role("status")).to_contain_text("was kept")
        assert list(WeeklyHours.objects.filter(coach=coach, weekday=2).values_list("start", "end")) == [
            (time(13), time(17))
        ]
        booking.refresh_from_db()
        assert (booking.status, booking.start, booking.end, booking.sequence) == before
        assert booking.status == Booking.Status.CONFIRMED
