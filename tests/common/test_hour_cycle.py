"""12- or 24-hour times by the visitor's locale (issue 13, 1): the pure functions, the context
manager, the formatters of common/display.py and the middleware on a public page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import Client

from common.display import CallTime, clock_label, moment_label, time_label, when_label
from common.hour_cycle import (
    hour_cycle_for,
    is_12_hour,
    locale_from_accept_language,
    uses_12_hour,
)
from tests.support import NOW

BERLIN = ZoneInfo("Europe/Berlin")
FOUR_PM_BERLIN = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "locale",
    [
        "en-US",
        "en",
        "EN-us",
        "en_US",
        "en-AU",
        "en-IN",
        "en-CA",
        "ko",
        "ko-KR",
        "zh-TW",
        "zh-Hant",
        "hi",
        "ar",
    ],
)
def test_it_knows_who_reads_12_hour_times(locale: str) -> None:
    assert uses_12_hour(locale) is True


@pytest.mark.parametrize(
    "locale",
    ["en-GB", "en-IE", "fr", "fr-CA", "de", "de-DE", "es", "pt-BR", "ja", "zh-CN", "ru", "en-150"],
)
def test_it_knows_who_reads_24_hour_times(locale: str) -> None:
    assert uses_12_hour(locale) is False


@pytest.mark.parametrize(
    "locale", ["", "   ", "*", "x", "12-34", "<script>", "en-US;" * 50, "\x00", None, 42]
)
def test_it_reads_garbage_as_24_hour_and_never_raises(locale: object) -> None:
    assert uses_12_hour(locale) is False  # type: ignore[arg-type]


def test_it_follows_an_explicit_hour_cycle_extension() -> None:
    assert uses_12_hour("en-GB-u-hc-h12") is True
    assert uses_12_hour("en-US-u-hc-h23") is False


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9,de;q=0.8", "en-US"),
        ("de;q=0.5, en-GB;q=0.9", "en-GB"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr-CH"),
        ("*", ""),
        ("*;q=1, ja;q=0.1", "ja"),
        ("en-US;q=0", ""),
        ("en-US;q=nan, de", "de"),
        ("", ""),
        (";;;,,,", ""),
        ("<script>alert(1)</script>", ""),
        ("<script>, en-GB;q=0.5", "en-GB"),
        ("a" * 200, ""),
        ("en-" + "abcdefgh-" * 10, "en-abcdefgh-abcdefgh-abcdefgh-abcde"),
    ],
)
def test_it_picks_the_best_tag_of_an_accept_language_header(header: str, expected: str) -> None:
    found = locale_from_accept_language(header)
    assert found == expected
    assert len(found) <= 35
    assert re.fullmatch(r"[A-Za-z0-9-]*", found)


def test_it_sets_the_cycle_for_a_block_and_resets_it_after() -> None:
    assert is_12_hour() is False
    with hour_cycle_for("en-US"):
        assert is_12_hour() is True
        with hour_cycle_for("de-DE"):
            assert is_12_hour() is False
        assert is_12_hour() is True
    assert is_12_hour() is False


def test_it_resets_the_cycle_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), hour_cycle_for("en-US"):
        raise RuntimeError
    assert is_12_hour() is False


def test_every_formatter_follows_the_cycle() -> None:
    now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert time_label(FOUR_PM_BERLIN, BERLIN) == "16:00"
    with hour_cycle_for("en-US"):
        assert time_label(FOUR_PM_BERLIN, BERLIN) == "4:00 PM"
        assert clock_label(time(9, 30)) == "9:30 AM"
        assert clock_label(time(0, 5)) == "12:05 AM"
        assert clock_label(time(12, 0)) == "12:00 PM"
        assert moment_label(FOUR_PM_BERLIN, "Europe/Berlin") == "Wednesday 2 December 2026, 4:00 PM"
        assert when_label(FOUR_PM_BERLIN, BERLIN, now) == "today 4:00 PM"
        call = CallTime.of(FOUR_PM_BERLIN, FOUR_PM_BERLIN.replace(minute=30), "Europe/Berlin")
        assert (call.start, call.end) == ("4:00 PM", "4:30 PM")
        assert str(call) == "Wednesday 2 December 2026, 4:00 PM–4:30 PM (Europe/Berlin)"
        assert call.short == "Wed 2 Dec, 4:00 PM"
        assert call.iso == "2026-12-02T16:00:00+01:00"  # machine values stay as they are
    assert moment_label(FOUR_PM_BERLIN, "Europe/Berlin") == "Wednesday 2 December 2026, 16:00"
    assert when_label(FOUR_PM_BERLIN, BERLIN, now) == "today 16:00"


def test_the_clock_filter_follows_the_cycle() -> None:
    template = Template("{% load clock %}{{ value|clock }}")
    assert template.render(Context({"value": time(16, 0)})) == "16:00"
    with hour_cycle_for("en-US"):
        assert template.render(Context({"value": time(16, 0)})) == "4:00 PM"
    assert template.render(Context({"value": "not a time"})) == ""


# ---------------------------------------------------------------------------
# The middleware, on a public offering page
# ---------------------------------------------------------------------------
PAGE = "/ada/intro-call/"


def _slot_times(response) -> list[str]:
    return re.findall(
        r'<a class="slot-link"[^>]*>.*?<time datetime="[^"]+">([^<]+)</time>', response.content.decode()
    )


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_it_shows_12_hour_times_to_an_american_visitor(client: Client, offering) -> None:
    response = client.get(PAGE, {"tz": "Europe/Berlin"}, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == HTTPStatus.OK
    times = _slot_times(response)
    assert times[0] == "3:00 PM"
    assert "4:00 PM" in times
    assert "16:00" not in times
    assert is_12_hour() is False  # the middleware resets the cycle after the request


@pytest.mark.django_db
@pytest.mark.time_machine(NOW, tick=False)
def test_it_shows_24_hour_times_to_a_german_visitor(client: Client, offering) -> None:
    response = client.get(PAGE, {"tz": "Europe/Berlin"}, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    times = _slot_times(response)
    assert times[0] == "15:00"
    assert "16:00" in times
    assert not any("PM" in t for t in times)
