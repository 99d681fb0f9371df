"""A newcomer signs up, verifies, becomes a coach in chromium and opens their own public page.

The verification link is read from ``django.core.mail.outbox`` (the live server runs in
this process). time-machine's travel is process-wide, so it pins the live server's clock
too; tick=True keeps time moving so the browser's waits still progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from playwright.sync_api import Page, expect

from booking.models import Booking
from coaching.models import Coach, Offering, WeeklyHours
from tests.e2e.support import assert_accessible_at_both_widths
from tests.factories import CoachFactory
from tests.support import NOW

EMAIL = "nina@example.com"
PASSWORD = "first passphrase for 2 calls"


@pytest.fixture(autouse=True)
def _settings(settings, live_server) -> None:
    settings.ACCOUNT_RATE_LIMITS = False
    settings.COACH_SIGNUP = "open"
    settings.SITE_URL = live_server.url  # emails and the ready page link here


@pytest.fixture
def pinned() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _sign_up_and_verify(page: Page, base_url: str, mailoutbox: list) -> None:
    page.goto(f"{base_url}/accounts/signup/")
    page.get_by_label("Your name").fill("Nina Newcoach")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    links = re.findall(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[-1].body)
    page.goto(links[0])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("navigation", name="Account", exact=True)).to_contain_text(EMAIL)


def test_a_newcomer_becomes_a_coach_and_a_client_books_them(
    page: Page, browser, live_server, mailoutbox, pinned: None
) -> None:
    base_url = live_server.url
    CoachFactory(slug="ada", display_name="Ada Lovelace", user__email="ada@example.com")
    _sign_up_and_verify(page, base_url, mailoutbox)

    # Signed in after confirming, on the home page: "Become a coach" in the navigation and
    # in the page's own invitation.
    expect(page).to_have_url(f"{base_url}/")
    navigation = page.get_by_role("navigation", name="Account", exact=True)
    expect(page.get_by_role("heading", name="Take bookings yourself")).to_be_visible()
    expect(navigation.get_by_role("link", name="Become a coach")).to_be_visible()
    assert_accessible_at_both_widths(page, "home with become a coach")
    # "My bookings" invites too; its link is the one followed.
    navigation.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My bookings")
    assert_accessible_at_both_widths(page, "my bookings with become a coach")
    page.get_by_role("main").get_by_role("link", name="Become a coach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Become a coach")

    # Prefilled from the account; the zone comes from the browser (Europe/Berlin in conftest).
    expect(page.get_by_label("Your name")).to_have_value("Nina Newcoach")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.get_by_label("Take calls on Monday")).to_be_checked()
    expect(page.get_by_label("Take calls on Saturday")).not_to_be_checked()
    assert_accessible_at_both_widths(page, "become a coach")

    # The address is checked as it is typed.
    address = page.get_by_label("Your address")
    status = page.locator("[data-address-status]")
    address.fill("ada")
    expect(status).to_have_text("This address is taken. Please choose another one.")
    address.fill("dashboard")
    expect(status).to_contain_text("is reserved")
    address.fill("nina")
    expect(status).to_have_text(f"{base_url}/nina/ is free.")
    expect(address).to_have_attribute("aria-describedby", re.compile(r"\bid_slug_check\b"))

    page.get_by_label("Headline").fill("Coaching for first-time managers")
    page.get_by_label("Name of the call").fill("First call")
    page.get_by_label("Length").select_option("45")

    # A mistake first: the page comes back with the message and what was typed.
    page.get_by_label("Friday until").fill("08:00")
    page.get_by_role("button", name="Create my page").click()
    expect(page.get_by_role("alert")).to_contain_text("Please fix the problem")
    expect(page.get_by_text("Friday: 09:00–08:00 ends before it starts.")).to_be_visible()
    expect(page.get_by_label("Headline")).to_have_value("Coaching for first-time managers")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    assert_accessible_at_both_widths(page, "become a coach with errors")

    page.get_by_label("Friday until").fill("13:00")
    page.get_by_role("button", name="Create my page").click()

    # Ready: the link to copy and share.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your page is ready")
    expect(page.get_by_label("Your page’s link")).to_have_value(f"{base_url}/nina/")
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.get_by_role("link", name="Share by email")).to_have_attribute("href", re.compile(r"^mailto:"))
    assert_accessible_at_both_widths(page, "your page is ready")

    coach = Coach.objects.get(user__email=EMAIL)
    assert (coach.slug, coach.time_zone, coach.headline) == (
        "nina",
        "Europe/Berlin",
        "Coaching for first-time managers",
    )
    assert Offering.objects.get(coach=coach).duration_minutes == 45
    assert WeeklyHours.objects.filter(coach=coach).count() == 5

    page.get_by_role("link", name="Open your public page").click()
    expect(page).to_have_url(f"{base_url}/nina/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nina Newcoach")
    expect(page.get_by_text("First call").first).to_be_visible()

    # A client (another browser, in New York) books the first call from that page.
    guest = browser.new_context(locale="en-US", timezone_id="America/New_York")
    guest.set_default_timeout(10_000)
    client = guest.new_page()
    try:
        client.goto(f"{base_url}/nina/")
        client.get_by_role("link", name="Book a call").click()
        expect(client.get_by_role("heading", level=1)).to_have_text("First call")
        # The policy before booking: cancel and move until 24 hours ahead.
        expect(client.get_by_role("heading", name="Cancelling and moving")).to_be_visible()
        # The week's last time: its deadlines to cancel and move lie ahead.
        client.locator(".slot-link").last.click()
        expect(client.get_by_role("heading", level=1)).to_have_text("Book First call")
        client.get_by_label("Your name").fill("Carla Client")
        client.get_by_label("Email").fill("carla@example.com")
        client.get_by_role("button", name="Book this time").click()

        expect(client.get_by_role("heading", level=1)).to_have_text("You're booked")
        booking = Booking.objects.get(client_email="carla@example.com")
        assert booking.client_time_zone == "America/New_York"
        join = client.get_by_role("link", name=re.compile(r"^Join the call"))
        expect(join).to_have_attribute("href", f"https://meet.jit.si/{booking.room_key}")
        expect(client.get_by_role("heading", name="Cancelling and moving")).to_be_visible()
        expect(client.locator("#policy-title + ul")).to_contain_text("Cancel online until")
        expect(client.locator("#policy-title + ul")).to_contain_text("Move it online until")
        assert_accessible_at_both_widths(client, "the client's confirmation")
    finally:
        guest.close()
