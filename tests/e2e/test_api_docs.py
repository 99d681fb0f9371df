"""In a real browser, /api/v1/docs lets a coach paste a token and try the coach API (issue 14)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from coaching.models import ApiToken, Coach
from coaching.services import api_token_create


@pytest.mark.django_db(transaction=True)
def test_a_coach_authorizes_with_a_token_and_tries_an_endpoint(page: Page, live_server, coach: Coach) -> None:
    key = api_token_create(coach=coach, name="Docs", scope=ApiToken.Scope.READ)[1]
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(live_server.url + "/api/v1/docs")

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")  # Swagger UI's dialog has no dialog role
    expect(dialog.locator("h4")).to_have_text(re.compile(r"CoachToken\W+\(http, Bearer\)"))
    dialog.locator("#auth-bearer-value").fill(key)
    dialog.get_by_role("button", name="Apply credentials").click()
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.get_by_role("button", name="Close", exact=True).click()

    operation = page.locator("#operations-Coach_API-api_me_setup_get_weekly_hours")
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response td.response-col_status").first
    expect(status).to_have_text(re.compile(r"^\s*200"))
    # The request Swagger UI sent carried the token, as the curl line shows.
    expect(operation.get_by_text(f"Authorization: Bearer {key}").first).to_be_visible()
    assert refused == []
