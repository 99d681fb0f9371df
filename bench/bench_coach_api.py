"""Issue 14: the coach API's bookings list, ``GET /api/v1/me/bookings``, with 10,000 bookings.

- a fresh PostgreSQL database ``coaching_bench_api`` (bench/server.py), migrated, with two
  coaches: a busy one with 10,000 bookings and a small one with 100 (the same mix: two years
  around today, every status, four offerings, an intake answer each), loaded with bulk_create,
  and a read token for each (``coaching.services.api_token_create``);
- gunicorn (2 sync workers, ``DJANGO_DEBUG=false``, rate limits off) on loopback, one client
  with a keep-alive connection, ``Authorization: Bearer <token>``;
- five requests: the first page (the default 50 rows), a page halfway down the cursor (after
  row 5,000, resp. 50, reached by following ``next_cursor``), and pages of 20 (so that the
  small coach's fill a page too) with ``status=confirmed``, with ``from=<now>``, and with both
  filters halfway down their own cursor.

Measured per request and coach: p50, p95 and req/s of 200 requests (four rounds of 50,
alternating the two coaches so that drift on a shared machine hits both), after 20 warm-up
requests; the queries of one request (Django's test client in a child process on the same
database, ``CaptureQueriesContext``); the plan of the page query for the busy coach; and
the first page's req/s with 4 concurrent clients.
Target (DESIGN.md has none for this list): p50 with 10,000 bookings within 1.25x of the
p50 with 100, and the same query count.

Reproduce: .venv/bin/python -m bench bench_coach_api
           (BENCH_ADMIN_DATABASE_URL for another PostgreSQL server; BENCH_REDIS_URL for another
           Redis, default redis://127.0.0.1:6379/11)
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.http_load import LoadResult, run_load
from bench.server import fresh_database, gunicorn, manage, stack_env
from bench.steps import run_step, serve_steps

DATABASE = "coaching_bench_api"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
BIG, SMALL = 10_000, 100
PATH = "/api/v1/me/bookings"
ROUNDS, PER_ROUND, WARMUP = 4, 50, 20
CONCURRENT_CLIENTS, CONCURRENT_REQUESTS = 4, 200
TARGET_RATIO = 1.25
FILTERED_LIMIT = 20


# ---------------------------------------------------------------------------
# Steps run in a child process on the bench database: python -m bench.bench_coach_api STEP
# ---------------------------------------------------------------------------
def _seed() -> dict[str, object]:
    """The two coaches, their bookings and tokens; the tokens and the instant used as ``from``."""
    import random
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from booking.models import Booking
    from coaching.models import Coach, Offering
    from coaching.services import api_token_create

    now = timezone.now().replace(second=0, microsecond=0)
    base = now.replace(minute=0) - timedelta(days=365)
    past = [Booking.Status.COMPLETED] * 7 + [Booking.Status.CANCELLED, Booking.Status.NO_SHOW]
    future = [Booking.Status.CONFIRMED] * 7 + [Booking.Status.PENDING, Booking.Status.CANCELLED]
    tokens = {}
    for slug, count in (("bench-busy", BIG), ("bench-small", SMALL)):
        rng = random.Random(14)
        user = User.objects.create(email=f"{slug}@example.invalid", name=slug)
        coach = Coach.objects.create(user=user, slug=slug, display_name=slug, time_zone="America/New_York")
        offerings = [
            Offering.objects.create(
                coach=coach,
                slug=f"call-{n}",
                title=f"Bench call {n}",
                duration_minutes=30,
                location_kind=Offering.LocationKind.VIDEO,
                location_details="https://meet.example.com/bench",
            )
            for n in range(4)
        ]
        # Distinct half-hour slots over two years: active ones never overlap (the exclusion
        # constraint), and the busy coach has about 14 calls a day.
        slots = sorted(rng.sample(range(730 * 48), count))
        rows = []
        for i, slot in enumerate(slots):
            start = base + timedelta(minutes=30 * slot)
            rows.append(
                Booking(
                    reference=f"BK-{slug[6].upper()}{i:07d}",
                    coach=coach,
                    offering=offerings[i % 4],
                    client_name=f"Client {i}",
                    client_email=f"client{i % 700}@example.invalid",
                    client_time_zone="Europe/Berlin",
                    answers={"What would you like to talk about?": f"Topic {i}"},
                    start=start,
                    end=start + timedelta(minutes=30),
                    blocked_start=start,
                    blocked_end=start + timedelta(minutes=30),
                    status=rng.choice(past if start < now else future),
                    manage_key=f"{i:032x}",
                )
            )
        Booking.objects.bulk_create(rows, batch_size=2000)
        _token, key = api_token_create(coach=coach, name="bench", scope="read")
        tokens[slug] = key
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_booking")
    return {"tokens": tokens, "from": now.isoformat().replace("+00:00", "Z")}


def _queries(requests_json: str) -> dict[str, object]:
    """Each request's query count (the second of two: the token's last use is then fresh),
    and EXPLAIN ANALYZE of the busy coach's page query for each request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    requests = json.loads(requests_json)
    client = Client(HTTP_HOST="127.0.0.1")
    counts: dict[str, int] = {}
    plans: dict[str, list[str]] = {}
    for label, (path, token) in requests.items():
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(path, headers=headers).status_code == 200, path
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, headers=headers).status_code == 200, path
        counts[label] = len(captured)
        if label.startswith("10k"):
            sql = next(q["sql"] for q in captured.captured_queries if 'FROM "booking_booking"' in q["sql"])
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
                plans[label] = [row[0] for row in cursor.fetchall()]
    return {"counts": counts, "plans": plans}


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_coach_api", step, env, *args)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def _get_json(base: str, path: str, token: str) -> dict:  # type: ignore[type-arg]
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def _after(base: str, token: str, rows: int, **filters: str) -> str:
    """The ``next_cursor`` after the first ``rows`` rows, by following the API's own cursors."""
    cursor, seen = "", 0
    while seen < rows:
        limit = min(200, rows - seen)  # a cursor does not depend on the page size
        query = {**filters, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = _get_json(base, f"{PATH}?{urlencode(query)}", token)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if len(page["items"]) != limit or not cursor:
            raise RuntimeError(f"ran out of rows at {seen} of {rows} ({filters})")
    return cursor


def _count(base: str, token: str, **filters: str) -> int:
    """How many rows a filter matches (walking its pages)."""
    cursor, seen = "", 0
    while True:
        query = {**filters, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = _get_json(base, f"{PATH}?{urlencode(query)}", token)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def _merge(results: list[LoadResult]) -> LoadResult:
    merged = LoadResult()
    for result in results:
        merged.latencies_ms += result.latencies_ms
        merged.statuses.update(result.statuses)
        merged.wall_s += result.wall_s
    return merged


def _paths(base: str, token: str, size: int, since: str) -> dict[str, str]:
    """The measured requests for one coach, cursors found by walking the API."""
    filtered = {"status": "confirmed", "from": since}
    deep = (_count(base, token, **filtered) - FILTERED_LIMIT) // 2
    limit = {"limit": str(FILTERED_LIMIT)}
    return {
        "first page": PATH,
        "cursor halfway": f"{PATH}?{urlencode({'cursor': _after(base, token, size // 2)})}",
        "status=confirmed": f"{PATH}?{urlencode({'status': 'confirmed', **limit})}",
        "from=now": f"{PATH}?{urlencode({'from': since, **limit})}",
        "status+from, cursor halfway": (
            f"{PATH}?{urlencode({**filtered, **limit, 'cursor': _after(base, token, deep, **filtered)})}"
        ),
    }


def _measure(base: str, path: str, token: str, total: int, concurrency: int = 1) -> LoadResult:
    request = ("GET", path, None, {"Authorization": f"Bearer {token}"})
    result = run_load(base, lambda i: request, total=total, concurrency=concurrency)
    if set(result.statuses) != {200}:
        raise RuntimeError(f"GET {path}: {dict(result.statuses)}")
    return result


def main() -> None:
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    # No collectstatic (the API serves no static files): hush WhiteNoise's warning about it.
    env = stack_env(
        fresh_database(DATABASE), REDIS_URL=redis_url, PYTHONWARNINGS="ignore:No directory at:UserWarning"
    )
    manage("migrate", "--noinput", env=env)
    seeded = _step("seed", env)
    tokens = {"100": seeded["tokens"]["bench-small"], "10k": seeded["tokens"]["bench-busy"]}
    sizes = {"100": SMALL, "10k": BIG}
    since = str(seeded["from"])

    with gunicorn(env, workers=2) as (base, _process):
        paths = {size: _paths(base, token, sizes[size], since) for size, token in tokens.items()}
        labels = list(paths["10k"])
        rows = {
            (size, label): len(_get_json(base, paths[size][label], tokens[size])["items"])
            for size in tokens
            for label in labels
        }
        for size in tokens:
            for label in labels:
                _measure(base, paths[size][label], tokens[size], WARMUP)
        # Rounds alternating the two coaches: drift on a shared machine hits both alike.
        results: dict[tuple[str, str], list[LoadResult]] = {}
        for _round in range(ROUNDS):
            for label in labels:
                for size in tokens:
                    result = _measure(base, paths[size][label], tokens[size], PER_ROUND)
                    results.setdefault((size, label), []).append(result)
        concurrent = {
            size: _measure(base, PATH, tokens[size], CONCURRENT_REQUESTS, CONCURRENT_CLIENTS)
            for size in tokens
        }

    requests = {f"{size} {label}": (paths[size][label], tokens[size]) for size in tokens for label in labels}
    counted = _step("queries", env, json.dumps(requests))
    counts, plans = counted["counts"], counted["plans"]

    load = os.getloadavg()
    print(
        f"Two coaches in one database ({BIG:,} and {SMALL} bookings over two years around today); "
        "gunicorn 2 sync workers on PostgreSQL, DEBUG off, rate limits off, one keep-alive client; "
        f"{ROUNDS * PER_ROUND} requests per cell in {ROUNDS} rounds alternating the coaches, after "
        f"{WARMUP} warm-up ones. Load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n"
    )
    print(
        "| request | rows 100 / 10k | p50 100 | p50 10k | ratio | p95 100 | p95 10k | req/s 100 | req/s 10k "
        "| queries 100 / 10k | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed = []
    for label in labels:
        small, big = _merge(results[("100", label)]), _merge(results[("10k", label)])
        ratio = big.median / small.median
        queries = counts[f"100 {label}"], counts[f"10k {label}"]
        print(
            f"| {label} | {rows[('100', label)]} / {rows[('10k', label)]} | {small.median:.1f} ms "
            f"| **{big.median:.1f} ms** | **{ratio:.2f}x** | {small.percentile(95):.1f} ms "
            f"| {big.percentile(95):.1f} ms | {small.throughput:.0f} | {big.throughput:.0f} "
            f"| {queries[0]} / {queries[1]} | <= {TARGET_RATIO}x, same queries |"
        )
        if ratio > TARGET_RATIO or queries[0] != queries[1]:
            failed.append(label)
    print()
    for size, result in concurrent.items():
        print(
            f"First page, {CONCURRENT_CLIENTS} clients, {sizes[size]:,} bookings: p50 {result.median:.1f} ms, "
            f"p95 {result.percentile(95):.1f} ms, {result.throughput:.0f} req/s ({CONCURRENT_REQUESTS} requests)"
        )
    print("\nQueries of one request (the second of two: the token's last use is fresh; its first use in")
    print("a minute adds one UPDATE).")
    print("\nPlans of the busy coach's page queries (EXPLAIN ANALYZE, after ANALYZE):")
    for label, plan in plans.items():
        print(f"\n    -- {label}")
        for line in plan:
            print("    " + line)
    print("\nReproduce: .venv/bin/python -m bench bench_coach_api")
    if failed:
        print(f"FAILED: over {TARGET_RATIO}x the 100-booking p50, or more queries, for {', '.join(failed)}")


if __name__ == "__main__":
    serve_steps({"seed": _seed, "queries": _queries})
