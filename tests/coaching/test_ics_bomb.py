"""Hostile feeds: rules that repeat every second, never match, or bury the cap in one block.

Each is refused with a message the coach can act on, within a bounded amount of work
(counted in calls by common/budget.py, so nothing here is timed), and the old blocks stay.
"""

from __future__ import annotations

import contextlib
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching import busy_calendars
from coaching.busy_calendars import BusyCalendarError, busy_intervals
from common.budget import WorkBudgetExceeded, work_budget

ZONE = ZoneInfo("America/New_York")
START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=60)


def feed(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@x\r\nDTSTAMP:20261101T000000Z\r\n{event}\r\nEND:VEVENT\r\n"
        for n, event in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\n{body}END:VCALENDAR\r\n".encode()


# The 180-byte bomb from the report: one second, every second.
SECONDLY = feed("DTSTART:20261201T000000Z\r\nDTEND:20261201T000001Z\r\nRRULE:FREQ=SECONDLY")


def read(data: bytes) -> list[tuple[datetime, datetime]]:
    return busy_intervals(data, zone=ZONE, start=START, end=END)


def test_the_secondly_bomb_is_refused_before_expansion_with_bounded_memory() -> None:
    assert len(SECONDLY) < 260
    tracemalloc.start()
    try:
        with pytest.raises(BusyCalendarError) as refused:
            read(SECONDLY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too large" in refused.value.message
    assert "every 15 minutes" in refused.value.message
    assert peak < 5 * 1024 * 1024


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY",
        "FREQ=HOURLY;BYMINUTE=0,1,2,3,4,5,6,7,8,9;BYSECOND=0,10,20,30,40,50",
        "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55",
    ],
)
def test_rules_that_expand_to_more_than_every_15_minutes_are_refused(rule: str) -> None:
    with pytest.raises(BusyCalendarError, match="every 15 minutes"):
        read(feed(f"DTSTART:20261201T000000Z\r\nDURATION:PT1S\r\nRRULE:{rule}"))


def test_a_rule_that_never_matches_stops_at_the_work_cap() -> None:
    # dateutil walks such a rule to the year 9999 (seconds of CPU); the budget stops it.
    never = feed("DTSTART:20261201T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30")
    with pytest.raises(BusyCalendarError, match="take too long to work out"):
        read(never)


def test_touching_occurrences_merged_into_one_block_still_count_against_the_cap(monkeypatch) -> None:
    # Every 15 minutes for 15 minutes: one merged block, 5,760 occurrences in 60 days.
    back_to_back = feed("DTSTART:20261201T000000Z\r\nDURATION:PT15M\r\nRRULE:FREQ=MINUTELY;INTERVAL=15")
    assert read(back_to_back) == [(START, END)]
    monkeypatch.setattr(busy_calendars, "MAX_OCCURRENCES", 1_000)
    with pytest.raises(BusyCalendarError, match="more than 1,000 events"):
        read(back_to_back)


def test_the_cap_stops_expansion_instead_of_expanding_everything_first(monkeypatch) -> None:
    # With a budget too small to expand all 5,760 occurrences, the count cap still answers first.
    monkeypatch.setattr(busy_calendars, "MAX_OCCURRENCES", 10)
    monkeypatch.setattr(busy_calendars, "MAX_WORK", 100_000)
    back_to_back = feed("DTSTART:20261201T000000Z\r\nDURATION:PT15M\r\nRRULE:FREQ=MINUTELY;INTERVAL=15")
    with pytest.raises(BusyCalendarError, match="more than 10 events"):
        read(back_to_back)


def test_many_rules_that_never_match_stop_at_the_feed_budget(monkeypatch) -> None:
    # Each stays under the per-event cap; together they reach the feed's.
    monkeypatch.setattr(busy_calendars, "MAX_WORK_BETWEEN_OCCURRENCES", 200_000)
    monkeypatch.setattr(busy_calendars, "MAX_WORK", 300_000)
    sparse = "DTSTART:20261201T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"
    with pytest.raises(BusyCalendarError, match="take too long to work out"):
        read(feed(*[sparse] * 20))


def test_a_busy_real_calendar_fits_the_caps() -> None:
    # Two hundred weekly meetings since 2015 and a daily stand-up since 2010.
    weekly = [
        f"DTSTART;TZID=America/New_York:20150105T{8 + n % 9:02d}0000\r\nDURATION:PT30M\r\n"
        f"RRULE:FREQ=WEEKLY;BYDAY={['MO', 'TU', 'WE', 'TH', 'FR'][n % 5]}"
        for n in range(200)
    ]
    daily = ["DTSTART:20100104T140000Z\r\nDURATION:PT15M\r\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"]
    intervals = read(feed(*weekly, *daily))
    assert len(intervals) > 300


def spin() -> None:
    while True:
        (lambda: None)()


def test_the_budget_raises_inside_a_loop_and_unhooks() -> None:
    with pytest.raises(WorkBudgetExceeded), work_budget(1_000):
        spin()
    assert sys.getprofile() is None


def test_a_swallowed_budget_error_is_raised_again_at_the_next_check() -> None:
    # CPython drops a profile hook that raises, so a swallowed raise is caught up with at
    # the next checkpoint (our loops call cap() per occurrence) or at the end of the block.
    with pytest.raises(WorkBudgetExceeded), work_budget(1_000) as budget:
        with contextlib.suppress(Exception):  # what careless library code does
            spin()
        budget.cap(1_000)
    assert sys.getprofile() is None
    with pytest.raises(WorkBudgetExceeded), work_budget(1_000), contextlib.suppress(Exception):
        spin()
    assert sys.getprofile() is None


def test_a_tighter_cap_stops_one_part_within_a_larger_budget() -> None:
    with pytest.raises(WorkBudgetExceeded, match="swallowed"), work_budget(1_000_000) as budget:
        budget.cap(1_000)
        with pytest.raises(WorkBudgetExceeded):
            spin()
        assert 1_000 < budget.spent < 2_000
        with pytest.raises(WorkBudgetExceeded):
            budget.uncap()  # spent is spent: the caller refuses the whole input
    assert sys.getprofile() is None
