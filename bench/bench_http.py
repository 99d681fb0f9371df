"""HTTP figures of issues 4 and 18: gunicorn (2 workers) on PostgreSQL, loopback load.

- issue 18's floor: the 30-day slots endpoint against ``GET /api/v1/coaches/demo`` (a plain
  database-backed JSON answer on the same stack), one client, in ``FLOOR_ROUNDS`` rounds that
  alternate which goes first so that drift on a shared machine hits both alike; target: the
  slots p50 at most 1.25x the coach profile's p50 (DESIGN.md, "Performance targets");
- the offering page and the 30-day slots endpoint, one client and 10 concurrent clients;
- booking POSTs (each a different free slot), 10 concurrent clients;
- 50 concurrent creates of one slot: one 201, the rest 409, no 5xx.

A fresh database `coaching_bench` is created on the local PostgreSQL (override the
server with BENCH_ADMIN_DATABASE_URL), migrated and seeded with the demo coach.
Rate limits are off (RATE_LIMITS=off), as for every load test on loopback.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

from bench.http_load import LoadResult, get, json_post, run_load
from bench.server import fresh_database, gunicorn, manage, stack_env

SLOTS_PATH = "/api/v1/coaches/demo/offerings/intro-call/slots?start={start}&end={end}&tz=Europe/Berlin"
COACH_PATH = "/api/v1/coaches/demo"
FLOOR_ROUNDS, FLOOR_PER_ROUND = 10, 100
FLOOR_TARGET = 1.25


def _floor(base: str, slots_path: str) -> tuple[LoadResult, LoadResult, list[float]]:
    """Slots and the coach profile, one client, alternating rounds: both results and the
    per-round p50 ratios."""
    slots, coach, ratios = LoadResult(), LoadResult(), []
    for round_ in range(FLOOR_ROUNDS):
        order = ((slots_path, slots), (COACH_PATH, coach))
        medians = {}
        for path, into in order if round_ % 2 == 0 else order[::-1]:
            got = run_load(base, lambda i, path=path: get(path), total=FLOOR_PER_ROUND, concurrency=1)
            into.latencies_ms += got.latencies_ms
            into.statuses.update(got.statuses)
            into.wall_s += got.wall_s
            medians[path] = got.median
        ratios.append(medians[slots_path] / medians[COACH_PATH])
    return slots, coach, ratios


def _row(name: str, result, target: str = "") -> str:
    fives = sum(count for status, count in result.statuses.items() if status >= 500)
    statuses = ", ".join(f"{status}×{count}" for status, count in sorted(result.statuses.items()))
    return (
        f"| {name:<42} | {len(result.latencies_ms):>5} | {result.median:>7.1f} | {result.percentile(95):>7.1f} "
        f"| {result.throughput:>6.0f} | {fives:>3} | {statuses:<18} | {target:<10} |"
    )


def main() -> None:
    database_url = fresh_database("coaching_bench")
    env = stack_env(database_url)
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)
    manage("seed_demo", env=env)

    today = datetime.now(UTC).date()
    start, end = today + timedelta(days=1), today + timedelta(days=30)
    slots_path = SLOTS_PATH.format(start=start, end=end)

    with gunicorn(env, workers=2) as (base, _process):
        with urllib.request.urlopen(base + slots_path) as response:  # noqa: S310 - loopback
            free = [slot["start"] for slot in json.load(response)["slots"]]
        print(f"gunicorn 2 workers on PostgreSQL; {len(free)} free slots in the 30-day window\n")
        print(
            "| endpoint                                   |  reqs | p50 ms  | p95 ms  |  req/s | 5xx "
            "| statuses           | target     |"
        )
        print(
            "|--------------------------------------------|-------|---------|---------|--------|-----"
            "|--------------------|------------|"
        )
        # Warm up both workers (imports, connections, template caches).
        run_load(base, lambda i: get(slots_path), total=40, concurrency=4)
        run_load(base, lambda i: get("/demo/intro-call/"), total=40, concurrency=4)
        run_load(base, lambda i: get(COACH_PATH), total=40, concurrency=4)

        floor_slots, floor_coach, ratios = _floor(base, slots_path)
        print(_row("GET 30-day slots, 1 client (floor rounds)", floor_slots))
        print(_row("GET coach profile, 1 client (floor rounds)", floor_coach))

        one = run_load(base, lambda i: get(slots_path), total=300, concurrency=1)
        print(_row("GET 30-day slots, 1 client", one, "p50 < 7 ms"))
        ten = run_load(base, lambda i: get(slots_path), total=1500, concurrency=10)
        print(_row("GET 30-day slots, 10 clients", ten, "p95 < 50 ms"))
        page_one = run_load(base, lambda i: get("/demo/intro-call/"), total=300, concurrency=1)
        print(_row("GET offering page, 1 client", page_one))
        page_ten = run_load(base, lambda i: get("/demo/intro-call/"), total=1000, concurrency=10)
        print(_row("GET offering page, 10 clients", page_ten))

        bookable = free[:-1]
        posts = min(len(bookable), 200)

        def booking(i: int):
            return json_post(
                "/api/v1/bookings",
                {
                    "coach": "demo",
                    "offering": "intro-call",
                    "start": bookable[i],
                    "name": f"Bench Client {i}",
                    "email": f"bench{i}@example.com",
                    "timezone": "Europe/Berlin",
                },
            )

        created = run_load(base, booking, total=posts, concurrency=10)
        print(_row("POST booking (distinct slots), 10 clients", created))

        contested = free[-1]

        def race(i: int):
            return json_post(
                "/api/v1/bookings",
                {
                    "coach": "demo",
                    "offering": "intro-call",
                    "start": contested,
                    "name": f"Racer {i}",
                    "email": f"racer{i}@example.com",
                    "timezone": "UTC",
                },
            )

        raced = run_load(base, race, total=50, concurrency=50, start_together=True)
        print(_row("POST one slot, 50 at once", raced, "1×201"))

    ratio = floor_slots.median / floor_coach.median
    verdict = "meets" if ratio <= FLOOR_TARGET else "MISSES"
    print(
        f"\nslots / coach profile, p50: {ratio:.2f}x ({verdict} the target <= {FLOOR_TARGET}x); "
        f"per round {min(ratios):.2f}-{max(ratios):.2f}x"
    )
    ok = raced.statuses.get(201) == 1 and raced.statuses.get(409) == 49
    print(f"\n50 concurrent creates of one slot: {'one 201, 49 × 409, no 5xx' if ok else 'UNEXPECTED'}")
    print("Query count of the slots endpoint: 2, whatever the window (asserted in tests/api/test_api.py).")
    print("Reproduce: .venv/bin/python -m bench bench_http")
