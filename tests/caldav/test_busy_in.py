"""Reading a coach's CalDAV calendar into busy time, against a real Radicale seeded with the
``caldav`` library: opaque, transparent, cancelled, Outlook-free, all-day (by the coach's choice),
recurring with an EXDATE and a moved occurrence, floating times in the coach's zone; then the
incremental sync: a new event, a deleted one, a token the server forgot."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from coaching.busy_calendars import busy_intervals
from coaching.caldav import changes_since, discover
from tests.caldav.conftest import PASSWORD, USER, Radicale

NEW_YORK = ZoneInfo("America/New_York")
WINDOW = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def event(uid: str, body: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261120T000000Z\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def busy(changes) -> list[tuple[datetime, datetime]]:  # type: ignore[no-untyped-def]
    found: list[tuple[datetime, datetime]] = []
    for _, data in changes.changed.values():
        found += busy_intervals(data, zone=NEW_YORK, start=WINDOW[0], end=WINDOW[1])
    return sorted(found)


@pytest.fixture
def work(radicale: Radicale):  # type: ignore[no-untyped-def]
    calendar = radicale.calendar("Work", "work")
    account, [found] = discover(radicale.url, username=USER, password=PASSWORD)
    return calendar, account, found


def test_only_busy_events_block_time(work) -> None:  # type: ignore[no-untyped-def]
    calendar, account, found = work
    calendar.save_event(
        event("opaque", "DTSTART:20261202T150000Z\r\nDTEND:20261202T160000Z\r\nSUMMARY:Dentist\r\n")
    )
    calendar.save_event(
        event("free", "DTSTART:20261202T170000Z\r\nDTEND:20261202T180000Z\r\nTRANSP:TRANSPARENT\r\n")
    )
    calendar.save_event(
        event("off", "DTSTART:20261202T190000Z\r\nDTEND:20261202T200000Z\r\nSTATUS:CANCELLED\r\n")
    )
    calendar.save_event(
        event(
            "outlook",
            "DTSTART:20261202T210000Z\r\nDTEND:20261202T220000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n",
        )
    )
    calendar.save_event(event("floating", "DTSTART:20261203T090000\r\nDTEND:20261203T100000\r\n"))
    changes = changes_since(account, found.url)
    assert changes.full and changes.token and len(changes.changed) == 5
    assert busy(changes) == [
        (utc(2026, 12, 2, 15), utc(2026, 12, 2, 16)),
        (utc(2026, 12, 3, 14), utc(2026, 12, 3, 15)),  # 09:00-10:00 in the coach's New York
    ]


def test_all_day_events_block_the_coachs_day_or_not_by_choice(work) -> None:  # type: ignore[no-untyped-def]
    calendar, account, found = work
    calendar.save_event(event("holiday", "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261225\r\n"))
    [(_, data)] = changes_since(account, found.url).changed.values()
    assert busy_intervals(data, zone=NEW_YORK, start=WINDOW[0], end=WINDOW[1]) == [
        (utc(2026, 12, 24, 5), utc(2026, 12, 25, 5))
    ]
    assert busy_intervals(data, zone=NEW_YORK, start=WINDOW[0], end=WINDOW[1], all_day=False) == []


def test_a_weekly_event_with_an_exdate_and_a_moved_occurrence(work) -> None:  # type: ignore[no-untyped-def]
    calendar, account, found = work
    weekly = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20261120T000000Z\r\n"
        "DTSTART;TZID=America/New_York:20261201T090000\r\nDTEND;TZID=America/New_York:20261201T100000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=America/New_York:20261208T090000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20261120T000000Z\r\n"
        "RECURRENCE-ID;TZID=America/New_York:20261215T090000\r\n"
        "DTSTART;TZID=America/New_York:20261215T130000\r\nDTEND;TZID=America/New_York:20261215T140000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    calendar.save_event(weekly)
    assert busy(changes_since(account, found.url)) == [
        (utc(2026, 12, 1, 14), utc(2026, 12, 1, 15)),
        (utc(2026, 12, 15, 18), utc(2026, 12, 15, 19)),  # moved to 13:00
        (utc(2026, 12, 22, 14), utc(2026, 12, 22, 15)),
    ]


def test_the_next_sync_brings_only_what_changed(work) -> None:  # type: ignore[no-untyped-def]
    calendar, account, found = work
    kept = calendar.save_event(event("kept", "DTSTART:20261202T150000Z\r\nDTEND:20261202T160000Z\r\n"))
    gone = calendar.save_event(event("gone", "DTSTART:20261203T150000Z\r\nDTEND:20261203T160000Z\r\n"))
    first = changes_since(account, found.url)
    assert len(first.changed) == 2 and kept is not None
    calendar.save_event(event("new", "DTSTART:20261204T150000Z\r\nDTEND:20261204T160000Z\r\n"))
    gone.delete()
    second = changes_since(account, found.url, first.token)
    assert not second.full and second.token != first.token
    assert [href.rsplit("/", 1)[-1] for href in second.changed] == ["new.ics"]
    assert [href.rsplit("/", 1)[-1] for href in second.deleted] == ["gone.ics"]
    assert busy(second) == [(utc(2026, 12, 4, 15), utc(2026, 12, 4, 16))]


def test_a_token_the_server_forgot_gives_a_full_read(work) -> None:  # type: ignore[no-untyped-def]
    calendar, account, found = work
    calendar.save_event(event("one", "DTSTART:20261202T150000Z\r\nDTEND:20261202T160000Z\r\n"))
    changes = changes_since(account, found.url, "http://radicale.org/ns/sync/not-a-token")
    assert changes.full and len(changes.changed) == 1 and changes.token
