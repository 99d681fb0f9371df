"""The sync's shortcut for events far outside the horizon (``_outside``): past and far-future
single events are skipped unparsed; anything that repeats, lasts a DURATION, spans the window or
is near its edges is parsed as usual."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coaching.caldav_services import _outside

START = datetime(2026, 11, 30, 12, tzinfo=UTC)
END = datetime(2027, 2, 1, 12, tzinfo=UTC)
BERLIN = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def resource(*lines: str, zones: str = "") -> bytes:
    body = "\r\n".join(("UID:x@example.com", "DTSTAMP:20260101T000000Z", *lines))
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{zones}BEGIN:VEVENT\r\n{body}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("lines", "zones", "outside"),
    [
        (("DTSTART:20240105T090000Z", "DTEND:20240105T100000Z"), "", True),
        (("DTSTART:20280105T090000Z", "DTEND:20280105T100000Z"), "", True),
        (("DTSTART;VALUE=DATE:20240105", "DTEND;VALUE=DATE:20240106"), "", True),
        (
            ("DTSTART;TZID=Europe/Berlin:20240105T090000", "DTEND;TZID=Europe/Berlin:20240105T100000"),
            BERLIN,
            True,
        ),
        (
            ("DTSTART;TZID=Europe/Ber\r\n lin:20240105T090000", "DTEND;TZID=Europe/Berlin:20240105T100000"),
            BERLIN,
            True,
        ),
        (("dtstart:20240105T090000Z", "dtend:20240105T100000Z"), "", True),
        (("DTSTART:20240105T090000Z",), "", True),
        # Parsed as usual:
        (("DTSTART:20261215T090000Z", "DTEND:20261215T100000Z"), "", False),  # in the window
        (("DTSTART:20240105T090000Z", "DTEND:20270105T100000Z"), "", False),  # spans it
        (("DTSTART:20261129T090000Z", "DTEND:20261129T100000Z"), "", False),  # a day before: a zone away
        (("DTSTART:20240105T090000Z", "DTEND:20240105T100000Z", "RRULE:FREQ=WEEKLY"), "", False),
        (("DTSTART:20240105T090000Z", "RDATE:20261215T090000Z"), "", False),
        (("DTSTART:20240105T090000Z", "DURATION:P1000W"), "", False),
        (("SUMMARY:no start",), "", False),
        (("DTSTART:2024010", "DTEND:20240105T100000Z"), "", False),
    ],
)
def test_outside(lines: tuple[str, ...], zones: str, outside: bool) -> None:
    assert _outside(resource(*lines, zones=zones), START, END) is outside


def test_a_moved_occurrence_is_parsed() -> None:
    data = resource("RECURRENCE-ID:20240105T090000Z", "DTSTART:20240105T090000Z", "DTEND:20240105T100000Z")
    assert _outside(data, START, END) is False
