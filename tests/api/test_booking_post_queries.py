"""The booking POST makes the same queries whatever the coach's bookings (issue 18): the slot
re-check reads busy time in one UNION, and nothing else reads the coach's other bookings."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coaching.models import Offering
from tests.support import NOW, SLOT, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

# What a guest's booking costs today: docs/benchmarks.md ("Booking with a pass" and issue 18's
# section) says which they are.
QUERIES = 12


def post(client: Client, start, n: int) -> int:
    body = booking_body(start=start.isoformat(), email=f"client{n}@example.com", name=f"Client {n}")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/bookings", body, content_type="application/json")
    assert response.status_code == HTTPStatus.CREATED, response.content
    return len(queries)


def test_a_booking_costs_the_same_queries_with_many_bookings(
    client: Client, offering: Offering, book, django_assert_max_num_queries
) -> None:
    first = post(client, SLOT, 0)
    for day in range(1, 21):  # twenty more bookings over the next weeks
        book(SLOT + timedelta(days=7 * (day // 5), hours=day % 5), client_email=f"other{day}@example.com")
    with django_assert_max_num_queries(QUERIES):
        later = post(client, SLOT + timedelta(days=1), 1)
    assert first == later == QUERIES
