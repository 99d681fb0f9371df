"""Issue 14: webhook delivery throughput, real outbound workers to a receiver on loopback.

- a fresh PostgreSQL database ``coaching_bench_webhooks`` (bench/server.py), migrated, with a
  coach, four webhook endpoints (``booking.services.webhook_endpoint_create``, every event
  type) on one receiver, and 250 bookings made through ``booking.services.booking_create``:
  each writes ``booking.created`` and ``booking.confirmed`` for every endpoint in its own
  transaction, as the app does, so 2,000 deliveries wait, pending, with their rows;
- Redis at ``BENCH_REDIS_URL``, else ``redis://127.0.0.1:6379/11`` (flushed first: a
  database of its own), as broker and cache;
- one ``celery -A config worker --queues outbound`` process (prefork, the Procfile's
  concurrency of 4) with ``OUTBOUND_ALLOW_LOOPBACK=true``;
- a threaded ``http.server`` on 127.0.0.1 answering 200 at once and keeping every request.

The seeding's own messages go to an in-memory broker and are dropped; once the worker is up the
run publishes one ``send_webhook`` per delivery (what each booking's commit enqueues). A
``booking.confirmed`` taken before its ``booking.created`` is delivered is held back (in order
per booking) and sent when that one is done (``_enqueue_next_in_line``).

Measured: the time from the first message until the receiver has 2,000 requests, and until
every row is marked delivered; deliveries per second. Checked: every request's signature with
the ``standardwebhooks`` verifier (the endpoint's secret), each delivery's ``webhook-id``
received exactly once (0 duplicates, 0 missing), ``created`` before ``confirmed`` for every
booking and endpoint, the rows' final states and attempts. Target (DESIGN.md has none): all
delivered exactly once and signed, at least 50 deliveries per second.

Reproduce: .venv/bin/python -m bench bench_webhooks
           (BENCH_ADMIN_DATABASE_URL for another PostgreSQL server, BENCH_REDIS_URL for another
           Redis database: it is flushed)
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.server import ROOT, fresh_database, manage, stack_env
from bench.steps import run_step, serve_steps
from bench.workers import start_worker, stop_worker, wait_for

DATABASE = "coaching_bench_webhooks"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
ENDPOINTS = 4
BOOKINGS = 250
DELIVERIES = BOOKINGS * ENDPOINTS * 2  # booking.created and booking.confirmed
CONCURRENCY = 4
TARGET_PER_SECOND = 50.0
DEADLINE_SECONDS = 300.0


# ---------------------------------------------------------------------------
# Steps run in a child process on the bench database: python -m bench.bench_webhooks STEP
# ---------------------------------------------------------------------------
def _seed(receiver_url: str) -> dict[str, object]:
    """The coach, endpoints and bookings; each endpoint's path and secret, and the deliveries."""
    from datetime import time as clock
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from booking.models import WebhookDelivery
    from booking.services import booking_create, webhook_endpoint_create
    from coaching.models import Coach, Offering, WeeklyHours
    from config.celery import app

    # What the bookings enqueue on commit goes nowhere: the run publishes the sends itself,
    # once the worker is up, so that the clock starts with the first message.
    app.conf.broker_url = "memory://"
    user = User.objects.create(email="bench-webhooks@example.invalid", name="Bench Coach")
    coach = Coach.objects.create(
        user=user, slug="bench-webhooks", display_name="Bench Coach", time_zone="UTC"
    )
    WeeklyHours.objects.bulk_create(
        WeeklyHours(coach=coach, weekday=day, start=clock(6), end=clock(22)) for day in range(7)
    )
    offering = Offering.objects.create(
        coach=coach, slug="call", title="Bench call", duration_minutes=30, horizon_days=60
    )
    secrets = {}
    for n in range(1, ENDPOINTS + 1):
        endpoint, secret = webhook_endpoint_create(
            coach=coach, url=f"{receiver_url}/hooks/{n}", description=f"Bench receiver {n}"
        )
        secrets[f"/hooks/{n}"] = secret
    first = (timezone.now() + timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
    for i in range(BOOKINGS):
        day, slot = divmod(i, 32)  # 06:00-22:00: 32 half-hour calls a day
        booking_create(
            offering=offering,
            start=first + timedelta(days=day, minutes=30 * slot),
            client_name=f"Bench Client {i}",
            client_email=f"bench{i}@example.invalid",
            client_time_zone="Europe/Berlin",
        )
    deliveries = [
        {"id": pk, "webhook_id": webhook_id, "path": "/" + url.split("/", 3)[3], "type": kind, "booking": ref}
        for pk, webhook_id, url, kind, ref in WebhookDelivery.objects.order_by("pk").values_list(
            "pk", "webhook_id", "endpoint__url", "event_type", "booking__reference"
        )
    ]
    return {"secrets": secrets, "deliveries": deliveries}


def _status() -> dict[str, object]:
    from django.db.models import Count, Max, Sum

    from booking.models import WebhookDelivery, WebhookEndpoint

    rows = WebhookDelivery.objects.values("status").annotate(n=Count("id"), tries=Sum("attempts"))
    return {
        "by_status": {r["status"]: r["n"] for r in rows},
        "attempts": sum(r["tries"] or 0 for r in rows),
        "most_attempts": WebhookDelivery.objects.aggregate(m=Max("attempts"))["m"],
        "paused": WebhookEndpoint.objects.filter(is_paused=True).count(),
    }


def _step(step: str, env: dict[str, str], *args: str) -> Any:
    return run_step("bench.bench_webhooks", step, env, *args)


# ---------------------------------------------------------------------------
# The receiver and the worker
# ---------------------------------------------------------------------------
class Receiver:
    """A coach's server on 127.0.0.1: answers 200 at once, keeps each request (verified later)."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, dict[str, str], str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with receiver.lock:
                    receiver.requests.append((time.perf_counter(), self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _check(requests: list[tuple[float, str, dict[str, str], str]], seeded: dict) -> dict[str, int]:  # type: ignore[type-arg]
    """Signatures, exactly-once and order per booking and endpoint, from what arrived."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    secrets = seeded["secrets"]
    expected = {d["webhook_id"]: d for d in seeded["deliveries"]}
    seen = Counter(headers.get("webhook-id", "") for _, _, headers, _ in requests)
    valid = wrong_place = 0
    order: dict[tuple[str, str], list[str]] = {}
    for _, path, headers, body in requests:
        try:
            payload = Webhook(secrets[path]).verify(body, headers)
        except (WebhookVerificationError, KeyError):
            continue
        valid += 1
        delivery = expected.get(headers["webhook-id"])
        if (
            delivery is None
            or delivery["path"] != path
            or payload["type"] != delivery["type"]
            or payload["data"]["reference"] != delivery["booking"]
        ):
            wrong_place += 1
            continue
        order.setdefault((path, delivery["booking"]), []).append(payload["type"])
    in_order = sum(types == ["booking.created", "booking.confirmed"] for types in order.values())
    return {
        "valid": valid,
        "distinct": len(seen),
        "duplicates": sum(n - 1 for n in seen.values()),
        "missing": len(set(expected) - set(seen)),
        "unexpected": len(set(seen) - set(expected)) + wrong_place,
        "in_order": in_order,
        "pairs": BOOKINGS * ENDPOINTS,
    }


def _delivered(db) -> int:  # type: ignore[no-untyped-def]
    row = db.execute("SELECT count(*) FROM booking_webhookdelivery WHERE status = 'delivered'").fetchone()
    return row[0]


def main() -> None:
    import psycopg
    import redis
    from celery import Celery

    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    # Its own Redis database: a message left by an aborted run would name rows of another one.
    redis.Redis.from_url(redis_url).flushdb()
    database_url = fresh_database(DATABASE)
    env = stack_env(database_url, REDIS_URL=redis_url, OUTBOUND_ALLOW_LOOPBACK="true")
    manage("migrate", "--noinput", env=env)

    receiver = Receiver()
    broker = Celery("bench", broker=redis_url)
    logs = ROOT / "var" / "bench-webhooks"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        seeded = _step("seed", env, receiver.url)
        ids = [d["id"] for d in seeded["deliveries"]]
        assert len(ids) == DELIVERIES, len(ids)
        worker = start_worker(
            name="bench-outbound",
            env=env,
            log=logs / "worker.log",
            concurrency=CONCURRENCY,
            queues="outbound",
        )
        try:
            wait_for(
                lambda: bool(broker.control.ping(timeout=0.5)) or worker.poll() is not None, 60, "the worker"
            )
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited; see {logs / 'worker.log'}")
            load_before = os.getloadavg()
            started = time.perf_counter()
            with broker.connection_for_write() as connection:
                for delivery_id in ids:
                    broker.send_task(
                        "booking.tasks.send_webhook", (delivery_id,), queue="outbound", connection=connection
                    )
            published = time.perf_counter() - started
            wait_for(
                lambda: receiver.count() >= DELIVERIES, DEADLINE_SECONDS, f"{DELIVERIES} webhooks", every=0.02
            )
            received = receiver.requests[DELIVERIES - 1][0] - started
            with psycopg.connect(database_url, autocommit=True) as db:
                wait_for(lambda: _delivered(db) == DELIVERIES, 60, "the rows marked delivered")
            marked = time.perf_counter() - started
            load_after = os.getloadavg()
            # Anything late (a duplicate) would land now: give the queue a moment to drain.
            wait_for(lambda: not redis.Redis.from_url(redis_url).llen("outbound"), 30, "an empty queue")
        finally:
            stop_worker(worker)
        requests = list(receiver.requests)
    finally:
        receiver.close()
        broker.close()
    status = _step("status", env)
    checked = _check(requests, seeded)

    rate = DELIVERIES / received
    print(
        f"{BOOKINGS} bookings × {ENDPOINTS} endpoints × (booking.created + booking.confirmed) = {DELIVERIES:,} "
        f"deliveries; one `celery -A config worker --queues outbound` × {CONCURRENCY} (prefork) on Redis "
        "and PostgreSQL; a threaded receiver on loopback answering 200. Load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after.\n"
    )
    print(
        "| deliveries | received | valid signatures | distinct webhook-ids | duplicates | missing "
        "| in order | rows delivered | attempts | all received | all marked | deliveries/s | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {DELIVERIES:,} | {len(requests):,} | {checked['valid']:,} | {checked['distinct']:,} "
        f"| {checked['duplicates']} | {checked['missing']} | {checked['in_order']:,} of {checked['pairs']:,} "
        f"| {status['by_status'].get('delivered', 0):,} | {status['attempts']:,} | {received:.1f} s "
        f"| {marked:.1f} s | **{rate:.0f}** | >= {TARGET_PER_SECOND:.0f}/s, 0 duplicates |"
    )
    print(f"\n{DELIVERIES:,} messages published in {published:.2f} s; the clock starts with the first.")
    print("Reproduce: .venv/bin/python -m bench bench_webhooks")
    problems = []
    if rate < TARGET_PER_SECOND:
        problems.append(f"{rate:.0f} deliveries/s (target >= {TARGET_PER_SECOND:.0f})")
    if checked["valid"] != DELIVERIES or len(requests) != DELIVERIES:
        problems.append(f"{len(requests)} requests, {checked['valid']} with a valid signature")
    if checked["duplicates"] or checked["missing"] or checked["unexpected"]:
        problems.append(
            f"{checked['duplicates']} duplicates, {checked['missing']} missing, {checked['unexpected']} unexpected"
        )
    if checked["in_order"] != checked["pairs"]:
        problems.append(f"{checked['pairs'] - checked['in_order']} bookings out of order")
    if status["attempts"] != DELIVERIES or status["paused"]:
        problems.append(f"{status['attempts']} attempts, {status['paused']} endpoints paused")
    if problems:
        print("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    serve_steps({"seed": _seed, "status": _status})
