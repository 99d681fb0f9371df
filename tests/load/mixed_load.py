"""Mixed load and fault tests (issue 7), run by `make bench`, never by `make test`.

The whole stack runs on loopback: a fresh PostgreSQL database, a private Redis on a
free port (so this script may stop it), gunicorn with 3 workers, a Celery worker and
beat, and an SMTP sink. Virtual clients browse (home, coach page, offering page),
look up slots and book; bookings carry an Idempotency-Key and are retried on a
dropped connection, as a careful client would.

Scenarios, 60 s each by default (LOAD_SECONDS to change):
1. steady: the mixed load from 50 clients;
2. redis-outage: Redis is stopped 10 s in, for 20 s;
3. worker-killed: one gunicorn worker is SIGKILLed 10 s in.

After each scenario: no 5xx, no overlapping active bookings, every 201 answered is a
booking in the database, and every booking's emails are delivered (the worker and
the sweep catch up after the outage) — checked by polling with a deadline.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.server import free_port, fresh_database, gunicorn, manage, stack_env  # noqa: E402
from tests.reminders.smtp_sink import SmtpSink  # noqa: E402

CLIENTS = int(os.environ.get("LOAD_CLIENTS", "50"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
OUTAGE_SECONDS = min(20.0, SECONDS / 3)
MAX_REQUESTS = 200_000  # a hard bound besides the time
OFFERINGS = ("intro-call", "coaching-session")
WIDEN_DEMO_CALENDAR = """
from datetime import time
from coaching.models import Coach, WeeklyHours
coach = Coach.objects.get(slug="demo")
coach.weekly_hours.all().delete()
WeeklyHours.objects.bulk_create(WeeklyHours(coach=coach, weekday=d, start=time(6), end=time(22)) for d in range(7))
coach.offerings.update(horizon_days=365)
"""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    created: set[str] = field(default_factory=set)  # references answered 201
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, status: int, ms: float) -> None:
        with self.lock:
            self.latencies[name].append(ms)
            self.statuses[name][status] += 1


class Client:
    """One virtual user: a keep-alive connection, reopened after an error."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port = port
        self.stats = stats
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, name: str, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if body is not None else {}
        all_headers.update(headers or {})
        began = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            status, data = 599, b""  # a dropped connection, not an answer
        self.stats.record(name, status, (time.perf_counter() - began) * 1000)
        return status, data


def user_loop(port: int, stats: Stats, deadline: float, budget: Iterator[int], seed: int) -> None:
    rng = random.Random(seed)
    client = Client(port, stats)
    today = date.today()  # noqa: DTZ011 - a window of dates, as a browser would send
    while time.monotonic() < deadline and next(budget, None) is not None:
        offering = rng.choice(OFFERINGS)
        client.call("GET /", "GET", "/")
        client.call("GET /demo/", "GET", "/demo/")
        client.call("GET /demo/<offering>/", "GET", f"/demo/{offering}/?tz=Europe/Berlin")
        # Anywhere in the year ahead: three one-minute scenarios book a thousand calls or so.
        start = today + timedelta(days=rng.randint(1, 350))
        status, data = client.call(
            "GET slots (7 days)",
            "GET",
            f"/api/v1/coaches/demo/offerings/{offering}/slots?start={start}&end={start + timedelta(days=6)}",
        )
        if status != 200 or rng.random() > 0.35:
            continue
        slots = json.loads(data)["slots"]
        if not slots:
            continue
        # Half the clients go for the first free times of the week (contested), half anywhere.
        slot = rng.choice(slots[:3] if rng.random() < 0.5 else slots)["start"]
        key = str(uuid.uuid4())
        body = {
            "coach": "demo",
            "offering": offering,
            "start": slot,
            "name": "Load Client",
            "email": f"load-{key[:8]}@example.com",
            "timezone": "Europe/Berlin",
        }
        for _attempt in range(4):  # retry a dropped connection with the same key
            status, data = client.call(
                "POST booking", "POST", "/api/v1/bookings", body, {"Idempotency-Key": key}
            )
            if status != 599:
                break
        if status == 201:
            with stats.lock:
                stats.created.add(json.loads(data)["reference"])


@contextmanager
def private_redis() -> Iterator[tuple[str, callable, callable]]:
    """A redis-server of our own on a free port; yield (url, stop, start)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="load-redis-")
    command = [
        shutil.which("redis-server") or "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        workdir,
    ]
    state: dict[str, subprocess.Popen] = {}

    def start() -> None:
        state["p"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _wait_port(port)

    def stop() -> None:
        state["p"].terminate()
        state["p"].wait(timeout=10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", stop, start
    finally:
        if state["p"].poll() is None:
            stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_port(port: int, deadline_s: float = 10.0) -> None:
    import socket

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # polling for readiness
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def celery(env: dict[str, str]) -> Iterator[None]:
    """A worker (concurrency 2) and beat, as in production."""
    beat_dir = tempfile.mkdtemp(prefix="load-beat-")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(Path(beat_dir) / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield
    finally:
        for process in (worker, beat):
            process.send_signal(signal.SIGTERM)
        for process in (worker, beat):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(beat_dir, ignore_errors=True)


def run_scenario(name: str, port: int, fault=None) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + SECONDS
    budget = iter(range(MAX_REQUESTS))
    threads = [
        threading.Thread(target=user_loop, args=(port, stats, deadline, budget, i), daemon=True)
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    if fault is not None:
        fault()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    return stats


def check_database(database_url: str, created: set[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        overlaps = conn.execute(
            """
            SELECT count(*) FROM booking_booking a JOIN booking_booking b
              ON a.coach_id = b.coach_id AND a.id < b.id
             AND tstzrange(a.blocked_start, a.blocked_end) && tstzrange(b.blocked_start, b.blocked_end)
             WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
            """
        ).fetchone()[0]
        references = {row[0] for row in conn.execute("SELECT reference FROM booking_booking")}
        bookings = len(references)
        # Reminders are rows written with the booking, whatever the broker did: every
        # confirmed call more than a day ahead has its 24 h and 1 h client reminders
        # and the coach's 1 h one, still scheduled.
        without_reminders = conn.execute(
            """
            SELECT count(*) FROM booking_booking b
             WHERE b.status = 'confirmed' AND b.start > now() + interval '25 hours'
               AND (SELECT count(*) FROM booking_reminder r
                     WHERE r.booking_id = b.id AND r.status = 'scheduled' AND r.kind LIKE 'before-%') < 3
            """
        ).fetchone()[0]
    return {
        "overlaps": overlaps,
        "missing": len(created - references),
        "bookings": bookings,
        "without_reminders": without_reminders,
    }


def emails_outstanding(database_url: str) -> tuple[int, int]:
    """(events not yet planned, deliveries not yet sent) for bookings made under load."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        unplanned = conn.execute(
            "SELECT count(*) FROM booking_bookingevent WHERE notified_at IS NULL"
        ).fetchone()[0]
        unsent = conn.execute(
            "SELECT count(*) FROM booking_emaildelivery WHERE status NOT IN ('sent', 'skipped')"
        ).fetchone()[0]
    return unplanned, unsent


def wait_for_emails(database_url: str, deadline_s: float = 240.0) -> float:
    """Seconds until every event is planned and every email sent (polling, with a deadline)."""
    began = time.monotonic()
    while time.monotonic() - began < deadline_s:
        if emails_outstanding(database_url) == (0, 0):
            return time.monotonic() - began
        time.sleep(1)  # polling for the outcome
    return float("nan")


def kill_one_worker(master: subprocess.Popen, after_s: float) -> None:
    time.sleep(after_s)  # the fault's moment within the scenario
    children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
    if children:
        os.kill(int(children[0]), signal.SIGKILL)
        print(f"   killed gunicorn worker {children[0]} at {after_s:.0f} s")


def report(name: str, stats: Stats, checks: dict[str, int], catch_up_s: float) -> bool:
    print(f"\n### {name}: {CLIENTS} clients, {SECONDS:.0f} s")
    print("| endpoint | requests | p50 ms | p95 ms | 5xx | dropped | statuses |")
    print("|---|---|---|---|---|---|---|")
    fives_total = 0
    for endpoint in sorted(stats.latencies):
        lat = sorted(stats.latencies[endpoint])
        statuses = stats.statuses[endpoint]
        fives = sum(count for status, count in statuses.items() if 500 <= status < 599)
        fives_total += fives
        p95 = lat[max(0, round(0.95 * len(lat)) - 1)]
        shown = ", ".join(f"{s}×{c}" for s, c in sorted(statuses.items()))
        print(
            f"| {endpoint} | {len(lat)} | {statistics.median(lat):.1f} | {p95:.1f} | {fives} "
            f"| {statuses.get(599, 0)} | {shown} |"
        )
    ok = (
        fives_total == 0
        and checks["overlaps"] == 0
        and checks["missing"] == 0
        and checks["without_reminders"] == 0
        and catch_up_s == catch_up_s
    )
    print(
        f"\nbookings answered 201: {len(stats.created)}; in the database: {checks['bookings']}; "
        f"missing: {checks['missing']}; overlapping active bookings: {checks['overlaps']}; "
        f"confirmed calls without their reminders: {checks['without_reminders']}; "
        f"all emails delivered {catch_up_s:.0f} s after the load"
        if catch_up_s == catch_up_s
        else "emails NOT all delivered within the deadline"
    )
    print(f"verdict: {'OK' if ok else 'FAILED'}")
    return ok


def main() -> int:
    print(
        f"Mixed load: gunicorn 3 workers, PostgreSQL, private Redis, Celery worker + beat; {CLIENTS} clients."
    )
    results = []
    with private_redis() as (redis_url, stop_redis, start_redis), SmtpSink() as sink:
        database_url = fresh_database("coaching_load")
        env = stack_env(
            database_url,
            REDIS_URL=redis_url,
            EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
            # Retries within the scenario's time scale.
            EMAIL_RETRY_BASE_SECONDS="2",
            EMAIL_RETRY_MAX_SECONDS="20",
        )
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", env=env)
        manage("seed_demo", env=env)
        # Room for three minutes of bookings: the demo coach works every day, 06:00-22:00,
        # and takes bookings a year ahead.
        manage("shell", "-v", "0", "-c", WIDEN_DEMO_CALENDAR, env=env)
        with celery(env), gunicorn(env, workers=3) as (base, master):
            port = int(base.rsplit(":", 1)[1])

            stats = run_scenario("steady", port)
            results.append(
                report(
                    "steady",
                    stats,
                    check_database(database_url, stats.created),
                    wait_for_emails(database_url),
                )
            )

            def outage() -> None:
                time.sleep(SECONDS / 6)  # the fault's moment within the scenario
                stop_redis()
                print(f"   Redis stopped at {SECONDS / 6:.0f} s")
                time.sleep(OUTAGE_SECONDS)
                start_redis()
                print(f"   Redis started again at {SECONDS / 6 + OUTAGE_SECONDS:.0f} s")

            stats = run_scenario("redis-outage", port, fault=outage)
            results.append(
                report(
                    f"Redis stopped for {OUTAGE_SECONDS:.0f} s",
                    stats,
                    check_database(database_url, stats.created),
                    wait_for_emails(database_url),
                )
            )

            stats = run_scenario("worker-killed", port, fault=lambda: kill_one_worker(master, SECONDS / 6))
            results.append(
                report(
                    "one gunicorn worker killed",
                    stats,
                    check_database(database_url, stats.created),
                    wait_for_emails(database_url),
                )
            )
        ids = sink.message_ids()
        duplicates = len(ids) - len(set(ids))
        print(f"\nSMTP sink: {len(ids)} emails received, {duplicates} duplicate Message-IDs")
    print("Reproduce: .venv/bin/python -m bench bench_load   (LOAD_SECONDS / LOAD_CLIENTS to change)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
