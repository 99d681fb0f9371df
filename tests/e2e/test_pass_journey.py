"""A pass from grant to ledger in chromium: the coach creates a package and grants it to a client;
the client follows the grant email's link (another browser, not signed in), books two sessions
with it through the slot picker, cancels one early (the session goes back) and one late (the
session is used up, and the cancel page says so first), then reads the pass's history.

"Late" comes from the offering's cancellation notice, not from moving the clock: with 24 hours'
notice and the clock pinned at Tuesday 07:00 in New York (tests/support.py's NOW), Tuesday
09:00 there is inside the window and Wednesday 10:00 is not. time-machine's travel is
process-wide, so it pins the live server's clock too; tick=True keeps time moving so the
browser's waits still progress. The client's browser runs in Europe/Berlin (six hours ahead),
so the picker shows those times as 15:00 and 16:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, expect

from booking.models import Booking
from coaching.models import Coach, Offering
from practice.models import Pass, PassEntry
from tests.e2e.support import assert_accessible_at_both_widths, sign_in
from tests.support import NOW

# The two sessions, as the client's picker names them (Europe/Berlin).
EARLY_SLOT = "Wednesday 2 December, 16:00"  # 10:00 in New York, 27 hours ahead: cancelled in time
LATE_SLOT = "Tuesday 1 December, 15:00"  # 09:00 in New York, 2 hours ahead: inside the notice
EARLY_LABEL = "Wednesday 2 December 2026, 16:00"
LATE_LABEL = "Tuesday 1 December 2026, 15:00"


@pytest.fixture(autouse=True)
def _settings(settings, live_server) -> None:
    settings.ACCOUNT_RATE_LIMITS = False
    settings.SITE_URL = live_server.url  # the grant email links here


@pytest.fixture
def pinned() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def call(offering: Offering) -> Offering:
    """The intro call with 24 hours' notice to cancel, no grace period, late cancels forfeit."""
    offering.cancel_notice_minutes = 24 * 60
    offering.cancel_grace_minutes = 0
    offering.late_cancel_credit = Offering.LateCancelCredit.FORFEIT
    offering.save()
    return offering


def _grant_through_the_pages(page: Page, base: str) -> None:
    """The coach creates "Three calls" of the intro call and grants it to Grace."""
    page.goto(f"{base}/dashboard/packages/")
    page.get_by_role("link", name="Create your first package").click()
    page.get_by_label("Name", exact=True).fill("Three calls")
    page.get_by_label("Sessions", exact=True).fill("3")
    page.get_by_label("Days from the grant", exact=True).fill("30")
    page.get_by_label("Intro call").check()
    page.get_by_role("button", name="Save package").click()
    expect(page.locator(".messages")).to_contain_text("Package “Three calls” saved.")

    page.get_by_role("link", name="Grant “Three calls” to a client").click()
    page.get_by_label("Client's email").fill("grace@example.com")
    page.get_by_label("Client's name").fill("Grace Hopper")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant “Three calls” to Grace Hopper?")
    page.get_by_role("button", name="Grant the pass").click()
    expect(page.locator(".messages")).to_contain_text("Pass granted: Grace Hopper has 3 sessions")


def _pass_link_from_the_email(base: str, outbox: list) -> str:
    grants = [m for m in outbox if m.subject.startswith("Your package from")]
    assert len(grants) == 1, [m.subject for m in outbox]
    message = grants[0]
    assert message.subject == "Your package from Ada Lovelace: Three calls (3 sessions)"
    assert message.to == ["Grace Hopper <grace@example.com>"]
    links = re.findall(rf"{re.escape(base)}/passes/\S+/", message.body)
    assert links, message.body
    return links[0]


def _book_from_the_pass(page: Page, pass_url: str, *, slot: str, left: int) -> str:
    """From the pass page, book ``slot`` of the intro call with the pass; the manage link."""
    page.goto(pass_url)
    page.get_by_role("link", name="Book a session: Intro call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Intro call")
    expect(page.get_by_text("You're booking with your package: Three calls")).to_be_visible()
    expect(page.locator("[data-zone-label]")).to_have_text("Europe/Berlin")
    page.get_by_role("link", name=slot).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book Intro call")
    # The pass picked for it, and the client's details from the pass: nothing to type.
    expect(page.get_by_label(re.compile(r"^Use a session of Three calls"))).to_be_checked()
    expect(page.get_by_label("Your name")).to_have_value("Grace Hopper")
    expect(page.get_by_label("Email")).to_have_value("grace@example.com")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    expect(page.get_by_text(f"1 session of Three calls used, {left} left.")).to_be_visible()
    href = page.locator(".manage-link a").get_attribute("href")
    assert href is not None and href.startswith("/b/"), href
    return href


def _open_cancel_page(page: Page, manage_url: str, *, label: str) -> None:
    page.goto(manage_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your booking")
    expect(page.get_by_text(label)).to_be_visible()
    page.get_by_role("link", name="Cancel booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel this booking?")


def test_a_client_books_with_a_granted_pass_cancels_early_and_late_and_reads_the_ledger(
    page: Page,
    context: BrowserContext,
    browser: Browser,
    live_server,
    coach: Coach,
    call: Offering,
    mailoutbox: list,
    pinned: None,
) -> None:
    base = live_server.url
    sign_in(context, base, coach.user)
    _grant_through_the_pages(page, base)
    pass_obj = Pass.objects.get(coach=coach)
    pass_url = _pass_link_from_the_email(base, mailoutbox)

    guest = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    guest.set_default_timeout(10_000)
    client = guest.new_page()
    try:
        # The pass page from the email: three sessions, nothing used yet.
        client.goto(pass_url)
        expect(client.get_by_role("heading", level=1)).to_have_text("Three calls")
        expect(client.get_by_text("3 of 3", exact=True)).to_be_visible()

        # Two sessions booked with it, each from the pass link.
        early = _book_from_the_pass(client, pass_url, slot=EARLY_SLOT, left=2)
        late = _book_from_the_pass(client, pass_url, slot=LATE_SLOT, left=1)
        bookings = Booking.objects.filter(client_pass=pass_obj)
        assert bookings.count() == 2
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == 1

        # Early: a day and more ahead, the session goes back, and the page says so before and after.
        _open_cancel_page(client, f"{base}{early}", label=EARLY_LABEL)
        expect(client.locator(".credit-outcome")).to_have_text(
            "Your session goes back on your package “Three calls”."
        )
        assert_accessible_at_both_widths(client, "cancel page, in time")
        client.get_by_role("button", name="Yes, cancel the booking").click()
        expect(client.get_by_role("status")).to_contain_text("Your booking is cancelled")
        expect(client.get_by_role("status")).to_contain_text(
            "Your session goes back on your package “Three calls”: 2 left."
        )
        expect(client.get_by_text("You cancelled this booking.")).to_be_visible()

        # Late: two hours ahead, inside the day's notice: the cancel page warns first.
        _open_cancel_page(client, f"{base}{late}", label=LATE_LABEL)
        warning = client.locator(".credit-outcome")
        expect(warning).to_contain_text("uses up the session of your package “Three calls”")
        expect(warning).to_contain_text(
            "The cancellation deadline (Monday 30 November 2026, 15:00) has passed"
        )
        assert_accessible_at_both_widths(client, "cancel page, late")
        client.get_by_role("button", name="Yes, cancel the booking").click()
        expect(client.get_by_role("status")).to_contain_text("Your booking is cancelled")
        expect(client.get_by_role("status")).to_contain_text(
            "This late cancellation uses up the session of your package “Three calls”, "
            "as the policy said: 2 left."
        )

        # The pass page: the balance and every line of the ledger, newest first.
        client.goto(pass_url)
        expect(client.get_by_text("2 of 3", exact=True)).to_be_visible()
        rows = client.locator(".pass-ledger tbody tr")
        expect(rows).to_have_count(5)
        expected = [
            (f"Forfeited — late cancellation: Intro call, {LATE_LABEL}", "0"),
            (f"Returned: Intro call, {EARLY_LABEL}", "+1"),
            (f"Used for Intro call, {LATE_LABEL}", "\u22121"),
            (f"Used for Intro call, {EARLY_LABEL}", "\u22121"),
            ("Granted: 3 sessions", "+3"),
        ]
        for row, (words, amount) in zip(rows.all(), expected, strict=True):
            expect(row.locator("td").nth(1)).to_have_text(words)
            expect(row.locator("td").nth(2)).to_have_text(amount)
        assert_accessible_at_both_widths(client, "pass page with its ledger")
    finally:
        guest.close()

    # The client's cancellation emails say the same, one each.
    cancelled = [
        m.body
        for m in mailoutbox
        if m.subject.startswith("Cancelled:") and "grace@example.com" in " ".join(m.to)
    ]
    assert len(cancelled) == 2, [m.subject for m in mailoutbox]
    assert "Your session goes back on your package “Three calls”: 2 left." in cancelled[0]
    assert "This late cancellation uses up the session of your package “Three calls”" in cancelled[1]

    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 2
    assert list(pass_obj.entries.order_by("pk").values_list("kind", "amount")) == [
        (PassEntry.Kind.GRANT, 3),
        (PassEntry.Kind.USE, -1),
        (PassEntry.Kind.USE, -1),
        (PassEntry.Kind.RETURN, 1),
        (PassEntry.Kind.FORFEIT, 0),
    ]
    assert set(Booking.objects.filter(client_pass=pass_obj).values_list("status", flat=True)) == {
        Booking.Status.CANCELLED
    }
