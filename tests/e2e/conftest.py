"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django
refuse ORM calls from that thread; the tests only touch the ORM to arrange data
and read results, never concurrently with a request, so that guard is lifted here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # en-GB reads 24-hour times ("15:00"), which the tests' expected strings use; a test of
    # 12-hour times opens its own context with locale="en-US" (tests/e2e/test_zone_picker.py).
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def demo(settings, tmp_path) -> None:
    """The demo coach (``seed_demo``), with a fresh cache and its files under a temporary VAR_DIR."""
    from django.core.cache import cache
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    cache.clear()
    call_command("seed_demo", verbosity=0)
