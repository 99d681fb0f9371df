"""A visitor joins the demo coach's email community from the landing page, confirms by email,
and books a call from the landing page's "Book a call" button.

time-machine's travel pins the live server's clock too (see test_booking_flow.py);
emails land in django.core.mail.outbox, which the live server's thread shares.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import Page, expect

from booking.models import Booking
from community.models import Subscriber

# Friday 27 November 2026, 17:00 in New York: the demo coach's next free time is
# Monday 30 November 09:00 New York (15:00 in the browser's Berlin).
FRIDAY_5PM_NEW_YORK = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
CONFIRM_LINK = re.compile(r"https?://[^\s]+(/community/confirm/[^\s/]+/)")


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_it_joins_the_community_and_books_from_the_landing_page(page: Page, live_server, demo: None) -> None:
    base_url = live_server.url
    mail.outbox.clear()
    with time_machine.travel(FRIDAY_5PM_NEW_YORK, tick=True):
        page.goto(f"{base_url}/demo/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Dana Demo")
        expect(page.get_by_role("heading", name="How I work")).to_be_visible()  # the Markdown intro
        # The server guessed the coach's zone; the page script puts the time in the browser's.
        expect(page.locator("[data-next-free]")).to_contain_text(
            "Next free: Mon 15:00 your time (Europe/Berlin)"
        )
        expect(page.locator('meta[property="og:title"]')).to_have_attribute("content", "Dana Demo")
        assert_accessible(page)

        # Join the community: the honeypot is invisible, the consent box is required.
        signup = page.get_by_role("region", name="Join Dana Demo’s email community")
        expect(page.locator('input[name="website"]')).to_be_hidden()
        signup.get_by_label("Email", exact=True).fill("nora@example.com")
        signup.get_by_label("First name (optional)").fill("Nora")
        signup.get_by_role("button", name="Join the community").click()
        expect(page.get_by_text("Tick the box to agree")).to_be_visible()
        assert not Subscriber.objects.exists()
        signup = page.get_by_role("region", name="Join Dana Demo’s email community")
        signup.get_by_label("Yes, send Dana Demo’s community letters").check()
        signup.get_by_role("button", name="Join the community").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Almost there: check your inbox")
        assert_accessible(page)

        # The confirmation email arrives; its link confirms.
        assert [m.to for m in mail.outbox] == [["nora@example.com"]]
        path = CONFIRM_LINK.search(mail.outbox[0].body).group(1)
        page.goto(f"{base_url}{path}")
        page.get_by_role("button", name="Yes, confirm my subscription").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You’re in!")
        subscriber = Subscriber.objects.get()
        assert (subscriber.email, subscriber.status) == ("nora@example.com", Subscriber.Status.CONFIRMED)

        # Back to the landing page, and book from its call to action.
        page.get_by_role("link", name="Go to Dana Demo’s page").click()
        page.get_by_role("link", name="Book a call", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Intro call")
        expect(page.locator("[data-zone-label]")).to_have_text("Europe/Berlin")
        page.get_by_role("link", name="Monday 30 November, 15:00").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Book Intro call")
        expect(page.locator(".booking-form").get_by_role("link", name="privacy policy")).to_be_visible()
        expect(page.get_by_label("Yes, send Dana Demo’s community letters")).not_to_be_checked()
        page.get_by_label("Your name").fill("Nora Newcomer")
        page.get_by_label("Email").fill("nora@example.com")
        page.get_by_role("button", name="Book this time").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")

    booking = Booking.objects.get()
    assert (booking.client_email, booking.offering.slug) == ("nora@example.com", "intro-call")
    assert booking.start == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert Subscriber.objects.count() == 1
