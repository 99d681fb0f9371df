"""The agenda, the week calendar and the bookings search in chromium: axe-core finds nothing
serious at a desktop's width and a phone's, the calendar becomes a list per day on a phone,
and the keyboard reaches the week links, then each booking, in reading order, with a visible focus.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from booking.models import Booking
from coaching.models import BusyCalendar, Coach, Offering
from tests.e2e.support import DESKTOP, PHONE, assert_accessible, sign_in
from tests.factories import BookingFactory, BusyBlockFactory
from tests.support import NOW, SLOT

PAGES = ("/dashboard/", "/dashboard/calendar/", "/dashboard/bookings/?q=grace")


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def week(coach: Coach, offering: Offering) -> list[Booking]:
    """Ada's week: a call today with answers, two on Wednesday, one waiting for approval, one
    that ended without an outcome, and busy time from a connected calendar."""
    offering.location_kind = Offering.LocationKind.VIDEO
    offering.location_details = "https://meet.example.com/ada"
    offering.save()
    today = BookingFactory(
        offering=offering,
        start=NOW + timedelta(hours=3),
        client_name="Grace Hopper",
        answers={"What would you like to talk about?": "My next move"},
    )
    wednesday = BookingFactory(offering=offering, start=SLOT, client_name="Alan Turing")
    wednesday_later = BookingFactory(
        offering=offering, start=SLOT + timedelta(hours=2), client_name="Ada Byron"
    )
    pending = BookingFactory(
        offering=offering,
        start=SLOT + timedelta(days=1),
        client_name="Grace Pending",
        status=Booking.Status.PENDING,
    )
    ended = BookingFactory(offering=offering, start=NOW - timedelta(days=1), client_name="Edsger Dijkstra")
    work = BusyCalendar.objects.create(coach=coach, name="Work", url="https://example.com/work.ics")
    BusyBlockFactory(coach=coach, calendar=work, start=SLOT + timedelta(hours=1))
    return [ended, today, wednesday, wednesday_later, pending]


def test_the_dashboard_pages_are_accessible_on_a_desktop_and_a_phone(
    page: Page, context: BrowserContext, live_server, coach: Coach, week: list[Booking]
) -> None:
    with time_machine.travel(NOW, tick=True):
        sign_in(context, live_server.url, coach.user)
        for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
            page.set_viewport_size(size)
            for path in PAGES:
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                assert_accessible(page, f"{path} ({label})")
            if size == PHONE:
                # The calendar is one list of days, each under the one before, not 7 columns.
                page.goto(live_server.url + "/dashboard/calendar/")
                boxes = [day.bounding_box() for day in page.locator(".calendar-day").all()]
                assert len(boxes) == 7
                assert all(box is not None for box in boxes)
                assert all(
                    b["y"] > a["y"] and abs(b["x"] - a["x"]) < 1
                    for a, b in zip(boxes, boxes[1:], strict=False)
                )
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
                # The navigation folds into groups; the current page's group is open.
                nav = page.get_by_role("navigation", name="Dashboard")
                expect(nav.get_by_role("link", name="Calendar")).to_be_visible()
                expect(nav.get_by_role("link", name="Weekly hours")).to_be_hidden()
                nav.get_by_text("Availability").click()
                expect(nav.get_by_role("link", name="Weekly hours")).to_be_visible()


def test_the_keyboard_walks_the_calendar_in_reading_order(
    page: Page, context: BrowserContext, live_server, coach: Coach, week: list[Booking]
) -> None:
    ended, today, wednesday, wednesday_later, pending = week
    with time_machine.travel(NOW, tick=True):
        sign_in(context, live_server.url, coach.user)
        page.set_viewport_size(DESKTOP)
        page.goto(live_server.url + "/dashboard/calendar/")
        page.get_by_role("link", name="Previous week").focus()
        reached = []
        for _ in range(9):
            reached.append(page.evaluate("document.activeElement.getAttribute('href')"))
            focused = page.locator(":focus")
            assert focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
            page.keyboard.press("Tab")
        assert reached == [
            "/dashboard/calendar/?week=2026-11-23",
            "/dashboard/calendar/",
            "/dashboard/calendar/?week=2026-12-07",
            "/dashboard/calendars/",  # the week's summary: busy time "from your calendars"
            f"/dashboard/bookings/{ended.reference}/",  # Monday
            f"/dashboard/bookings/{today.reference}/",
            f"/dashboard/bookings/{wednesday.reference}/",
            f"/dashboard/bookings/{wednesday_later.reference}/",
            f"/dashboard/bookings/{pending.reference}/",
        ]
        # Enter on a booking opens it.
        page.get_by_role("link", name="Alan Turing").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/dashboard/bookings/{wednesday.reference}/")
        # Next week and back with the keyboard.
        page.goto(live_server.url + "/dashboard/calendar/")
        page.get_by_role("link", name="Next week").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard/calendar/?week=2026-12-07")
        expect(page.get_by_role("heading", level=2, name="7–13 December 2026")).to_be_visible()
