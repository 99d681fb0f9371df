"""Issue 13: the coach's dashboard pages for a busy practice, over Django's request cycle.

A throwaway coach in New York with 2,000 bookings (a year around today: confirmed, pending,
completed, cancelled, with intake answers), 500 busy blocks and four offerings, in rows created
inside a transaction that is rolled back. Each page is requested through Django's test client
(middleware, session, templates: everything but the socket), signed in as the coach:

- the agenda ``/dashboard/`` (today, the next seven days, approvals, outcomes);
- the week calendar ``/dashboard/calendar/`` (this week: bookings and busy time);
- a bookings search ``/dashboard/bookings/?q=client 1&when=all`` (matches hundreds, one page).

Measured: p50 and p95 of 200 requests each after 20 warm-up requests, and the queries of one.
Target: p95 under 150 ms each, and the same query count as with a handful of bookings (asserted
in tests/booking/test_agenda.py, test_week_calendar.py and test_booking_search.py).

Reproduce: [DATABASE_URL=postgres://...] .venv/bin/python -m bench bench_dashboard
"""

from __future__ import annotations

import gc
import random
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import User
from bench.database import skipped_unless_migrated
from booking.models import Booking
from coaching.models import BusyBlock, BusyCalendar, Coach, Offering

BOOKINGS = 2_000
BUSY_BLOCKS = 500
RUNS = 200
WARMUP = 20
TARGET_P95_MS = 150.0
PAGES = (
    ("agenda", "/dashboard/"),
    ("week calendar", "/dashboard/calendar/"),
    ("bookings search", "/dashboard/bookings/?q=client+1&when=all"),
)


class _Rollback(Exception):
    pass


def _create_rows(now: datetime) -> User:
    rng = random.Random(13)
    user = User.objects.create(email="bench-dashboard@example.invalid", name="Bench")
    coach = Coach.objects.create(
        user=user, slug="bench-dashboard", display_name="Bench", time_zone="America/New_York"
    )
    offerings = [
        Offering.objects.create(
            coach=coach,
            slug=f"call-{n}",
            title=f"Bench call {n}",
            duration_minutes=30,
            location_kind=Offering.LocationKind.VIDEO,
            location_details="https://meet.example.com/bench",
            requires_approval=n == 3,
        )
        for n in range(4)
    ]
    # Half-hour slots from 180 days ago to 180 days ahead, never overlapping (PostgreSQL's
    # exclusion constraint would refuse that); today and this week get their share.
    base = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=180)
    slots = rng.sample(range(360 * 48), BOOKINGS - 40)
    slots += [180 * 48 + n for n in range(-8, 32)]  # around now: today's and this week's calls
    statuses = [Booking.Status.CONFIRMED] * 6 + [Booking.Status.CANCELLED, Booking.Status.PENDING]
    bookings = []
    for i, slot in enumerate(sorted(set(slots))):
        start = base + timedelta(minutes=30 * slot)
        status = rng.choice(statuses)
        if start < now and status == Booking.Status.CONFIRMED and rng.random() < 0.8:
            status = Booking.Status.COMPLETED
        bookings.append(
            Booking(
                reference=f"BK-D{i:07d}",
                coach=coach,
                offering=offerings[i % 4],
                client_name=f"Client {i}",
                client_email=f"client{i}@example.invalid",
                client_time_zone="Europe/Berlin",
                answers={"What would you like to talk about?": f"Topic {i}"},
                start=start,
                end=start + timedelta(minutes=30),
                blocked_start=start,
                blocked_end=start + timedelta(minutes=30),
                status=status,
                manage_key=f"{i:032x}",
            )
        )
    Booking.objects.bulk_create(bookings)
    calendar = BusyCalendar.objects.create(coach=coach, name="Work", url="https://example.com/work.ics")
    BusyBlock.objects.bulk_create(
        BusyBlock(
            coach=coach,
            calendar=calendar,
            start=(begin := base + timedelta(minutes=15 * rng.randrange(360 * 96))),
            end=begin + timedelta(minutes=rng.choice((15, 30, 60, 120))),
            source="bench",
        )
        for _ in range(BUSY_BLOCKS)
    )
    return user


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _measure(client: Client, path: str) -> tuple[float, float, int]:
    for _ in range(WARMUP):
        assert client.get(path).status_code == 200, path
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    # Counted now: the next request's request_started signal empties the connection's log.
    query_count = len(queries)
    samples = []
    gc.collect()
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, path
    p50, p95 = _percentiles(samples)
    return p50, p95, query_count


def main() -> None:
    vendor = connection.vendor
    if skipped_unless_migrated():
        return
    results: list[tuple[str, float, float, int]] = []
    now = timezone.now().astimezone(UTC)
    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, DEBUG=False):
        try:
            with transaction.atomic():
                user = _create_rows(now)
                client = Client()
                client.force_login(user)
                for name, path in PAGES:
                    results.append((name, *_measure(client, path)))
                raise _Rollback
        except _Rollback:
            pass
    print(
        f"Dashboard pages, {BOOKINGS:,} bookings and {BUSY_BLOCKS} busy blocks, {vendor}, "
        f"Django test client, {RUNS} requests each; rows rolled back afterwards.\n"
    )
    print(f"| {'page':<16} | {'p50 ms':>7} | {'p95 ms':>7} | {'queries':>7} | {'target':>12} |")
    print(f"|{'-' * 18}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 14}|")
    failed = []
    for name, p50, p95, queries in results:
        print(f"| {name:<16} | {p50:>7.1f} | {p95:>7.1f} | {queries:>7} | p95 < {TARGET_P95_MS:.0f} ms |")
        if p95 >= TARGET_P95_MS:
            failed.append(name)
    print("\nReproduce: [DATABASE_URL=postgres://...] .venv/bin/python -m bench bench_dashboard")
    if failed:
        print(f"FAILED: p95 at or over {TARGET_P95_MS:.0f} ms for {', '.join(failed)}")
