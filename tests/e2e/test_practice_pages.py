"""The coach's practice pages in chromium: create a package, grant a pass of it, open the
client's page from the pass and write private notes; axe-core finds nothing serious on any of
the new pages at a desktop's width and a phone's, and nothing scrolls sideways on the phone.

time-machine's travel is process-wide, so it pins the live server's clock too; tick=True keeps
time moving so the browser's waits still progress.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from booking.services import booking_create
from coaching.models import Coach, Offering
from practice.models import Client, Package, Pass, SessionNote
from tests.e2e.support import assert_accessible_at_both_widths, sign_in
from tests.support import NOW, SLOT


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


def test_the_coach_creates_a_package_grants_it_and_keeps_notes_on_the_client(
    page: Page, context: BrowserContext, live_server, coach: Coach, offering: Offering
) -> None:
    base = live_server.url
    with time_machine.travel(NOW, tick=True):
        sign_in(context, base, coach.user)

        # No package yet: the page says how to start.
        page.goto(f"{base}/dashboard/packages/")
        expect(page.get_by_text("You have no packages yet.")).to_be_visible()
        assert_accessible_at_both_widths(page, "packages, empty")

        page.get_by_role("link", name="Create your first package").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("New package")
        # A mistake first: no call chosen, and the message comes back on the page.
        page.get_by_label("Name", exact=True).fill("Three calls")
        page.get_by_label("Sessions", exact=True).fill("3")
        page.get_by_label("Days from the grant", exact=True).fill("30")
        page.get_by_role("button", name="Save package").click()
        expect(page.get_by_text("Choose at least one of your calls the package covers.")).to_be_visible()
        assert_accessible_at_both_widths(page, "package form with an error")
        page.get_by_label("Intro call").check()
        page.get_by_label("Price", exact=True).fill("150")
        page.get_by_label("Currency").fill("eur")
        page.get_by_role("button", name="Save package").click()
        expect(page.locator(".messages")).to_contain_text("Package “Three calls” saved.")
        expect(page.get_by_text("3 sessions · 30 days from the grant · 150 EUR")).to_be_visible()
        assert_accessible_at_both_widths(page, "packages")
        package = Package.objects.get(coach=coach)

        # Grant it: the form, then what the client receives, then the pass with its link.
        page.get_by_role("link", name="Grant “Three calls” to a client").click()
        page.get_by_label("Client's email").fill("grace@example.com")
        page.get_by_label("Client's name").fill("Grace Hopper")
        assert_accessible_at_both_widths(page, "grant form")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Grant “Three calls” to Grace Hopper?")
        expect(page.get_by_text("Thursday 31 December 2026, 07:00")).to_be_visible()
        assert_accessible_at_both_widths(page, "grant confirmation")
        assert not Pass.objects.exists()
        page.get_by_role("button", name="Grant the pass").click()
        expect(page.locator(".messages")).to_contain_text("Pass granted: Grace Hopper has 3 sessions")
        pass_obj = Pass.objects.get(package=package)
        expect(page).to_have_url(f"{base}/dashboard/passes/{pass_obj.reference}/")
        expect(page.locator("#pass-link")).to_have_value(re.compile(r"/passes/PS-[0-9A-Z]+\.\S+/$"))
        assert_accessible_at_both_widths(page, "pass page")

        # Grace books with it (arranged in the database), then the coach opens her page.
        booking = booking_create(
            offering=offering,
            start=SLOT,
            client_name="Grace Hopper",
            client_email="grace@example.com",
            client_time_zone="Europe/Berlin",
            client_pass=pass_obj,
            now=NOW,
        ).booking
        page.goto(f"{base}/dashboard/passes/")
        expect(page.get_by_role("cell", name="2 of 3")).to_be_visible()
        assert_accessible_at_both_widths(page, "passes list")
        page.get_by_role("link", name="Grace Hopper").click()
        expect(page).to_have_url(f"{base}/dashboard/passes/{pass_obj.reference}/")
        page.get_by_role("link", name="Grace Hopper").click()
        client = Client.objects.get(coach=coach, email="grace@example.com")
        expect(page).to_have_url(f"{base}/dashboard/clients/{client.pk}/")
        expect(page.get_by_text("Private: never shown to the client.", exact=True)).to_be_visible()
        expect(page.get_by_text("Paid with a pass session")).to_be_visible()
        assert_accessible_at_both_widths(page, "client page")

        # General notes, in Markdown.
        page.get_by_text("Write notes").click()
        page.get_by_label("Your notes on this client").fill("**Goal**: a new role by spring")
        page.get_by_role("button", name="Save notes").click()
        expect(page.locator(".messages")).to_contain_text("Your notes are saved.")
        expect(page.locator("#notes strong", has_text="Goal")).to_be_visible()
        client.refresh_from_db()
        assert client.notes == "**Goal**: a new role by spring"

        # A private note on the session.
        session = page.locator(f"#session-{booking.reference}")
        session.get_by_text("Add a private note").click()
        session.get_by_label("Private note on this session").fill("Prepare the CV review.")
        session.get_by_role("button", name="Save note").click()
        expect(page.locator(".messages")).to_contain_text("Note saved.")
        expect(page.locator(f"#session-{booking.reference}")).to_contain_text("Prepare the CV review.")
        assert SessionNote.objects.get(booking=booking).body == "Prepare the CV review."
        assert_accessible_at_both_widths(page, "client page with notes")

        page.goto(f"{base}/dashboard/clients/")
        expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
        assert_accessible_at_both_widths(page, "clients list")
