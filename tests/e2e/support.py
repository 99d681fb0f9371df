"""What the browser tests share: signing in, and the axe-core check at a desktop's and a
phone's width (serious and critical findings fail; so does sideways scrolling at 320 px)."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}


def sign_in(context: BrowserContext, base_url: str, user: User) -> None:
    """Sign ``user`` in by handing the browser a session made by Django's test client."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])


def sign_in_with_password(page: Page, base_url: str, email: str, next_path: str) -> None:
    """Sign in through the real form (the factories' password) and land on ``next_path``."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{base_url}{next_path}")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def violation_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} - {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')!s}")
    return "\n".join(lines)


def assert_accessible(page: Page, label: str) -> None:
    """No serious or critical axe finding on the page at its current size."""
    violations = serious_violations(page)
    assert not violations, f"{label}: {page.url}\n{violation_report(violations)}"


def assert_accessible_at_both_widths(page: Page, label: str) -> None:
    """``assert_accessible`` at 1280 and 320 px, and no sideways scrolling on the phone."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert_accessible(page, f"{label} at {size['width']}px")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{label}: {overflow}px wider than a {PHONE['width']}px screen"
    page.set_viewport_size(DESKTOP)
