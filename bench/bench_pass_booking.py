"""Issue 15: what paying with a pass adds to the booking POST, ``POST /api/v1/bookings``.

- a fresh PostgreSQL database ``coaching_bench_pass`` (bench/server.py), migrated, with one
  coach (UTC, open 06:00-22:00 every day), one 30-minute video call bookable 400 days ahead,
  a package of 500 sessions covering it (``practice.services.package_save``) and a pass of it
  for each of ten client addresses (``practice.services.pass_grant``; tokens from
  ``practice.tokens.pass_token``);
- gunicorn (2 sync workers, ``DJANGO_DEBUG=false``, rate limits off) on loopback; closed-loop
  clients with keep-alive connections, each request a different free slot of the same
  offering, for the same ten addresses: without ``pass`` and with the address's pass token.

Measured per cell (1 and 10 concurrent clients, without and with a pass): p50, p95, req/s
and the statuses of ``ROUNDS * PER_ROUND[clients]`` requests, in rounds that alternate the two
variants (and which goes first) so that drift on a shared machine hits both alike, after
warm-up requests; the queries of one POST of each kind (Django's test client in a child
process on the same database, ``CaptureQueriesContext``). Afterwards, in the database:
every pass's ``remaining`` equals the sum of its ledger, every booking made with a pass has
exactly one ``use`` entry, and the counts match the 201s answered.
Target (issue 15): the p50 with a pass under 1.20x the p50 without, for each client count;
no 5xx.

Reproduce: .venv/bin/python -m bench bench_pass_booking
           (BENCH_ADMIN_DATABASE_URL for another PostgreSQL server; BENCH_REDIS_URL for another
           Redis, default redis://127.0.0.1:6379/3: it is flushed before and after the run)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.http_load import LoadResult, json_post, run_load
from bench.server import fresh_database, gunicorn, manage, stack_env
from bench.steps import run_step, serve_steps

DATABASE = "coaching_bench_pass"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
COACH, OFFERING = "bench-pass", "session"
CLIENTS = 10  # addresses, each with its own pass
SESSIONS = 500  # a package's most
OPEN_FROM, OPEN_UNTIL = 6, 22  # the coach's hours (UTC), every day
HORIZON_DAYS = 400
ROUNDS = 10
PER_ROUND = {1: 20, 10: 50}  # requests per cell and round, by concurrent clients
WARMUP = 20
TARGET_RATIO = 1.20
VARIANTS = ("without pass", "with pass")


# ---------------------------------------------------------------------------
# Steps run in a child process on the bench database: python -m bench.bench_pass_booking STEP
# ---------------------------------------------------------------------------
def _seed() -> dict[str, object]:
    """The coach, the offering, the package and one pass per client address; the passes' tokens."""
    from datetime import time

    from accounts.models import User
    from coaching.models import Coach, Offering, WeeklyHours
    from practice.services import package_save, pass_grant
    from practice.tokens import pass_token

    user = User.objects.create(email="bench-pass@example.com", name="Bench Pass")
    coach = Coach.objects.create(user=user, slug=COACH, display_name="Bench Pass", time_zone="UTC")
    WeeklyHours.objects.bulk_create(
        WeeklyHours(coach=coach, weekday=day, start=time(OPEN_FROM), end=time(OPEN_UNTIL)) for day in range(7)
    )
    offering = Offering.objects.create(
        coach=coach,
        slug=OFFERING,
        title="Bench session",
        duration_minutes=30,
        slot_step_minutes=30,
        min_notice_minutes=60,
        horizon_days=HORIZON_DAYS,
        location_kind=Offering.LocationKind.VIDEO,
        location_details="https://meet.example.com/bench",
    )
    package = package_save(
        coach=coach, name="Bench package", sessions=SESSIONS, offerings=[offering], validity_days=3650
    )
    tokens = {}
    for n in range(CLIENTS):
        email = _email(n)
        tokens[email] = pass_token(pass_grant(package=package, client_email=email, client_name=f"Client {n}"))
    return {"tokens": tokens}


def _check(expected_json: str) -> dict[str, object]:
    """One POST of each kind under CaptureQueriesContext, then the ledger's invariants."""
    from django.db import connection
    from django.db.models import Count, F, Q, Sum
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from booking.models import Booking
    from practice.models import Pass, PassEntry

    expected = json.loads(expected_json)
    client = Client(HTTP_HOST="127.0.0.1")
    queries = {}
    for variant, (payload, token) in zip(VARIANTS, expected["probes"], strict=True):
        body = {**payload, **({"pass": token} if token else {})}
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/bookings", body, content_type="application/json")
        assert response.status_code == 201, (variant, response.status_code, response.content[:300])
        queries[variant] = len(captured)

    passes = Pass.objects.annotate(
        ledger=Sum("entries__amount"), uses=Count("entries", filter=Q(entries__kind="use"))
    )
    mismatched = [p.reference for p in passes if p.remaining != p.ledger]
    used = {p.pk: p.uses for p in passes}
    by_pass = dict(
        Booking.objects.filter(client_pass__isnull=False)
        .values("client_pass")
        .annotate(n=Count("pk"))
        .values_list("client_pass", "n")
    )
    with_pass = Booking.objects.filter(client_pass__isnull=False).count()
    without_pass = Booking.objects.filter(client_pass__isnull=True).count()
    use_entries = PassEntry.objects.filter(kind=PassEntry.Kind.USE).count()
    # Each use entry names a booking made with that very pass.
    uses_of_bookings = PassEntry.objects.filter(
        kind=PassEntry.Kind.USE, booking__client_pass_id=F("pass_obj_id")
    ).count()
    return {
        "queries": queries,
        "passes": len(used),
        "remaining_mismatched": mismatched,
        "uses_per_pass_match": all(used[pk] == by_pass.get(pk, 0) for pk in used),
        "bookings_with_pass": with_pass,
        "bookings_without_pass": without_pass,
        "use_entries": use_entries,
        "use_entries_on_pass_bookings": uses_of_bookings,
        "expected_with_pass": expected["created"]["with pass"] + 1,
        "expected_without_pass": expected["created"]["without pass"] + 1,
        "remaining_total": sum(p.remaining for p in passes),
    }


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_pass_booking", step, env, *args)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def _email(n: int) -> str:
    return f"client{n}@example.com"


def _slots() -> Iterator[str]:
    """Every half-hour start of the coach's hours from the day after tomorrow: all free, in order."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    while True:
        for half_hours in range(OPEN_FROM * 2, OPEN_UNTIL * 2):
            yield (day + timedelta(minutes=30 * half_hours)).isoformat()
        day += timedelta(days=1)


def _payload(start: str, n: int) -> dict[str, object]:
    return {
        "coach": COACH,
        "offering": OFFERING,
        "start": start,
        "name": f"Client {n}",
        "email": _email(n),
        "timezone": "Europe/Berlin",
    }


def _post(
    base: str, slots: Iterator[str], tokens: dict[str, str] | None, total: int, clients: int
) -> LoadResult:
    """``total`` booking POSTs from ``clients`` threads, each on the next free slot; request i is
    client address i % CLIENTS (with its pass when ``tokens``)."""
    starts = [next(slots) for _ in range(total)]

    def request(i: int):
        payload = _payload(starts[i], i % CLIENTS)
        if tokens is not None:
            payload["pass"] = tokens[str(payload["email"])]
        return json_post("/api/v1/bookings", payload)

    return run_load(base, request, total=total, concurrency=clients)


def _merge(results: list[LoadResult]) -> LoadResult:
    merged = LoadResult()
    for result in results:
        merged.latencies_ms += result.latencies_ms
        merged.statuses.update(result.statuses)
        merged.wall_s += result.wall_s
    return merged


def _fives(result: LoadResult) -> int:
    return sum(count for status, count in result.statuses.items() if status >= 500)


def _flush(redis_url: str) -> None:
    """Empty our Redis database: the bookings' emails queue there, and no worker takes them."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def main() -> None:
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    _flush(redis_url)
    before = os.getloadavg()
    # No collectstatic (the API serves no static files): hush WhiteNoise's warning about it.
    env = stack_env(
        fresh_database(DATABASE), REDIS_URL=redis_url, PYTHONWARNINGS="ignore:No directory at:UserWarning"
    )
    manage("migrate", "--noinput", env=env)
    tokens: dict[str, str] = _step("seed", env)["tokens"]
    slots = _slots()
    created = dict.fromkeys(VARIANTS, 0)
    results: dict[tuple[int, str], list[LoadResult]] = {}

    def count(variant: str, result: LoadResult) -> LoadResult:
        created[variant] += result.statuses.get(201, 0)
        return result

    with gunicorn(env, workers=2) as (base, _process):
        for variant in VARIANTS:  # imports, connections, both workers
            count(variant, _post(base, slots, tokens if variant == "with pass" else None, WARMUP, 4))
        for round_ in range(ROUNDS):
            # Which variant goes first alternates too: neither always follows the other.
            order = VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]
            for clients, per_round in PER_ROUND.items():
                for variant in order:
                    result = _post(
                        base, slots, tokens if variant == "with pass" else None, per_round, clients
                    )
                    results.setdefault((clients, variant), []).append(count(variant, result))

    probes = [[_payload(next(slots), 0), None], [_payload(next(slots), 0), tokens[_email(0)]]]
    checked = _step("check", env, json.dumps({"created": created, "probes": probes}))
    _flush(redis_url)
    after = os.getloadavg()

    print(
        f"One coach, one 30-minute offering covered by a {SESSIONS}-session package, {CLIENTS} client "
        f"addresses each with a pass; gunicorn 2 sync workers on PostgreSQL, DEBUG off, rate limits off; "
        f"each request a different free slot. {ROUNDS} rounds alternating the two variants, after "
        f"{WARMUP} warm-up requests of each. Load average {before[0]:.1f} at the start, "
        f"{after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} at the end.\n"
    )
    print(
        "| clients | variant | requests | p50 | p95 | req/s | 5xx | statuses | ratio p50 | ratio p95 | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed, spreads = [], []
    for clients in PER_ROUND:
        plain = _merge(results[(clients, "without pass")])
        for variant in VARIANTS:
            merged = _merge(results[(clients, variant)])
            statuses = ", ".join(f"{status}×{n}" for status, n in sorted(merged.statuses.items()))
            ratio = merged.median / plain.median
            ratio95 = merged.percentile(95) / plain.percentile(95)
            paid = variant == "with pass"
            print(
                f"| {clients} | {variant} | {len(merged.latencies_ms)} | {merged.median:.1f} ms "
                f"| {merged.percentile(95):.1f} ms | {merged.throughput:.0f} | {_fives(merged)} | {statuses} "
                f"| {f'**{ratio:.2f}x**' if paid else ''} | {f'{ratio95:.2f}x' if paid else ''} "
                f"| {f'< {TARGET_RATIO:.2f}x, 0 5xx' if paid else '0 5xx'} |"
            )
            if set(merged.statuses) != {201} or (paid and ratio >= TARGET_RATIO):
                failed.append(f"{clients} client{'s' if clients > 1 else ''} {variant}")
        rounds = [
            with_.median / without.median
            for with_, without in zip(
                results[(clients, "with pass")], results[(clients, "without pass")], strict=True
            )
        ]
        spreads.append(
            f"{clients} client{'s' if clients > 1 else ''}: {', '.join(f'{r:.2f}' for r in rounds)}"
        )

    print("\nPer-round p50 ratios with / without (the rounds' spread): " + "; ".join(spreads) + ".")
    queries = checked["queries"]
    print(
        f"\nQueries of one POST: {queries['without pass']} without a pass, {queries['with pass']} with one."
    )
    ok = (
        not checked["remaining_mismatched"]
        and checked["uses_per_pass_match"]
        and checked["bookings_with_pass"] == checked["use_entries"] == checked["use_entries_on_pass_bookings"]
        and checked["bookings_with_pass"] == checked["expected_with_pass"]
        and checked["bookings_without_pass"] == checked["expected_without_pass"]
    )
    print(
        f"Ledger afterwards: {checked['passes']} passes, remaining == ledger sum for "
        f"{checked['passes'] - len(checked['remaining_mismatched'])}; {checked['bookings_with_pass']} bookings "
        f"with a pass, {checked['use_entries']} use entries (one per booking of its own pass: "
        f"{checked['uses_per_pass_match']}), {checked['bookings_without_pass']} without; "
        f"201s answered (+1 probe each): {checked['expected_with_pass']} / {checked['expected_without_pass']}; "
        f"{checked['remaining_total']} sessions left of {CLIENTS * SESSIONS}: {'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        failed.append("ledger check")
    print("\nReproduce: .venv/bin/python -m bench bench_pass_booking")
    if failed:
        print(f"FAILED: {', '.join(failed)}")


if __name__ == "__main__":
    serve_steps({"seed": _seed, "check": _check})
