"""Property tests: random rules, overrides, busy time and windows across DST days.

Every test checks the engine against facts recomputed here the slow, obvious way:
walking the coach's day in 5-minute cells (all rule times, offsets and DST changes
of these zones fall on that grid) and asking zoneinfo for each cell's wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.availability import Availability, SlotRules, free_slots

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]
# The DST changes of 2026 in the zones that have them.
DST_DAYS = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
]
CELL = timedelta(minutes=5)
GRID_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
Windows = list[tuple[time, time]]


@dataclass(frozen=True)
class Scenario:
    zone: ZoneInfo
    weekly: dict[int, Windows]
    overrides: dict[date, Windows]
    rules: SlotRules
    busy: list[tuple[datetime, datetime]]
    booked_per_day: dict[date, int]
    now: datetime
    window_start: datetime
    window_end: datetime

    def run(self) -> list[datetime]:
        return free_slots(
            availability=Availability(zone=self.zone, weekly=self.weekly, overrides=self.overrides),
            rules=self.rules,
            busy=self.busy,
            now=self.now,
            window_start=self.window_start,
            window_end=self.window_end,
            booked_per_day=self.booked_per_day,
        )

    def windows_of(self, day: date) -> Windows:
        return self.overrides[day] if day in self.overrides else self.weekly.get(day.weekday(), [])


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _wall(cell_index: int) -> time:
    return time(cell_index * 5 // 60, cell_index * 5 % 60)


# Windows of one day on the 5-minute grid, not overlapping; sometimes a window known to
# cross the DST hours.
day_windows = st.one_of(
    st.lists(st.integers(0, 287), min_size=0, max_size=8, unique=True).map(
        lambda points: [(_wall(a), _wall(b)) for a, b in zip(*[iter(sorted(points))] * 2, strict=False)]
    ),
    st.sampled_from(
        [
            [(time(0), time(4))],
            [(time(1), time(3))],
            [(time(2), time(2, 30))],
            [(time(1, 30), time(2, 30)), (time(3), time(4))],
            [(time(0), time(23, 55))],
            [(time(9), time(17))],
        ]
    ),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone_name, base = draw(
        st.one_of(
            st.sampled_from(DST_DAYS),
            st.tuples(st.sampled_from(ZONES), st.dates(date(2024, 1, 1), date(2027, 12, 31))),
        )
    )
    zone = ZoneInfo(zone_name)
    midnight = datetime.combine(base, time(0), tzinfo=zone).astimezone(UTC)
    window_start = midnight + _minutes(draw(st.integers(-24 * 60, 12 * 60)))
    window_end = window_start + _minutes(draw(st.one_of(st.integers(0, 3 * 24 * 60), st.just(3 * 24 * 60))))
    days = [base + timedelta(days=i) for i in range(-3, 6)]

    weekly = dict(enumerate(draw(st.lists(day_windows, min_size=7, max_size=7))))
    overrides = draw(st.dictionaries(st.sampled_from(days), day_windows, max_size=4))
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        begin = window_start + _minutes(draw(st.integers(-24 * 60, 5 * 24 * 60)))
        busy.append((begin, begin + _minutes(draw(st.integers(1, 6 * 60)))))
    rules = SlotRules(
        duration=_minutes(
            draw(st.one_of(st.sampled_from([15, 30, 60]), st.integers(1, 36).map(lambda n: 5 * n)))
        ),
        step=_minutes(draw(st.one_of(st.sampled_from([15, 30]), st.integers(1, 24).map(lambda n: 5 * n)))),
        buffer_before=_minutes(draw(st.sampled_from([0, 5, 10, 15, 30, 45]))),
        buffer_after=_minutes(draw(st.sampled_from([0, 5, 10, 15, 30, 45]))),
        min_notice=_minutes(
            draw(st.one_of(st.just(0), st.integers(0, 12 * 60), st.integers(0, 3 * 24 * 60)))
        ),
        horizon=draw(st.one_of(st.none(), st.integers(0, 5 * 24 * 60).map(_minutes))),
        daily_cap=draw(st.one_of(st.none(), st.none(), st.integers(0, 3))),
    )
    booked = draw(st.dictionaries(st.sampled_from(days), st.integers(0, 4), max_size=5))
    # Mostly before the window (the usual case), sometimes inside it or after it.
    now = window_start + timedelta(
        seconds=draw(st.one_of(st.integers(-3 * 24 * 3600, 0), st.integers(-3 * 24 * 3600, 2 * 24 * 3600)))
    )
    return Scenario(zone, weekly, overrides, rules, busy, booked, now, window_start, window_end)


@dataclass(frozen=True)
class Cell:
    label: tuple[date, int] | None  # (local date, index of the rule window) or None: not available
    piece_start: datetime | None  # the first instant of the run of cells with this label


def cells(scenario: Scenario) -> dict[datetime, Cell]:
    """Each 5-minute cell around the window: which rule window of which local date it is in.

    A cell is available when its wall time is inside one of its local date's windows
    and it is the first occurrence of that wall time (``fold == 0``).
    """
    low = scenario.window_start - timedelta(days=2)
    t = GRID_ORIGIN + ((low - GRID_ORIGIN) // CELL) * CELL
    end = scenario.window_end + timedelta(days=2)
    out: dict[datetime, Cell] = {}
    previous: Cell | None = None
    while t <= end:
        local = t.astimezone(scenario.zone)
        label = None
        if local.fold == 0:
            for index, (a, b) in enumerate(scenario.windows_of(local.date())):
                if a <= local.time() < b:
                    label = (local.date(), index)
        if label is None:
            cell = Cell(None, None)
        elif previous is not None and previous.label == label:
            cell = Cell(label, previous.piece_start)
        else:
            cell = Cell(label, t)
        out[t] = previous = cell
        t += CELL
    return out


def oracle(scenario: Scenario) -> list[datetime]:
    """The free slots, recomputed cell by cell and slot by busy interval."""
    grid = cells(scenario)
    rules = scenario.rules
    expected = set()
    for t, cell in grid.items():
        if cell.label is None or cell.piece_start != t:
            continue
        day = cell.label[0]
        if rules.daily_cap is not None and scenario.booked_per_day.get(day, 0) >= rules.daily_cap:
            continue
        start = t
        while True:
            last_cell = start + rules.duration - CELL
            if (
                last_cell not in grid
                or grid[last_cell].label != cell.label
                or grid[last_cell].piece_start != t
            ):
                break
            if (
                scenario.window_start <= start < scenario.window_end
                and start >= scenario.now + rules.min_notice
                and (rules.horizon is None or start <= scenario.now + rules.horizon)
                and not any(
                    b0 < b1
                    and start - rules.buffer_before < b1
                    and b0 < start + rules.duration + rules.buffer_after
                    for b0, b1 in scenario.busy
                )
            ):
                expected.add(start)
            start += rules.step
    return sorted(expected)


SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(scenarios())
def test_it_agrees_with_a_cell_by_cell_recomputation(scenario: Scenario) -> None:
    """The engine's slots are exactly those a slow walk over 5-minute cells finds."""
    assert scenario.run() == oracle(scenario)


@SETTINGS
@given(scenarios())
def test_it_keeps_every_slot_inside_one_available_window_of_its_local_day(scenario: Scenario) -> None:
    """Every 5 minutes of a slot are in the same rule window of the slot's local date, first occurrence."""
    grid = cells(scenario)
    for start in scenario.run():
        local = start.astimezone(scenario.zone)
        labels = {grid[start + i * CELL].label for i in range(scenario.rules.duration // CELL)}
        assert len(labels) == 1
        (label,) = labels
        assert label is not None
        assert label[0] == local.date()
        a, b = scenario.windows_of(local.date())[label[1]]
        assert a <= local.time() < b
        assert local.fold == 0


@SETTINGS
@given(scenarios())
def test_it_never_overlaps_busy_time_widened_by_the_buffers(scenario: Scenario) -> None:
    """[start - buffer_before, end + buffer_after) overlaps no busy interval."""
    rules = scenario.rules
    for start in scenario.run():
        low, high = start - rules.buffer_before, start + rules.duration + rules.buffer_after
        assert all(not (b0 < high and low < b1) for b0, b1 in scenario.busy if b0 < b1)


@SETTINGS
@given(scenarios())
def test_it_aligns_starts_to_the_step_from_the_window_start(scenario: Scenario) -> None:
    """Each start is a whole number of steps after the start of its availability window."""
    grid = cells(scenario)
    for start in scenario.run():
        piece_start = grid[start].piece_start
        assert piece_start is not None
        assert (start - piece_start) % scenario.rules.step == timedelta(0)


@SETTINGS
@given(scenarios())
def test_it_respects_the_window_notice_horizon_and_cap(scenario: Scenario) -> None:
    """Inside [window_start, window_end), not before now + notice, not after now + horizon, days under the cap."""
    rules = scenario.rules
    result = scenario.run()
    for start in result:
        assert scenario.window_start <= start < scenario.window_end
        assert start >= scenario.now + rules.min_notice
        if rules.horizon is not None:
            assert start <= scenario.now + rules.horizon
        if rules.daily_cap is not None:
            assert scenario.booked_per_day.get(start.astimezone(scenario.zone).date(), 0) < rules.daily_cap


@SETTINGS
@given(scenarios())
def test_it_returns_sorted_unique_aware_utc_instants(scenario: Scenario) -> None:
    result = scenario.run()
    assert result == sorted(set(result))
    assert all(start.tzinfo is UTC for start in result)


@settings(max_examples=40, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_it_does_not_depend_on_the_order_of_busy_intervals(scenario: Scenario, rng: object) -> None:
    """Shuffled busy intervals give the same slots."""
    shuffled = list(scenario.busy)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    again = Scenario(**{**scenario.__dict__, "busy": shuffled})
    assert again.run() == scenario.run()
