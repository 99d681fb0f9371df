"""The webhook pages in chromium: a coach adds an endpoint, copies its secret from the one page
that shows it, sends a test event and sees its delivery (a failed one, then resent), pauses and
resumes, rotates the secret and deletes the endpoint after confirming; axe-core finds nothing
serious on any of these pages at a desktop's width and a phone's.

Tasks run eagerly in the live server's thread (tests/conftest.py), so "send" happens inside the
request; ``webhooks.post`` is replaced by a recorder, so nothing goes to the network.
"""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from booking import webhooks
from booking.models import WebhookDelivery, WebhookEndpoint
from booking.services import webhook_endpoint_create
from coaching.models import Coach
from tests.e2e.support import PHONE, assert_accessible_at_both_widths, sign_in
from tests.support import NOW

HOOK = "https://example.com/hook"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The coach's server: answers each POST with the next of ``answers`` (then 200)."""
    answers = [500]
    received: list[int] = []

    def post(url: str, body: str, headers: dict) -> int:
        assert url == HOOK
        status = answers.pop(0) if answers else 200
        received.append(status)
        return status

    monkeypatch.setattr(webhooks, "post", post)
    return received


def test_a_coach_manages_a_webhook_endpoint_from_start_to_end(
    page: Page, context: BrowserContext, live_server, coach: Coach, receiver: list[int]
) -> None:
    base = live_server.url
    with time_machine.travel(NOW, tick=True):
        sign_in(context, base, coach.user)
        page.goto(base + "/dashboard/webhooks/")
        nav = page.get_by_role("navigation", name="Dashboard")
        expect(nav.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")
        expect(page.get_by_text("No endpoints yet")).to_be_visible()
        assert_accessible_at_both_widths(page, "webhooks, none yet")

        # The form, with a bad address first: it comes back with the reason, nothing saved.
        page.get_by_role("link", name="Add endpoint").click()
        page.wait_for_url("**/dashboard/webhooks/new/")
        expect(page.get_by_role("checkbox", name="booking.created", exact=False)).to_be_checked()
        expect(page.get_by_role("checkbox", name="pass.used", exact=False)).not_to_be_checked()
        assert_accessible_at_both_widths(page, "new webhook form")
        page.get_by_label("Address").fill("http://10.0.0.1/hook")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_text("private or local network")).to_be_visible()
        assert not WebhookEndpoint.objects.exists()
        assert_accessible_at_both_widths(page, "new webhook form with errors")

        # Now a good one: the secret, this once.
        page.get_by_label("Address").fill(HOOK)
        page.get_by_label("Description").fill("CRM")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
        secret = page.locator("#webhook-secret").input_value()
        endpoint = WebhookEndpoint.objects.get(coach=coach)
        assert secret.startswith("whsec_") and secret == endpoint.secret
        expect(page.get_by_text("it won't be shown again")).to_be_visible()
        assert_accessible_at_both_widths(page, "webhook secret")
        page.get_by_role("link", name="Done").click()
        page.wait_for_url(f"**/dashboard/webhooks/{endpoint.pk}/")
        assert secret not in page.content()
        expect(page.get_by_text("Nothing sent to this endpoint yet")).to_be_visible()
        assert_accessible_at_both_widths(page, "webhook endpoint, no deliveries")

        # A test event: the server answers 500, then "Resend" gets it through.
        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".messages")).to_contain_text("A test event is queued")
        delivery = page.locator(".webhook-item").first
        expect(delivery).to_contain_text("webhook.test")
        expect(delivery).to_contain_text("Waiting to be sent")
        expect(delivery).to_contain_text("The webhook server answered 500.")
        delivery.get_by_text("Body sent").click()
        expect(delivery.locator("pre")).to_contain_text("This is a test event")
        assert_accessible_at_both_widths(page, "webhook deliveries, body open")
        delivery.get_by_role("button", name="Resend").click()
        expect(page.locator(".messages")).to_contain_text("queued to be sent again")
        expect(page.locator(".webhook-item").first).to_contain_text("Delivered")
        assert receiver == [500, 200]
        assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED

        # Pause and resume.
        page.get_by_role("button", name="Pause").click()
        expect(page.locator(".messages")).to_contain_text("is paused")
        expect(page.get_by_text("Paused by the coach.")).to_be_visible()
        page.get_by_role("button", name="Resume").click()
        expect(page.locator(".messages")).to_contain_text("active again")
        expect(page.get_by_role("button", name="Pause")).to_be_visible()

        # The list, with the endpoint and its last delivery.
        page.get_by_role("link", name="Webhooks", exact=True).first.click()
        page.wait_for_url("**/dashboard/webhooks/")
        row = page.locator(".webhook-item")
        expect(row).to_contain_text("CRM")
        expect(row).to_contain_text("Last delivery: webhook.test")
        assert secret not in page.content()
        assert_accessible_at_both_widths(page, "webhooks list")

        # Rotate the secret: a confirmation, then the new one.
        page.get_by_role("link", name="Deliveries").click()
        page.get_by_role("link", name="Rotate secret…").click()
        expect(page.get_by_text("The old secret keeps working for a day")).to_be_visible()
        assert_accessible_at_both_widths(page, "rotate webhook secret")
        page.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("heading", name="The new signing secret")).to_be_visible()
        new_secret = page.locator("#webhook-secret").input_value()
        assert new_secret.startswith("whsec_") and new_secret != secret
        assert_accessible_at_both_widths(page, "rotated webhook secret")
        page.get_by_role("link", name="Done").click()

        # Delete, after confirming.
        page.get_by_role("link", name="Delete…").click()
        expect(page.get_by_role("heading", name="Delete the endpoint “CRM”?")).to_be_visible()
        assert_accessible_at_both_widths(page, "delete webhook endpoint")
        page.get_by_role("button", name="Delete endpoint").click()
        page.wait_for_url("**/dashboard/webhooks/")
        expect(page.locator(".messages")).to_contain_text("is deleted")
        expect(page.get_by_text("No endpoints yet")).to_be_visible()
        assert not WebhookEndpoint.objects.exists()


def test_the_deliveries_fit_a_phone_with_a_long_body(
    page: Page, context: BrowserContext, live_server, coach: Coach, receiver: list[int]
) -> None:
    """A long body wraps inside the phone's width instead of pushing the page sideways."""
    endpoint = webhook_endpoint_create(coach=coach, url=HOOK, description="Zapier")[0]
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=webhooks.WEBHOOK_TEST,
        webhook_id=webhooks.new_webhook_id(),
        payload={"type": "webhook.test", "data": {"long": "x" * 600, "words": "lorem ipsum " * 80}},
        next_attempt_at=NOW,
        status=WebhookDelivery.Status.FAILED,
        last_error="The webhook server answered 503.",
    )
    with time_machine.travel(NOW, tick=True):
        sign_in(context, live_server.url, coach.user)
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/dashboard/webhooks/{endpoint.pk}/?status=failed")
        page.get_by_text("Body sent").click()
        expect(page.locator("pre.webhook-body")).to_be_visible()
        assert_accessible_at_both_widths(page, "webhook deliveries, long body")
