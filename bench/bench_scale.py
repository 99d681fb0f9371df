"""Issue 18, scale: the measured coach's pages and API with 0, 100, 1,000 and 10,000 other coaches.

For each factor (``BENCH_SCALE_FACTORS``, default ``0,0.01,0.1,1``; factor 1.0 is 10,000 coaches,
1,000,000 bookings, about 2,000,000 reminder rows, 100,000 busy blocks and 50,000 passes around
the designated coach): a fresh PostgreSQL database ``coaching_bench_scale_f<factor>`` (a copy of
one migrated with ``manage.py migrate``), loaded by bench/scale_data.py (COPY; its time is
printed). The designated coach ``scale-coach`` has the same data at every factor (3,000
bookings, 400 busy blocks, ~450 clients, 40 passes, an API token); only the rest grows.

Each path is requested through Django's test client (the whole request cycle in one process:
middleware, session, ninja, templates; no socket, no gunicorn) with ``DJANGO_DEBUG=false``, rate
limits off and a Redis database of its own per factor (5, 6, ...; flushed before and after) as
cache and broker. One child process per factor stays up (bench/steps.py ``StepServer``) and the
parent hands them slices of a few requests in turn, one child working at a time: in each of
``BENCH_SCALE_ROUNDS`` rounds, every path gets ``BENCH_SCALE_RUNS`` timed requests on each factor,
the factors' order flipping from slice to slice, so that a noisy second on a shared machine
hits every factor alike:

- ``GET /api/v1/coaches/scale-coach/offerings/coaching-session/slots`` for the next 30 days;
- ``POST /api/v1/bookings``, each request a different free slot of the intro call (31-59 days out);
- ``GET /api/v1/me/bookings`` (the first page) and ``?from=<now>``, with the coach's read token;
- the dashboard agenda ``/dashboard/`` and the client list ``/dashboard/clients/``, signed in;
- ``GET /api/v1/coaches/scale-coach`` (the coach's profile: the floor of a database-backed answer).

Measured: the p50 of the timed requests of all rounds (after warm-up ones in each child; the
p50 of each round shows the noise), the queries of one request (CaptureQueriesContext) and its
SQL time (the time spent in cursor.execute, round trips included: median of one request per
round), the
database's share, which shows a query that grows with the platform even when rendering hides it.
At every factor, every statement of one request of each path is run again under
``EXPLAIN (ANALYZE, BUFFERS)`` (in a savepoint that is rolled back); the scans at the largest
factor are listed, and any ``Seq Scan`` on a table of over 10,000 rows is printed, at any factor.
Target (DESIGN.md, "Performance targets"): each path within 1.25x of its p50 on the empty
platform (factor 0) and the same query count; the growth table reads each figure from 1x to
100x of the data (factors 0.01, 0.1, 1.0).

The default run takes about 5 minutes on these 2-core machines (the factor 1.0 load about 1.5).

Reproduce: .venv/bin/python -m bench bench_scale
           (BENCH_SCALE_FACTORS=0,0.01,0.1,1, at most 6; BENCH_SCALE_ROUNDS=12; BENCH_SCALE_RUNS=15
           timed GETs per path, round and factor; BENCH_SCALE_POSTS=6 per round; BENCH_SCALE_KEEP=1 keeps
           every database, otherwise only the largest factor's stays; BENCH_ADMIN_DATABASE_URL
           for another PostgreSQL server)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.server import DEFAULT_ADMIN_URL, fresh_database, manage, stack_env
from bench.steps import StepServer, run_step, serve_steps

DATABASE_PREFIX = "coaching_bench_scale"
TEMPLATE = f"{DATABASE_PREFIX}_template"
# Redis databases 5-10, one per factor (their children run side by side), flushed before and after.
REDIS_BASE = "redis://127.0.0.1:6379/"
REDIS_DBS = range(5, 11)
DEFAULT_FACTORS = "0,0.01,0.1,1"
TARGET_RATIO = 1.25
WARMUP = 15
POST_WARMUP = 3
POST_SQL_ROUNDS = 3  # the POST's SQL time in the first rounds only: each one books a slot
LARGE_TABLE_ROWS = 10_000
PATHS = (
    "slots 30 days",
    "booking POST",
    "coach API bookings",
    "coach API bookings from=now",
    "dashboard agenda",
    "client list",
    "coach profile",
)


# ---------------------------------------------------------------------------
# Steps run in a child process on one factor's database: python -m bench.bench_scale STEP
# ---------------------------------------------------------------------------
def _load(factor: str, now: str) -> dict[str, Any]:
    from bench import scale_data

    url = os.environ["DATABASE_URL"]
    report = scale_data.load(url, float(factor), now=datetime.fromisoformat(now))
    return {**report, "checks": scale_data.check(url)}


class _Requests:
    """The measured requests of the designated coach, through Django's test client."""

    def __init__(self) -> None:
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        from django.test import Client
        from django.utils import timezone

        from accounts.models import User
        from bench.scale_data import SCALE_EMAIL, SCALE_SLUG, SCALE_ZONE

        self.slug = SCALE_SLUG
        today = timezone.now().astimezone(ZoneInfo(SCALE_ZONE)).date()
        self.since = timezone.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
        self.slots_path = (
            f"/api/v1/coaches/{SCALE_SLUG}/offerings/coaching-session/slots"
            f"?start={today + timedelta(days=1)}&end={today + timedelta(days=30)}&tz={SCALE_ZONE}"
        )
        self.post_window = (
            f"/api/v1/coaches/{SCALE_SLUG}/offerings/intro-call/slots"
            f"?start={today + timedelta(days=31)}&end={today + timedelta(days=59)}&tz={SCALE_ZONE}"
        )
        self.guest = Client(HTTP_HOST="127.0.0.1")
        self.coach = Client(HTTP_HOST="127.0.0.1")
        self.coach.force_login(User.objects.get(email=SCALE_EMAIL))
        self.token = {"HTTP_AUTHORIZATION": f"Bearer {os.environ['BENCH_SCALE_API_KEY']}"}
        self.posted = 0
        self.free: list[str] = []

    def get(self, name: str) -> Any:
        """One request of ``name``; its response."""
        if name == "slots 30 days":
            return self.guest.get(self.slots_path)
        if name == "coach profile":
            return self.guest.get(f"/api/v1/coaches/{self.slug}")
        if name == "coach API bookings":
            return self.guest.get("/api/v1/me/bookings", **self.token)
        if name == "coach API bookings from=now":
            return self.guest.get(f"/api/v1/me/bookings?from={self.since}", **self.token)
        if name == "dashboard agenda":
            return self.coach.get("/dashboard/")
        if name == "client list":
            return self.coach.get("/dashboard/clients/")
        if name == "booking POST":
            return self.post()
        raise KeyError(name)

    @staticmethod
    def rows(name: str, response: Any) -> int:
        """How many things the answer holds (slots, bookings, calls, clients): the same at every factor."""
        if name == "slots 30 days":
            return len(response.json()["slots"])
        if name == "coach profile":
            return len(response.json()["offerings"])
        if name.startswith("coach API bookings"):
            return len(response.json()["items"])
        if name == "dashboard agenda":
            return response.content.count(b'<li class="agenda-call')
        if name == "client list":
            return response.content.count(b'<span class="client-email">')
        return 1

    def post(self) -> Any:
        """Book the next free intro call (each request another slot)."""
        if not self.free:
            self.free = [s["start"] for s in self.guest.get(self.post_window).json()["slots"]]
        start = self.free.pop(0)
        self.posted += 1
        body = {
            "coach": self.slug,
            "offering": "intro-call",
            "start": start,
            "name": f"Zed Bench {self.posted}",
            "email": f"zed.bench.{os.getpid()}.{self.posted}@bench.example.org",
            "timezone": "Europe/Berlin",
        }
        return self.guest.post("/api/v1/bookings", json.dumps(body), content_type="application/json")


class _SqlTimer:
    """An execute wrapper adding up the seconds spent executing statements."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.total += time.perf_counter() - started


_requests: _Requests | None = None  # the step server's, made by _prepare


def _prepare(posts: int) -> dict[str, Any]:
    """Warm every path up and count one request's queries and rows; check that ``posts`` free
    slots are left for the timed POSTs."""
    global _requests  # one set of clients per step server
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _requests = requests = _Requests()
    queries: dict[str, int] = {}
    rows: dict[str, int] = {}
    # The POSTs last: the bookings they make (31-59 days out) then change nothing measured after them.
    for name in sorted(PATHS, key=lambda name: name == "booking POST"):
        for _ in range(POST_WARMUP if name == "booking POST" else WARMUP):
            _checked(name, requests.get(name))
        with CaptureQueriesContext(connection) as captured:
            response = _checked(name, requests.get(name))
        queries[name] = len(captured)
        rows[name] = requests.rows(name, response)
    assert len(requests.free) >= posts, f"only {len(requests.free)} free slots left for {posts} POSTs"
    return {"queries": queries, "rows": rows}


def _time(name: str, count: int) -> list[float]:
    """``count`` timed requests of ``name``, in ms."""
    import gc

    assert _requests is not None
    gc.collect()  # outside the timed requests
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        response = _requests.get(name)
        times.append((time.perf_counter() - t0) * 1000)
        _checked(name, response)
    return times


def _sql(name: str) -> float:
    """The database's share of one request of ``name``: ms spent in cursor.execute (round trips
    included)."""
    from django.db import connection

    assert _requests is not None
    timer = _SqlTimer()
    with connection.execute_wrapper(timer):
        _checked(name, _requests.get(name))
    return timer.total * 1000


def _checked(name: str, response: Any) -> Any:
    ok = 201 if name == "booking POST" else 200
    assert response.status_code == ok, (name, response.status_code)
    return response


def _explain() -> dict[str, Any]:
    """Every statement of one request of each path under EXPLAIN (ANALYZE, BUFFERS), each in a
    savepoint that is rolled back; the plans with a Seq Scan on a table of over 10,000 rows."""
    from django.db import DatabaseError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    requests = _Requests()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        sizes = dict(cursor.fetchall())
    large = {name for name, n in sizes.items() if n > LARGE_TABLE_ROWS}
    report: dict[str, Any] = {}
    for name in PATHS:
        requests.get(name)  # warm, and the token's last use is fresh
        with CaptureQueriesContext(connection) as captured:
            requests.get(name)
        statements = []
        for query in captured.captured_queries:
            sql = query["sql"]
            verb = sql.lstrip().split(" ", 1)[0].upper()
            if verb not in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
                continue
            plan: list[str] = []
            for options in ("ANALYZE, BUFFERS", ""):
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(f"EXPLAIN ({options or 'COSTS'}) {sql}")
                        plan = [row[0] for row in cursor.fetchall()]
                        transaction.set_rollback(True)
                    break
                except DatabaseError as exc:  # e.g. the INSERT's row exists now: plan it only
                    plan = [f"(EXPLAIN ANALYZE failed: {type(exc).__name__})"]
            scans = [line.strip() for line in plan if "Scan" in line and " on " in line]
            took = next((line for line in plan if line.startswith("Execution Time")), "")
            seq = [
                line for line in scans if "Seq Scan on" in line and line.split(" on ")[1].split()[0] in large
            ]
            statements.append({"sql": sql, "plan": plan, "scans": scans, "seq_large": seq, "time": took})
        report[name] = statements
    return {"paths": report, "large": sorted(large), "sizes": {n: sizes[n] for n in sorted(large)}}


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_scale", step, env, *args)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def label(factor: float) -> str:
    return format(factor, "g").replace(".", "_")


def admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_DATABASE_URL", DEFAULT_ADMIN_URL)


def database_from_template(name: str) -> str:
    """A fresh database ``name`` copied from the migrated template; its URL."""
    import psycopg

    assert name.startswith(DATABASE_PREFIX), name
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    return admin_url().rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    assert name.startswith(DATABASE_PREFIX), name
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_template() -> None:
    """``coaching_bench_scale_template``: a fresh database through ``manage.py migrate``; and the
    static files' manifest, which the dashboard's pages need with DEBUG off."""
    env = stack_env(fresh_database(TEMPLATE))
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)


def flush_redis(env: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        client.flushdb()
    finally:
        client.close()


def load_factor(
    factor: float, name: str, now: datetime, redis_db: int
) -> tuple[dict[str, str], dict[str, Any]]:
    """A database for ``factor``, loaded as of ``now`` (the same for every factor of a run, so the
    designated coach's rows are the same); its environment (with Redis database ``redis_db``) and
    the load's report."""
    url = database_from_template(name)
    env = stack_env(url, REDIS_URL=f"{REDIS_BASE}{redis_db}")
    flush_redis(env)
    started = time.perf_counter()
    report = _step("load", env, str(factor), now.isoformat())
    report["wall"] = time.perf_counter() - started
    bad = {check: n for check, n in report["checks"].items() if n}
    if bad:
        raise RuntimeError(f"factor {factor}: the loaded data break {bad}")
    env["BENCH_SCALE_API_KEY"] = report["api_keys"]["read"]
    return env, report


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def _reading(values: list[float]) -> str:
    """How a figure grows over 1x, 10x, 100x of the data, as O(...) in the platform's size."""
    low, mid, high = values
    if high <= low * TARGET_RATIO and mid <= low * TARGET_RATIO:
        return "O(1): flat"
    if high / low >= 20:
        return "O(n): grows with the platform"
    return "sublinear (O(log n)-like)"


def main() -> None:
    factors = [
        float(f) for f in os.environ.get("BENCH_SCALE_FACTORS", DEFAULT_FACTORS).split(",") if f.strip()
    ]
    rounds = int(os.environ.get("BENCH_SCALE_ROUNDS", "12"))
    runs = int(os.environ.get("BENCH_SCALE_RUNS", "15"))
    posts = int(os.environ.get("BENCH_SCALE_POSTS", "6"))
    keep = os.environ.get("BENCH_SCALE_KEEP", "") == "1"

    migrated_template()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    envs: dict[float, dict[str, str]] = {}
    loads: dict[float, dict[str, Any]] = {}
    if len(factors) > len(REDIS_DBS):
        raise SystemExit(f"at most {len(REDIS_DBS)} factors (one Redis database each)")
    for factor, redis_db in zip(factors, REDIS_DBS, strict=False):
        name = f"{DATABASE_PREFIX}_f{label(factor)}"
        envs[factor], loads[factor] = load_factor(factor, name, now, redis_db)
        timings = loads[factor]["timings"]
        print(
            f"loaded factor {factor:g}: {loads[factor]['counts']['booking_booking']:,} bookings in "
            f"{timings['total']:.1f} s",
            file=sys.stderr,
        )

    m = Measured()
    servers = {factor: StepServer("bench.bench_scale", envs[factor]) for factor in factors}
    try:
        for factor in factors:
            m.prepared(factor, servers[factor].call("prepare", posts * rounds + POST_SQL_ROUNDS))
        # Each slice of a few requests goes to every factor in turn (the order flipping), so
        # that a noisy second on a shared machine lands on all factors alike.
        for r in range(rounds):
            for i, name in enumerate(sorted(PATHS, key=lambda name: name == "booking POST")):
                order = factors if (r + i) % 2 == 0 else list(reversed(factors))
                for factor in order:
                    server = servers[factor]
                    m.timed(
                        factor, name, server.call("time", name, posts if name == "booking POST" else runs)
                    )
                    if name != "booking POST" or r < POST_SQL_ROUNDS:
                        m.sql_spent(factor, name, server.call("sql", name))
    finally:
        for server in servers.values():
            server.close()
    largest = max(factors)
    explained = {}
    for factor in factors:
        explained[factor] = _step("explain", envs[factor])
        flush_redis(envs[factor])

    load = os.getloadavg()
    _print_loads(factors, loads)
    print(
        f"\nThe designated coach's paths, Django test client in a child process (DEBUG off, rate limits off, "
        f"PostgreSQL, Redis cache; one child per factor), {rounds} rounds, in each {runs} timed GETs of a "
        f"path ({posts} POSTs) on each factor in turn: {runs * rounds} per path and factor "
        f"({posts * rounds} POSTs), after warm-up requests. "
        f"Load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} ({os.cpu_count()} cores).\n"
    )
    failed = _print_ratios(factors, m)
    _print_growth(factors, m)
    _print_explain(factors, explained)
    if not keep:
        for factor in factors:
            if factor != largest:
                drop_database(f"{DATABASE_PREFIX}_f{label(factor)}")
        drop_database(TEMPLATE)
    print("\nReproduce: .venv/bin/python -m bench bench_scale  (BENCH_SCALE_FACTORS=0,0.01,0.1,1)")
    if failed:
        print(
            f"FAILED: over {TARGET_RATIO}x the empty platform's p50, or more queries, for {', '.join(failed)}"
        )


def _print_loads(factors: list[float], loads: dict[float, dict[str, Any]]) -> None:
    print(
        "Loads (bench/scale_data.py: build rows in Python, COPY, indexes and constraints, VACUUM ANALYZE):\n"
    )
    print(
        "| factor | coaches | bookings | reminders | busy blocks | passes | clients | build s | COPY s "
        "| indexes+constraints s | vacuum analyze s | total s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for factor in factors:
        c, t = loads[factor]["counts"], loads[factor]["timings"]
        print(
            f"| {factor:g} | {c['coaching_coach']:,} | {c['booking_booking']:,} | {c['booking_reminder']:,} "
            f"| {c['coaching_busyblock']:,} | {c['practice_pass']:,} | {c['practice_client']:,} | {t['build']:.1f} "
            f"| {t['copy']:.1f} | {t['indexes and constraints']:.1f} | {t['vacuum analyze']:.1f} "
            f"| **{t['total']:.1f}** |"
        )


class Measured:
    """What the measure steps answered, per (factor, path): every timed request, the p50 of each
    round, the query counts and rows seen, and the SQL time of each round."""

    def __init__(self) -> None:
        self.samples: dict[tuple[float, str], list[float]] = {}
        self.rounds: dict[tuple[float, str], list[float]] = {}
        self.queries: dict[tuple[float, str], set[int]] = {}
        self.rows: dict[tuple[float, str], set[int]] = {}
        self.sql: dict[tuple[float, str], list[float]] = {}

    def prepared(self, factor: float, answer: dict[str, Any]) -> None:
        for name in PATHS:
            self.queries.setdefault((factor, name), set()).add(answer["queries"][name])
            self.rows.setdefault((factor, name), set()).add(answer["rows"][name])

    def timed(self, factor: float, name: str, times: list[float]) -> None:
        self.samples.setdefault((factor, name), []).extend(times)
        self.rounds.setdefault((factor, name), []).append(_p50(times))

    def sql_spent(self, factor: float, name: str, ms: float) -> None:
        self.sql.setdefault((factor, name), []).append(ms)

    def p50(self, factor: float, name: str) -> float:
        return _p50(self.samples[(factor, name)])

    def sql_ms(self, factor: float, name: str) -> float:
        return _p50(self.sql[(factor, name)])

    def counted(self, factor: float, name: str) -> str:
        return "/".join(map(str, sorted(self.queries[(factor, name)])))


def _print_ratios(factors: list[float], m: Measured) -> list[str]:
    base = min(factors)
    print(
        "| path | factor | p50 ms | round p50s ms | SQL ms | queries | rows | ratio to factor 0 | SQL ratio | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = []
    for name in PATHS:
        floor, sql_floor = m.p50(base, name), m.sql_ms(base, name)
        for factor in factors:
            p50, sql_ms = m.p50(factor, name), m.sql_ms(factor, name)
            ratio = p50 / floor
            spread = m.rounds[(factor, name)]
            answered = "/".join(map(str, sorted(m.rows[(factor, name)])))
            same = m.queries[(factor, name)] == m.queries[(base, name)]
            target = "" if name == "coach profile" else f"<= {TARGET_RATIO}x, same queries"
            print(
                f"| {name} | {factor:g} | {p50:.2f} | {min(spread):.1f}-{max(spread):.1f} | {sql_ms:.2f} "
                f"| {m.counted(factor, name)} | {answered} | **{ratio:.2f}x** | {sql_ms / sql_floor:.2f}x | {target} |"
            )
            if target and (ratio > TARGET_RATIO or not same) and name not in failed:
                failed.append(name)
    return failed


def _print_growth(factors: list[float], m: Measured) -> None:
    steps = [f for f in (0.01, 0.1, 1.0) if f in factors]
    if len(steps) < 3:
        return
    print(
        "\nGrowth from 1x to 10x to 100x of the data (factors 0.01, 0.1, 1.0): the request's p50 and its SQL "
        "time (the queries' own time, median of a few requests), read as O(...) in the platform's size:\n"
    )
    print(
        "| path | p50 1x / 10x / 100x ms | 100x/1x | SQL 1x / 10x / 100x ms | SQL 100x/1x | queries | reading |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in PATHS:
        p50s = [m.p50(f, name) for f in steps]
        sqls = [m.sql_ms(f, name) for f in steps]
        counted = " / ".join(m.counted(f, name) for f in steps)
        print(
            f"| {name} | {' / '.join(f'{v:.2f}' for v in p50s)} | {p50s[2] / p50s[0]:.2f}x "
            f"| {' / '.join(f'{v:.2f}' for v in sqls)} | {sqls[2] / sqls[0]:.2f}x | {counted} "
            f"| request {_reading(p50s)}; SQL {_reading(sqls)} |"
        )


def _print_explain(factors: list[float], explained: dict[float, dict[str, Any]]) -> None:
    largest = max(factors)
    at_largest = explained[largest]
    print(
        f"\nPlans (EXPLAIN (ANALYZE, BUFFERS) of every statement of one request, at every factor). At factor "
        f"{largest:g}, tables over {LARGE_TABLE_ROWS:,} rows: "
        + ", ".join(f"{name} {n:,}" for name, n in at_largest["sizes"].items())
        + "; the scans of each path:\n"
    )
    for name, statements in at_largest["paths"].items():
        scans = sorted({_scan_summary(line) for s in statements for line in s["scans"]})
        print(f"- {name}: {len(statements)} statements; " + "; ".join(scans))
    flagged = [
        (factor, name, statement)
        for factor in factors
        for name, statements in explained[factor]["paths"].items()
        for statement in statements
        if statement["seq_large"]
    ]
    if not flagged:
        print("\nNo statement of these paths does a Seq Scan on a table of over 10,000 rows, at any factor.")
        return
    print(
        f"\nSeq Scans on a table of over {LARGE_TABLE_ROWS:,} rows (factor, path, scan, the statement's time):\n"
    )
    for factor, name, statement in flagged:
        for line in statement["seq_large"]:
            print(f"- factor {factor:g}, {name}: `{_scan_summary(line)}` ({statement['time']})")
    shown: set[str] = set()
    for factor, name, statement in sorted(flagged, key=lambda f: -f[0]):
        if name in shown:
            continue
        shown.add(name)
        print(f"\n    -- {name}, factor {factor:g}\n    {statement['sql']}\n")
        for line in statement["plan"]:
            print("    " + line)


def _scan_summary(line: str) -> str:
    """``Index Scan using booking_coach_start on booking_booking`` from a plan line."""
    text = line.removeprefix("->").strip()
    return text.split("  (", 1)[0].split(" (cost", 1)[0].split(" (actual", 1)[0]


if __name__ == "__main__":
    serve_steps({"load": _load, "prepare": _prepare, "time": _time, "sql": _sql, "explain": _explain})
