"""The whole slot selector for 30 days, queries included, on the configured database.

Same shape as bench_slot_engine (3 windows a day Mon-Sun, 20 overrides, 300
bookings, 1,000 busy blocks over a year) in rows it creates for a throwaway coach
and removes at the end (inside a transaction that is rolled back).
Target: >= 20x faster than django-appointment's 126 ms for 30 days, i.e. under
6.3 ms, with at most 6 queries (DESIGN.md aims for 7 ms over HTTP).

Reproduce: .venv/bin/python -m bench bench_slot_selector
           (DATABASE_URL=postgres://... for PostgreSQL; SQLite under var/ otherwise)
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bench.bench_slot_engine import median_ms
from bench.database import skipped_unless_migrated
from booking.models import Booking
from booking.slots import offering_free_slots
from coaching.models import BusyBlock, Coach, DateOverride, Offering, WeeklyHours

FIRST_DAY = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)  # midnight in New York
PEER_MS = 126.0
TARGET_MS = PEER_MS / 20


class _Rollback(Exception):
    pass


def _create_rows() -> Offering:
    rng = random.Random(7)
    user = User.objects.create(email="bench-slot-selector@example.invalid", name="Bench")
    coach = Coach.objects.create(
        user=user, slug="bench-slot-selector", display_name="Bench", time_zone="America/New_York"
    )
    offering = Offering.objects.create(
        coach=coach,
        slug="bench",
        title="Bench call",
        duration_minutes=30,
        slot_step_minutes=15,
        buffer_before_minutes=10,
        buffer_after_minutes=10,
        min_notice_minutes=240,
        horizon_days=400,
        daily_cap=6,
    )
    WeeklyHours.objects.bulk_create(
        WeeklyHours(coach=coach, weekday=weekday, start=time(start), end=time(start + 3))
        for weekday in range(7)
        for start in (8, 12, 16)
    )
    overrides = []
    for i, offset in enumerate(rng.sample(range(365), 20)):
        hours = (time(10), time(14)) if i % 2 else (None, None)  # half extra hours, half days off
        overrides.append(
            DateOverride(coach=coach, date=FIRST_DAY + timedelta(days=offset), start=hours[0], end=hours[1])
        )
    DateOverride.objects.bulk_create(overrides)
    start_of_year = datetime.combine(FIRST_DAY, time(0), tzinfo=UTC)
    blocks = []
    for _ in range(1000):
        begin = start_of_year + timedelta(minutes=5 * rng.randrange(365 * 24 * 12))
        length = timedelta(minutes=rng.choice((15, 30, 60, 90, 120)))
        blocks.append(BusyBlock(coach=coach, start=begin, end=begin + length, source="bench"))
    BusyBlock.objects.bulk_create(blocks)
    # 300 bookings with 10-minute buffers, never overlapping (PostgreSQL's constraint would refuse that).
    taken: set[int] = set()
    bookings = []
    while len(bookings) < 300:
        slot = rng.randrange(365 * 24 * 2)  # half-hours of the year, spaced by at least one
        if taken & {slot - 1, slot, slot + 1}:
            continue
        taken.add(slot)
        begin = start_of_year + timedelta(minutes=30 * slot)
        bookings.append(
            Booking(
                reference=f"BK-BENCH{len(bookings):04d}",
                coach=coach,
                offering=offering,
                client_name="Bench client",
                client_email="bench-client@example.invalid",
                client_time_zone="Europe/Berlin",
                start=begin,
                end=begin + timedelta(minutes=30),
                blocked_start=begin - timedelta(minutes=10),
                blocked_end=begin + timedelta(minutes=40),
                manage_key=f"{len(bookings):032x}",
            )
        )
    Booking.objects.bulk_create(bookings)
    return offering


def _measure(offering_id: int, runs: int = 200) -> tuple[float, int, int]:
    def once() -> list[datetime]:
        # A fresh offering each time, as a request would load it (select_related: one query).
        offering = Offering.objects.select_related("coach").get(pk=offering_id)
        return offering_free_slots(offering=offering, start=date(2026, 2, 2), end=date(2026, 3, 3), now=NOW)

    for _ in range(20):
        once()
    with CaptureQueriesContext(connection) as queries:
        slots = once()
    return median_ms(once, runs), len(queries), len(slots)


def main() -> None:
    vendor = connection.vendor
    if skipped_unless_migrated():
        return
    result: tuple[float, int, int] | None = None
    try:
        with transaction.atomic():
            offering = _create_rows()
            result = _measure(offering.pk)
            raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    ms, queries, slots = result
    print(f"Whole selector, 30 days ({slots} slots), {vendor}, rows rolled back afterwards.")
    print("Each run loads the offering with its coach (1 query) and calls offering_free_slots.\n")
    print(
        f"| {'database':>10} | {'median ms':>9} | {'queries':>7} | {'vs 126 ms peer':>14} | {'target':>8} |"
    )
    print(f"|{'-' * 12}|{'-' * 11}|{'-' * 9}|{'-' * 16}|{'-' * 10}|")
    print(f"| {vendor:>10} | {ms:>9.3f} | {queries:>7} | {PEER_MS / ms:>13.0f}x | <{TARGET_MS:.1f} ms |")
    print("\nReproduce: [DATABASE_URL=postgres://...] .venv/bin/python -m bench bench_slot_selector")
    if ms >= TARGET_MS or queries > 6:
        print(f"FAILED: {ms:.3f} ms, {queries} queries (must be < {TARGET_MS:.1f} ms and <= 6 queries)")
