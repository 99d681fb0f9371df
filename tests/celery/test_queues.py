"""Queue isolation with a real worker per queue, as the Procfile runs them.

Two hostile calendar servers trickle their answers a byte at a time and hold the outbound
worker for as long as the test lets them; a client books meanwhile, and both booking
emails go out from the default worker while those refreshes are still running. With one
shared queue the emails would wait behind them (the report measured 98 s). How the
deadline cuts such a server is tests/common/test_outbound_deadline.py's part.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail

from booking.models import EmailDelivery
from coaching.models import BusyCalendar, Coach
from coaching.tasks import refresh_busy_calendar
from tests.common.test_outbound_deadline import HEADERS, Trickler
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hostile() -> Iterator[list[Trickler]]:
    servers = [Trickler(lambda _: HEADERS * 100, gap=0.05) for _ in range(2)]
    yield servers
    for server in servers:
        server.close()


def test_booking_emails_do_not_wait_behind_hostile_calendars(
    queue_workers: dict[str, str], coach: Coach, book, hostile: list[Trickler], settings
) -> None:
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    # Longer than the test: the hostile servers hold the outbound worker until released.
    settings.BUSY_CALENDAR_TIMEOUT = 120
    settings.BUSY_CALENDAR_DEADLINE = 300
    assert queue_workers["default"] != queue_workers["outbound"]
    calendars = [
        BusyCalendar.objects.create(
            coach=coach, name=f"Hostile {n}", url=f"http://127.0.0.1:{server.port}/x.ics"
        )
        for n, server in enumerate(hostile)
    ]
    for calendar in calendars:
        refresh_busy_calendar.delay(calendar.pk)
    # The outbound worker is now held by one hostile server. Which one is the broker's
    # choice: the filesystem transport orders two messages of the same millisecond by a
    # random name.
    wait_for(lambda: any(s.sent > 0 for s in hostile), "the outbound worker reading a hostile calendar")
    waiting = next(s for s in hostile if s.sent == 0)

    booking = book(idempotency_key="queues-test")
    wait_for(
        lambda: EmailDelivery.objects.filter(booking=booking, status=EmailDelivery.Status.SENT).count() == 2,
        "both booking emails sent",
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    # Still reading: neither hostile refresh has finished while the emails went out.
    assert waiting.connections == 0
    assert not BusyCalendar.objects.filter(pk__in=[c.pk for c in calendars]).exclude(last_error="").exists()

    # Released, each hostile read ends with an error that says what happened.
    for server in hostile:
        server.close()
    wait_for(
        lambda: BusyCalendar.objects.filter(pk__in=[c.pk for c in calendars], last_error="").count() == 0,
        "both hostile refreshes ended with an error",
        deadline=60,
    )
    errors = set(
        BusyCalendar.objects.filter(pk__in=[c.pk for c in calendars]).values_list("last_error", flat=True)
    )
    assert errors <= {
        "The calendar server closed the connection without answering.",
        "The calendar server sent an answer that is not valid HTTP.",
        "The calendar server refused the connection.",
        "The calendar server could not be reached.",
        # Cut between two header lines, the answer reads as complete headers and no body.
        "This address did not return a calendar. Use the calendar's secret address in iCal format.",
    }


def test_the_single_worker_fixture_takes_routed_tasks_too(worker: None) -> None:
    from config.celery import app

    queue = app.amqp.router.route({}, "coaching.tasks.refresh_busy_calendar")["queue"].name
    assert queue == app.conf.task_default_queue
