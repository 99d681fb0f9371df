"""The slot engine on ordinary days: windows, busy time, buffers, notice, horizon, cap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching.availability import Availability, SlotRules, free_slots, local_day_bounds, wall_time_to_utc

# Monday 2026-06-01; the coach works in UTC unless a test says otherwise.
MONDAY = date(2026, 6, 1)
EARLY = datetime(2026, 5, 1, tzinfo=UTC)  # a "now" long before every window
NINE_TO_FIVE = {weekday: [(time(9), time(17))] for weekday in range(5)}


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def slots(
    *,
    weekly: Mapping[int, Sequence[tuple[time, time]]] | None = None,
    overrides: Mapping[date, Sequence[tuple[time, time]]] | None = None,
    zone: str = "UTC",
    busy: Sequence[tuple[datetime, datetime]] = (),
    now: datetime = EARLY,
    start: datetime | None = None,
    end: datetime | None = None,
    booked_per_day: Mapping[date, int] | None = None,
    duration: int = 30,
    step: int = 30,
    **rules: object,
) -> list[datetime]:
    return free_slots(
        availability=Availability(
            zone=ZoneInfo(zone),
            weekly=NINE_TO_FIVE if weekly is None else weekly,
            overrides=overrides or {},
        ),
        rules=SlotRules(duration=minutes(duration), step=minutes(step), **rules),  # type: ignore[arg-type]
        busy=busy,
        now=now,
        window_start=start or at(0),
        window_end=end or at(0, day=MONDAY + timedelta(days=1)),
        booked_per_day=booked_per_day,
    )


def test_it_offers_every_step_of_a_working_day() -> None:
    """09:00-17:00 with 30-minute calls every 30 minutes: 16 slots, the last at 16:30."""
    result = slots()
    assert result == [at(9) + minutes(30 * i) for i in range(16)]
    assert all(s.tzinfo is UTC for s in result)


def test_it_offers_nothing_on_a_day_without_hours() -> None:
    """Saturday has no weekly hours: no slots."""
    saturday = MONDAY + timedelta(days=5)
    assert slots(start=at(0, day=saturday), end=at(23, day=saturday)) == []


def test_it_keeps_calls_inside_one_window() -> None:
    """A 60-minute call does not start at 16:30; nor does one span two windows."""
    result = slots(weekly={0: [(time(9), time(10)), (time(10), time(11))]}, duration=60)
    assert result == [at(9), at(10)]


def test_it_aligns_starts_to_the_step_from_the_window_start() -> None:
    """A window opening at 09:10 with a 20-minute step offers 09:10, 09:30, 09:50."""
    result = slots(weekly={0: [(time(9, 10), time(10, 20))]}, duration=30, step=20)
    assert result == [at(9, 10), at(9, 30), at(9, 50)]


def test_it_counts_the_window_bounds_half_open() -> None:
    """window_start is included, window_end excluded."""
    assert slots(start=at(10), end=at(11)) == [at(10), at(10, 30)]


def test_it_removes_slots_overlapping_a_busy_interval() -> None:
    """Busy 10:00-11:00 removes 10:00 and 10:30 only; 09:30 ends as the busy time starts."""
    result = slots(busy=[(at(10), at(11))], start=at(9), end=at(12))
    assert result == [at(9), at(9, 30), at(11), at(11, 30)]


def test_it_jumps_back_on_the_step_after_a_busy_interval() -> None:
    """After busy time ending 10:10 the next start is 10:30, the next step of the window."""
    result = slots(busy=[(at(9, 50), at(10, 10))], start=at(9), end=at(11))
    assert result == [at(9), at(10, 30)]


def test_it_applies_the_new_calls_buffers_around_busy_time() -> None:
    """With 15 minutes before and after, a call must end 15 min before and start 15 min after busy time."""
    result = slots(
        busy=[(at(11), at(12))],
        start=at(9),
        end=at(14),
        step=15,
        buffer_before=minutes(15),
        buffer_after=minutes(15),
    )
    assert at(10, 15) in result  # ends 10:45, buffer to 11:00: touching is fine
    assert at(10, 30) not in result
    assert at(12) not in result  # its 15 minutes before would overlap
    assert at(12, 15) in result
    assert [s for s in result if at(10, 15) < s < at(12, 15)] == []


def test_it_allows_back_to_back_calls_without_buffers() -> None:
    """A booking 10:00-10:30 leaves 09:30 and 10:30 free."""
    result = slots(busy=[(at(10), at(10, 30))], start=at(9, 30), end=at(11))
    assert result == [at(9, 30), at(10, 30)]


def test_it_merges_overlapping_and_unsorted_busy_intervals() -> None:
    """Busy intervals may come in any order, overlap and touch; 12:30-13:00 stays free."""
    busy = [(at(13), at(14)), (at(10), at(11)), (at(10, 30), at(12)), (at(11, 30), at(12, 30))]
    result = slots(busy=busy, start=at(9), end=at(17))
    assert result == [
        at(9),
        at(9, 30),
        at(12, 30),
        at(14),
        at(14, 30),
        at(15),
        at(15, 30),
        at(16),
        at(16, 30),
    ]


def test_it_accepts_busy_times_in_any_zone() -> None:
    """An aware busy interval in Berlin time blocks the same instants."""
    berlin = ZoneInfo("Europe/Berlin")
    busy = [(at(10).astimezone(berlin), at(11).astimezone(berlin))]
    assert slots(busy=busy, start=at(9), end=at(12)) == [at(9), at(9, 30), at(11), at(11, 30)]


def test_it_ignores_empty_and_inverted_busy_intervals() -> None:
    """A busy interval that ends before it starts blocks nothing."""
    assert slots(busy=[(at(11), at(10)), (at(12), at(12))], start=at(9), end=at(13)) == [
        at(9) + minutes(30 * i) for i in range(8)
    ]


def test_it_applies_minimum_notice() -> None:
    """Nothing starts earlier than now + min_notice."""
    result = slots(now=at(8, 10), min_notice=minutes(120))
    assert result[0] == at(10, 30)


def test_it_applies_the_horizon_inclusively() -> None:
    """Nothing starts later than now + horizon; a start exactly there is offered."""
    result = slots(now=at(8), horizon=timedelta(hours=3))
    assert result[-1] == at(11)


def test_it_blocks_a_day_that_reached_the_cap() -> None:
    """With a cap of 2 and 2 bookings on Monday, Monday has no slots; Tuesday still does."""
    tuesday = MONDAY + timedelta(days=1)
    result = slots(
        daily_cap=2,
        booked_per_day={MONDAY: 2, tuesday: 1},
        end=at(0, day=MONDAY + timedelta(days=2)),
    )
    assert result
    assert {s.date() for s in result} == {tuesday}


def test_it_offers_nothing_with_a_cap_of_zero() -> None:
    assert slots(daily_cap=0) == []


def test_it_counts_the_cap_per_coach_local_day() -> None:
    """A coach in Tokyo working 08:00-10:00: Monday local is Sunday 23:00-01:00 UTC."""
    monday_tokyo = {0: [(time(8), time(10))]}
    result = slots(
        weekly=monday_tokyo,
        zone="Asia/Tokyo",
        start=at(0, day=MONDAY - timedelta(days=1)),
        end=at(0, day=MONDAY + timedelta(days=1)),
        daily_cap=1,
        booked_per_day={MONDAY: 1},
    )
    assert result == []
    assert slots(
        weekly=monday_tokyo,
        zone="Asia/Tokyo",
        start=at(0, day=MONDAY - timedelta(days=1)),
        end=at(0, day=MONDAY + timedelta(days=1)),
        daily_cap=1,
        booked_per_day={MONDAY - timedelta(days=1): 5},
    ) == [at(23, day=MONDAY - timedelta(days=1)) + minutes(30 * i) for i in range(4)]


def test_it_lets_an_override_close_a_date() -> None:
    """An empty override makes Monday unavailable."""
    assert slots(overrides={MONDAY: []}) == []


def test_it_lets_an_override_replace_the_weekly_hours() -> None:
    """Saturday override 10:00-11:00 opens Saturday; a Monday override replaces 09:00-17:00."""
    saturday = MONDAY + timedelta(days=5)
    result = slots(
        overrides={saturday: [(time(10), time(11))], MONDAY: [(time(13), time(14))]},
        end=at(0, day=MONDAY + timedelta(days=7)),
    )
    monday = [s for s in result if s.date() == MONDAY]
    assert monday == [at(13), at(13, 30)]
    assert [s for s in result if s.date() == saturday] == [at(10, day=saturday), at(10, 30, day=saturday)]


def test_it_removes_duplicates_from_overlapping_override_windows() -> None:
    """Two override rows 09:00-11:00 and 10:00-12:00 give each start once, sorted."""
    result = slots(overrides={MONDAY: [(time(10), time(12)), (time(9), time(11))]})
    assert result == [at(9) + minutes(30 * i) for i in range(6)]


def test_it_offers_a_window_ending_just_before_midnight() -> None:
    """A window 23:00-23:59:59 takes a 30-minute call at 23:00 and 23:29 does not fit the step."""
    assert slots(weekly={0: [(time(23), time(23, 59, 59))]}) == [at(23)]


def test_it_converts_wall_times_in_the_coaches_zone() -> None:
    """09:00 in Asia/Kolkata (UTC+05:30) is 03:30 UTC."""
    result = slots(zone="Asia/Kolkata", start=at(0), end=at(12))
    assert result[0] == at(3, 30)
    assert result[-1] == at(11)


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration", timedelta(0)), ("step", -minutes(5)), ("buffer_before", -minutes(1)), ("daily_cap", -1)],
)
def test_it_refuses_nonsense_rules(field: str, value: object) -> None:
    rules = {"duration": minutes(30), "step": minutes(30), field: value}
    with pytest.raises(ValueError):
        free_slots(
            availability=Availability(zone=ZoneInfo("UTC"), weekly=NINE_TO_FIVE, overrides={}),
            rules=SlotRules(**rules),  # type: ignore[arg-type]
            busy=[],
            now=EARLY,
            window_start=at(0),
            window_end=at(23),
        )


@pytest.mark.parametrize("which", ["now", "start", "end"])
def test_it_refuses_naive_datetimes(which: str) -> None:
    naive = datetime(2026, 6, 1, 9)
    kwargs = {"now": EARLY, "start": at(0), "end": at(23), which: naive}
    with pytest.raises(ValueError, match="aware"):
        slots(**kwargs)  # type: ignore[arg-type]


def test_it_refuses_naive_busy_intervals() -> None:
    with pytest.raises(ValueError, match="aware"):
        slots(busy=[(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 11))])


def test_it_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="end after"):
        slots(weekly={0: [(time(12), time(9))]})


def test_it_returns_nothing_for_an_empty_window() -> None:
    assert slots(start=at(12), end=at(12)) == []
    assert slots(start=at(12), end=at(9)) == []


def test_it_gives_local_day_bounds_in_utc() -> None:
    """A Kolkata day starts at 18:30 UTC the day before; a fixed-offset zone works too."""
    assert local_day_bounds(ZoneInfo("Asia/Kolkata"), MONDAY) == (
        datetime(2026, 5, 31, 18, 30, tzinfo=UTC),
        datetime(2026, 6, 1, 18, 30, tzinfo=UTC),
    )
    assert local_day_bounds(ZoneInfo("UTC"), MONDAY) == (at(0), at(0, day=MONDAY + timedelta(days=1)))
    assert wall_time_to_utc(ZoneInfo("UTC"), MONDAY, time(9)).tzinfo is UTC
