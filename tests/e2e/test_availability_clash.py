"""A coach narrows their weekly hours over a booked call: the page warns, links the call, and
"Save anyway" saves the hours and leaves the booking alone.

time-machine's travel is process-wide, so it pins the clock of the live server's thread
too; tick=True keeps time moving so the browser's waits still progress.
"""

from __future__ import annotations

from datetime import time

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from booking.models import Booking
from coaching.models import Coach, Offering, WeeklyHours
from tests.e2e.support import assert_accessible_at_both_widths, sign_in_with_password
from tests.support import NOW, SLOT


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def test_a_coach_narrows_hours_over_a_booking_sees_it_and_saves_anyway(
    page: Page, live_server, coach: Coach, offering: Offering, book
) -> None:
    """Wednesday 13:00-17:00 leaves Grace's Wed 10:00 call outside: warned, linked, then saved anyway."""
    base_url = live_server.url
    with time_machine.travel(NOW, tick=True):
        booking = book(SLOT)
        before = (booking.status, booking.start, booking.end, booking.sequence)
        sign_in_with_password(page, base_url, coach.user.email, "/dashboard/hours/")

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
        assert_accessible_at_both_widths(page, "the clash warning")

        warning.get_by_role("button", name="Save anyway").click()
        expect(page.get_by_role("status")).to_contain_text("Weekly hours saved.")
        expect(page.get_by_role("status")).to_contain_text("was kept")
        assert list(WeeklyHours.objects.filter(coach=coach, weekday=2).values_list("start", "end")) == [
            (time(13), time(17))
        ]
        booking.refresh_from_db()
        assert (booking.status, booking.start, booking.end, booking.sequence) == before
        assert booking.status == Booking.Status.CONFIRMED
