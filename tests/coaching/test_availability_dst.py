"""DST days, half-hour zones and the date line: the exact slots, listed in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.slots import offering_free_slots
from coaching.availability import Availability, SlotRules, free_slots, local_day_bounds, wall_time_to_utc
from coaching.models import Offering

NY = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"


def utc(text: str) -> datetime:
    """'2026-03-08 06:30' read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day_slots(
    zone: str, day: date, windows: list[tuple[time, time]], *, duration: int = 30, step: int = 30
) -> list[datetime]:
    """The slots of one date whose only rule is ``windows`` (an override), nothing busy."""
    start, end = local_day_bounds(ZoneInfo(zone), day)
    return free_slots(
        availability=Availability(zone=ZoneInfo(zone), weekly={}, overrides={day: windows}),
        rules=SlotRules(duration=timedelta(minutes=duration), step=timedelta(minutes=step)),
        busy=[],
        now=start - timedelta(days=30),
        window_start=start - timedelta(days=2),
        window_end=end + timedelta(days=2),
    )


CASES = [
    # --- America/New_York, spring forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z)
    pytest.param(
        NY,
        date(2026, 3, 8),
        time(1),
        time(3),
        30,
        30,
        ["06:00", "06:30"],
        id="ny-spring-01-03-only-the-real-hour",
    ),
    pytest.param(
        NY, date(2026, 3, 8), time(2), time(2, 30), 30, 30, [], id="ny-spring-inside-the-gap-nothing"
    ),
    pytest.param(
        NY,
        date(2026, 3, 8),
        time(2, 30),
        time(4),
        30,
        30,
        ["07:00", "07:30"],
        id="ny-spring-gap-start-maps-to-03",
    ),
    pytest.param(
        NY,
        date(2026, 3, 8),
        time(0),
        time(4),
        60,
        60,
        ["05:00", "06:00", "07:00"],
        id="ny-spring-00-04-is-three-hours",
    ),
    # --- America/New_York, fall back 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z); 01:00-02:00 repeats
    pytest.param(
        NY,
        date(2026, 11, 1),
        time(0),
        time(3),
        30,
        30,
        ["04:00", "04:30", "05:00", "05:30", "07:00", "07:30"],
        id="ny-fall-00-03-is-three-hours-not-four",
    ),
    pytest.param(
        NY,
        date(2026, 11, 1),
        time(1),
        time(2),
        30,
        30,
        ["05:00", "05:30"],
        id="ny-fall-repeated-hour-offered-once",
    ),
    pytest.param(
        NY, date(2026, 11, 1), time(1, 30), time(2, 30), 60, 30, [], id="ny-fall-no-call-runs-into-the-repeat"
    ),
    # --- Europe/Berlin, spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z)
    pytest.param(
        BERLIN, date(2026, 3, 29), time(1), time(3), 30, 30, ["00:00", "00:30"], id="berlin-spring-01-03"
    ),
    # --- Europe/Berlin, fall back 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z); 02:00-03:00 repeats
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        time(1),
        time(4),
        30,
        30,
        ["2026-10-24 23:00", "2026-10-24 23:30", "00:00", "00:30", "02:00", "02:30"],
        id="berlin-fall-01-04-is-three-hours",
    ),
    # --- Australia/Lord_Howe, 30-minute shift. 2026-04-05: 02:00 (+11) -> 01:30 (+10:30) at 15:00Z
    pytest.param(
        LORD_HOWE,
        date(2026, 4, 5),
        time(1),
        time(3),
        30,
        30,
        ["2026-04-04 14:00", "2026-04-04 14:30", "2026-04-04 15:30", "2026-04-04 16:00"],
        id="lord-howe-fall-01-03-drops-the-repeated-half-hour",
    ),
    pytest.param(
        LORD_HOWE,
        date(2026, 4, 5),
        time(0),
        time(3),
        60,
        60,
        ["2026-04-04 13:00", "2026-04-04 14:00", "2026-04-04 15:30"],
        id="lord-howe-fall-hourly-keeps-00-01-02",
    ),
    # 2026-10-04: 02:00 (+10:30) -> 02:30 (+11) at 15:30Z
    pytest.param(
        LORD_HOWE,
        date(2026, 10, 4),
        time(1),
        time(3),
        30,
        30,
        ["2026-10-03 14:30", "2026-10-03 15:00", "2026-10-03 15:30"],
        id="lord-howe-spring-01-03-is-ninety-minutes",
    ),
    pytest.param(
        LORD_HOWE,
        date(2026, 10, 4),
        time(2),
        time(2, 30),
        15,
        15,
        [],
        id="lord-howe-spring-inside-the-gap-nothing",
    ),
    pytest.param(
        LORD_HOWE,
        date(2026, 10, 4),
        time(2, 15),
        time(3),
        30,
        30,
        ["2026-10-03 15:30"],
        id="lord-howe-spring-gap-start-maps-to-02-30",
    ),
    # --- America/Havana changes at midnight: 2026-03-08 00:00 -> 01:00; 2026-11-01 01:00 -> 00:00
    pytest.param(
        "America/Havana",
        date(2026, 3, 8),
        time(0),
        time(2),
        30,
        30,
        ["05:00", "05:30"],
        id="havana-spring-midnight-does-not-exist",
    ),
    pytest.param(
        "America/Havana",
        date(2026, 11, 1),
        time(0),
        time(2),
        30,
        30,
        ["04:00", "04:30", "06:00", "06:30"],
        id="havana-fall-00-01-offered-once",
    ),
    # --- Asia/Kolkata, UTC+05:30 all year
    pytest.param(
        KOLKATA,
        date(2026, 3, 8),
        time(9),
        time(10),
        30,
        30,
        ["03:30", "04:00"],
        id="kolkata-half-hour-offset",
    ),
    pytest.param(
        KOLKATA,
        date(2026, 11, 1),
        time(0),
        time(1),
        30,
        30,
        ["2026-10-31 18:30", "2026-10-31 19:00"],
        id="kolkata-midnight-is-the-day-before-in-utc",
    ),
]


@pytest.mark.parametrize(("zone", "day", "start", "end", "duration", "step", "expected"), CASES)
def test_it_offers_exactly_the_real_slots_on_a_changed_day(
    zone: str, day: date, start: time, end: time, duration: int, step: int, expected: list[str]
) -> None:
    """A rule crossing the changed hour gives exactly these UTC instants (times without a date are on ``day``)."""
    instants = [utc(text if len(text) > 5 else f"{day} {text}") for text in expected]
    assert day_slots(zone, day, [(start, end)], duration=duration, step=step) == instants


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (NY, date(2026, 3, 8)),
        (NY, date(2026, 11, 1)),
        (BERLIN, date(2026, 3, 29)),
        (BERLIN, date(2026, 10, 25)),
        (LORD_HOWE, date(2026, 4, 5)),
        (LORD_HOWE, date(2026, 10, 4)),
        (KOLKATA, date(2026, 3, 29)),
    ],
)
def test_it_keeps_nine_to_five_at_nine_local_across_the_change(zone: str, day: date) -> None:
    """Every day from the day before to the day after offers 09:00-16:30 local, 16 slots."""
    tz = ZoneInfo(zone)
    days = [day - timedelta(days=1), day, day + timedelta(days=1)]
    start = local_day_bounds(tz, days[0])[0]
    end = local_day_bounds(tz, days[-1])[1]
    result = free_slots(
        availability=Availability(
            zone=tz, weekly=dict.fromkeys(range(7), [(time(9), time(17))]), overrides={}
        ),
        rules=SlotRules(duration=timedelta(minutes=30), step=timedelta(minutes=30)),
        busy=[],
        now=start - timedelta(days=1),
        window_start=start,
        window_end=end,
    )
    for each in days:
        local = [s.astimezone(tz) for s in result if s.astimezone(tz).date() == each]
        assert [s.time() for s in local] == [time(9 + i // 2, 30 * (i % 2)) for i in range(16)]


@pytest.mark.parametrize("zone", [NY, BERLIN, LORD_HOWE])
@pytest.mark.parametrize("step", [5, 15, 20, 45])
def test_it_never_offers_one_wall_time_twice_on_a_fall_back_day(zone: str, step: int) -> None:
    """Round the clock on the fall-back day: every local wall time appears at most once."""
    day = {NY: date(2026, 11, 1), BERLIN: date(2026, 10, 25), LORD_HOWE: date(2026, 4, 5)}[zone]
    tz = ZoneInfo(zone)
    result = day_slots(zone, day, [(time(0), time(23, 59))], duration=step, step=step)
    walls = [s.astimezone(tz).replace(tzinfo=None, fold=0) for s in result]
    assert len(walls) == len(set(walls))
    assert all(s.astimezone(tz).fold == 0 for s in result)
    # The day is 24 real hours plus the shift, minus the repeated wall times: 24 hours of wall clock.
    assert result[-1] + timedelta(minutes=step) <= local_day_bounds(tz, day)[1]


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        (NY, date(2026, 3, 8), time(2, 30), "2026-03-08 07:00"),  # gap -> the transition
        (NY, date(2026, 11, 1), time(1, 30), "2026-11-01 05:30"),  # fold -> the first occurrence
        (LORD_HOWE, date(2026, 10, 4), time(2, 10), "2026-10-03 15:30"),
        (LORD_HOWE, date(2026, 4, 5), time(1, 45), "2026-04-04 14:45"),
        (KOLKATA, date(2026, 6, 1), time(0), "2026-05-31 18:30"),
    ],
)
def test_it_maps_a_wall_time_to_its_first_instant(zone: str, day: date, at: time, expected: str) -> None:
    assert wall_time_to_utc(ZoneInfo(zone), day, at) == utc(expected)


def test_it_knows_a_spring_forward_day_is_23_hours() -> None:
    start, end = local_day_bounds(ZoneInfo(NY), date(2026, 3, 8))
    assert (start, end) == (utc("2026-03-08 05:00"), utc("2026-03-09 04:00"))
    start, end = local_day_bounds(ZoneInfo(LORD_HOWE), date(2026, 4, 5))
    assert end - start == timedelta(hours=24, minutes=30)


def test_it_offers_nothing_on_a_calendar_day_that_was_skipped() -> None:
    """Samoa skipped 2011-12-30 (UTC-10 -> UTC+14): the days around it keep 09:00 and 13:00."""
    apia = ZoneInfo("Pacific/Apia")
    start = utc("2011-12-28 00:00")
    result = free_slots(
        availability=Availability(
            zone=apia, weekly=dict.fromkeys(range(7), [(time(9), time(17))]), overrides={}
        ),
        rules=SlotRules(duration=timedelta(hours=4), step=timedelta(hours=4)),
        busy=[],
        now=start - timedelta(days=1),
        window_start=start,
        window_end=start + timedelta(days=4),
    )
    local = [s.astimezone(apia) for s in result]
    assert date(2011, 12, 30) not in {s.date() for s in local}
    assert [(s.date().day, s.hour) for s in local] == [(d, h) for d in (28, 29, 31, 1) for h in (9, 13)]
    assert local_day_bounds(apia, date(2011, 12, 30)) == (utc("2011-12-30 10:00"), utc("2011-12-30 10:00"))


@pytest.mark.django_db
def test_it_shows_the_same_instants_on_different_dates_across_the_date_line(offering: Offering) -> None:
    """A New York coach's Monday: Tuesday for a client in Kiritimati (UTC+14), Monday in Pago Pago (UTC-11)."""
    monday = date(2026, 6, 1)
    now = utc("2026-05-25 00:00")
    kiritimati, pago_pago = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")

    seen_east = offering_free_slots(
        offering=offering,
        start=monday + timedelta(days=1),
        end=monday + timedelta(days=1),
        tz=kiritimati,
        now=now,
    )
    seen_west = offering_free_slots(offering=offering, start=monday, end=monday, tz=pago_pago, now=now)

    coach_monday = [utc("2026-06-01 13:00") + timedelta(minutes=30 * i) for i in range(16)]
    assert seen_east == seen_west == coach_monday
    assert {s.astimezone(kiritimati).date() for s in seen_east} == {monday + timedelta(days=1)}
    assert {s.astimezone(pago_pago).date() for s in seen_west} == {monday}
    assert {s.astimezone(ZoneInfo(NY)).date() for s in seen_west} == {monday}
