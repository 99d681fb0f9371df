"""Fixtures shared by the whole suite: people in their roles, and a test client for each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, time
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from accounts.models import User
from booking.models import Booking
from booking.services import booking_create
from coaching.models import Coach, Offering
from tests.factories import CoachFactory, OfferingFactory, UserFactory, WeeklyHoursFactory
from tests.support import NOW, SLOT


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a Redis database of its own for the cache:
    ``cache.clear()`` flushes the whole database, and the rate-limit counters of one
    worker's test must not vanish under another's."""
    import os

    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache = settings.CACHES["default"]
    if worker.startswith("gw") and "redis" in cache["BACKEND"].lower():
        base, _, db = cache["LOCATION"].rpartition("/")
        number = int(db) if db.isdigit() else 0
        cache["LOCATION"] = f"{base}/{(number - 1 - int(worker[2:])) % 16}"


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    """Tasks run in-process unless a test starts a real worker (tests marked ``celery_worker``)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Hashing test passwords with PBKDF2 costs ~0.3 s a user; tests don't need the strength."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters and cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(db: None) -> User:
    """A verified person with no coach profile: a client."""
    return UserFactory(email="client@example.com")


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory(email="someone-else@example.com")


@pytest.fixture
def coach(db: None) -> Coach:
    """A coach in New York working Mon-Fri 09:00-17:00."""
    coach = CoachFactory(slug="ada", display_name="Ada Lovelace", user__email="ada@example.com")
    for weekday in range(5):
        WeeklyHoursFactory(coach=coach, weekday=weekday, start=time(9), end=time(17))
    return coach


@pytest.fixture
def offering(coach: Coach) -> Offering:
    return OfferingFactory(coach=coach, slug="intro-call", title="Intro call", duration_minutes=30)


@pytest.fixture
def weekly(offering: Offering) -> Offering:
    """The ``offering`` bookable a year ahead: room for a weekly series."""
    offering.horizon_days = 365
    offering.save(update_fields=["horizon_days"])
    return offering


@pytest.fixture
def client_user_client(client: Client, user: User) -> Client:
    """A test client signed in as the ``user`` fixture (a client)."""
    client.force_login(user)
    return client


@pytest.fixture
def coach_client(client: Client, coach: Coach) -> Client:
    """A test client signed in as the ``coach`` fixture's user."""
    client.force_login(coach.user)
    return client


@pytest.fixture
def book(offering: Offering):
    """Book ``offering`` (or another) at ``start`` as a guest, with NOW pinned."""

    def make(start: datetime = SLOT, *, on: Offering | None = None, **extra: object) -> Booking:
        fields = {
            "client_name": "Grace Hopper",
            "client_email": "grace@example.com",
            "client_time_zone": "Europe/Berlin",
            "now": NOW,
            **extra,
        }
        return booking_create(offering=on or offering, start=start, **fields).booking

    return make


@contextmanager
def _real_workers(*, per_queue: bool) -> Iterator[dict[str, str]]:
    """Real Celery worker threads on queues of their own: tasks are published, not run eagerly.

    ``per_queue``: one worker for the default queue and one for the outbound queue, routed
    as in production (settings.CELERY_TASK_ROUTES); else one worker takes both. They share
    the settings, the locmem outbox and the test database with the test; a worker of
    `make run` or of another test run never takes these messages. Yields the queue names.
    """
    from django.conf import settings

    from config.celery import app

    suffix = uuid.uuid4().hex[:12]
    queues = {"default": f"test-default-{suffix}"}
    queues["outbound"] = f"test-outbound-{suffix}" if per_queue else queues["default"]
    previous = (app.conf.task_default_queue, app.conf.task_routes)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queues["default"]
    app.conf.task_routes = {task: {"queue": queues["outbound"]} for task in settings.CELERY_TASK_ROUTES}
    _reset_routes(app)
    try:
        with ExitStack() as stack:
            for name in dict.fromkeys(queues.values()):  # one worker per distinct queue
                stack.enter_context(
                    start_worker(
                        app,
                        pool="solo",
                        concurrency=1,
                        perform_ping_check=False,
                        shutdown_timeout=30,
                        queues=[name],
                        hostname=f"{name}@test",
                        # kombu's event loop is one per process: two workers sharing it
                        # garble each other's Redis reads. The polling loop has no hub.
                        use_eventloop=False,
                    )
                )
            yield queues
    finally:
        app.conf.task_default_queue, app.conf.task_routes = previous
        _reset_routes(app)
        app.conf.task_always_eager = True


def _reset_routes(app: Any) -> None:
    """Celery caches its router: make it read task_routes again."""
    app.amqp.__dict__.pop("router", None)
    app.amqp.flush_routes()


@pytest.fixture
def worker(settings) -> Iterator[None]:
    """One real worker taking every queue (see ``_real_workers``)."""
    with _real_workers(per_queue=False):
        yield


@pytest.fixture
def queue_workers(settings) -> Iterator[dict[str, str]]:
    """A real worker per queue, default and outbound, as the Procfile runs them."""
    with _real_workers(per_queue=True) as queues:
        yield queues
