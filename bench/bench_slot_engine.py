"""The slot engine alone (coaching/availability.py): no database, no Django.

A coach in America/New_York with 3 windows a day, Monday to Sunday, 20 date
overrides, 300 bookings with buffers and 1,000 busy blocks spread over a year.
Targets (DESIGN.md "Performance targets", issue 18): medians of 30 days under 0.2 ms
and 365 days under 2 ms on the 2-core machines; the time must grow no faster than
n log n in the number of busy intervals. Each figure is printed with its target and
the ratio figure / target (under 1 meets it).

Reproduce: .venv/bin/python -m bench bench_slot_engine
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from coaching.availability import Availability, SlotRules, free_slots

ZONE = ZoneInfo("America/New_York")
FIRST_DAY = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)  # midnight in New York
RULES = SlotRules(
    duration=timedelta(minutes=30),
    step=timedelta(minutes=15),
    buffer_before=timedelta(minutes=10),
    buffer_after=timedelta(minutes=10),
    min_notice=timedelta(hours=4),
    horizon=timedelta(days=400),
    daily_cap=6,
)


def availability() -> Availability:
    windows = [(time(8), time(11)), (time(12), time(15)), (time(16), time(19))]
    rng = random.Random(3)
    overrides: dict[date, list[tuple[time, time]]] = {}
    for i in range(20):
        day = FIRST_DAY + timedelta(days=rng.randrange(365))
        overrides[day] = [] if i % 2 else [(time(10), time(14))]
    return Availability(zone=ZONE, weekly=dict.fromkeys(range(7), windows), overrides=overrides)


def busy_intervals(
    n_blocks: int, n_bookings: int = 0, days: int = 365, seed: int = 1
) -> list[tuple[datetime, datetime]]:
    """Busy blocks (15-120 min) and bookings (30 min widened by 15 min each side), shuffled."""
    rng = random.Random(seed)
    start = datetime.combine(FIRST_DAY, time(0), tzinfo=UTC)
    minutes = days * 24 * 60
    intervals = []
    for _ in range(n_blocks):
        begin = start + timedelta(minutes=5 * rng.randrange(minutes // 5))
        intervals.append((begin, begin + timedelta(minutes=rng.choice((15, 30, 60, 90, 120)))))
    for _ in range(n_bookings):
        begin = start + timedelta(minutes=15 * rng.randrange(minutes // 15))
        intervals.append((begin - timedelta(minutes=15), begin + timedelta(minutes=45)))
    rng.shuffle(intervals)
    return intervals


def night_blocks(n: int, days: int = 365) -> list[tuple[datetime, datetime]]:
    """n short busy blocks between 00:00 and 06:00 New York time, shuffled."""
    rng = random.Random(n)
    intervals = []
    for _ in range(n):
        day = FIRST_DAY + timedelta(days=rng.randrange(days))
        begin = datetime.combine(day, time(rng.randrange(6), 5 * rng.randrange(6)), tzinfo=ZONE)
        intervals.append((begin.astimezone(UTC), (begin + timedelta(minutes=20)).astimezone(UTC)))
    return intervals


def booked_per_day(busy: list[tuple[datetime, datetime]]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for start, _ in busy[::40]:
        day = start.astimezone(ZONE).date()
        counts[day] = counts.get(day, 0) + 3
    return counts


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 10) -> float:
    """Median wall time of ``fn()`` in ms, garbage collector paused as timeit does."""
    for _ in range(warmup):
        fn()
    samples = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            t0 = clock.perf_counter_ns()
            fn()
            samples.append(clock.perf_counter_ns() - t0)
    finally:
        gc.enable()
    return statistics.median(samples) / 1e6


def run(avail: Availability, busy: list[tuple[datetime, datetime]], days: int, counts: dict[date, int]):
    window_start = NOW
    window_end = NOW + timedelta(days=days)
    return lambda: free_slots(
        availability=avail,
        rules=RULES,
        busy=busy,
        now=NOW,
        window_start=window_start,
        window_end=window_end,
        booked_per_day=counts,
    )


def main() -> None:
    avail = availability()
    busy = busy_intervals(n_blocks=1000, n_bookings=300)
    counts = booked_per_day(busy)
    print("Engine alone: 3 windows a day (Mon-Sun), 20 overrides, 300 bookings with buffers,")
    print("1,000 busy blocks over a year, 30-min calls every 15 min, 10-min buffers, cap 6 a day.\n")
    print(
        f"| {'window':>8} | {'runs':>4} | {'slots':>5} | {'median ms':>9} | {'target ms':>9} | {'ratio':>5} |"
    )
    print(f"|{'-' * 10}|{'-' * 6}|{'-' * 7}|{'-' * 11}|{'-' * 11}|{'-' * 7}|")
    failures = []
    for days, runs, target in ((30, 200, 0.2), (365, 50, 2.0)):
        fn = run(avail, busy, days, counts)
        slots = len(fn())  # type: ignore[arg-type]
        ms = median_ms(fn, runs)
        print(
            f"| {days:>4} day | {runs:>4} | {slots:>5} | {ms:>9.3f} | {target:>9.1f} | {ms / target:>5.2f} |"
        )
        if ms >= target:
            failures.append(f"{days} days: {ms:.3f} ms >= {target} ms")

    print("\nGrowth with the number of busy intervals n, over a fixed 365-day window. The intervals")
    print("(shuffled) fall at night, outside the windows, so the slots emitted stay the same and")
    print("'busy part' (the median minus the median with no busy intervals) is the busy handling alone:\n")
    print(
        f"| {'n':>6} | {'slots':>5} | {'median ms':>9} | {'busy part ms':>12} | {'x per doubling':>14} | {'n log n':>7} |"
    )
    print(f"|{'-' * 8}|{'-' * 7}|{'-' * 11}|{'-' * 14}|{'-' * 16}|{'-' * 9}|")
    base_fn = run(avail, [], 365, {})
    base = median_ms(base_fn, runs=50, warmup=5)
    print(f"| {0:>6} | {len(base_fn()):>5} | {base:>9.3f} | {'':>12} | {'':>14} | {'':>7} |")
    previous: tuple[int, float] | None = None
    for n in (1000, 2000, 4000, 8000, 16000):
        fn = run(avail, night_blocks(n), 365, {})
        ms = median_ms(fn, runs=50, warmup=5)
        part = ms - base
        ratio = expected = ""
        if previous is not None:
            ratio = f"{part / previous[1]:.2f}"
            expected = f"{(n * math.log(n)) / (previous[0] * math.log(previous[0])):.2f}"
        print(f"| {n:>6} | {len(fn()):>5} | {ms:>9.3f} | {part:>12.3f} | {ratio:>14} | {expected:>7} |")
        previous = (n, part)
    print("\nReproduce: .venv/bin/python -m bench bench_slot_engine")
    if failures:
        print("FAILED: " + "; ".join(failures))
