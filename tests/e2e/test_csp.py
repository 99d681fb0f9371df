"""In a real browser, the strict Content-Security-Policy blocks nothing our pages need."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import Page

from coaching.models import Coach, Offering
from tests.factories import DEFAULT_PASSWORD
from tests.support import NOW


@pytest.mark.django_db(transaction=True)
def test_it_reports_no_csp_violations_on_public_and_coach_pages(
    page: Page, live_server, coach: Coach, offering: Offering
) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    with time_machine.travel(NOW, tick=True):
        for path in (
            "/",
            "/ada/",
            "/ada/intro-call/",
            "/ada/intro-call/?tz=Asia/Kolkata",
            "/accounts/login/",
        ):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(coach.user.email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/dashboard/")
        for path in ("/dashboard/", "/dashboard/hours/", "/dashboard/offerings/new/", "/dashboard/bookings/"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
    assert violations == []
