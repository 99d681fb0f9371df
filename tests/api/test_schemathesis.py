"""Fuzz the public API from its own OpenAPI schema: no 5xx, no response that breaks the schema.

Three runs against the WSGI app: every operation with data that fits the schema and data
that breaks it (negative: each must be refused with a 4xx), and a stateful run that books
and then follows the manage token into read, cancel and reschedule.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from booking.models import Booking
from booking.slots import next_free_slots
from coaching.models import Offering
from config.wsgi import application
from tests.support import NOW, booking_body

MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(modes=MODES)


@pytest.fixture
def demo_data(db: None, offering: object, settings: pytest.FixtureRequest) -> Iterator[None]:
    """The coach 'ada' with 'intro-call', so some generated requests reach real objects.

    Requests go through the real WSGI handler; like Django's test client, keep it from
    closing the test's database connection at the end of each request.
    """
    settings.RATE_LIMITS_ENABLED = False
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_data")
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_it_never_breaks_the_api_contract(case: schemathesis.Case) -> None:
    """Every generated request gets a documented status and a body that matches the schema.

    Negative cases (data the schema forbids) must be refused with a 4xx (``negative_data_rejection``).
    Requests valid by the schema may still be refused with a 4xx (a zone-less start, a slot that
    is not free, an address Django's validator refuses), so ``positive_data_acceptance`` is left
    out; every other built-in check runs, "no 5xx" among them.
    """
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_data")
@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/bookings", "POST"), ("/api/v1/coaches/{coach}/offerings/{offering}/slots", "GET")],
)
def test_it_refuses_what_the_schema_forbids(path: str, method: str) -> None:
    """Negative mode on its own, for the two operations with the email and zone constraints:
    every request that breaks the schema (a bad address, an unknown zone, ...) is a 4xx."""
    operation = schema[path][method]

    @hypothesis.given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(
        max_examples=30,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        assert case.meta is not None and case.meta.generation.mode.is_negative
        response = case.call()
        assert 400 <= response.status_code < 500, case.as_curl_command()
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    run()


# --- Stateful: book, then use the manage token ------------------------------------------

# The token is the path segment of manage_url (/b/<token>/); the #regex: extractor is
# schemathesis's, so these links live in the test, not in the public schema.
TOKEN = "$response.body#/manage_url#regex:/b/([^/]+)/$"
FOLLOW_UPS = {
    "ReadBooking": "api_bookings_get_booking",
    "CancelBooking": "api_bookings_cancel_booking",
    "RescheduleBooking": "api_bookings_reschedule_booking",
}


def linked_schema() -> Any:
    linked = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    linked.config.generation.update(modes=MODES)
    links = {
        name: {"operationId": operation, "parameters": {"token": TOKEN}}
        for name, operation in FOLLOW_UPS.items()
    }
    paths = linked.raw_schema["paths"]
    # The sequences follow the public booking's links; the coach API (/me) needs a token the
    # machine cannot get, and its 401 steps would use up the budget the links need. Each of
    # its operations is still fuzzed on its own above, and tested with tokens in tests/api.
    for path in [path for path in paths if path.startswith("/api/v1/me")]:
        del paths[path]
    paths["/api/v1/bookings"]["post"]["responses"]["201"]["links"] = links
    for path in ("/api/v1/bookings/{token}/cancel", "/api/v1/bookings/{token}/reschedule"):
        paths[path]["post"]["responses"]["200"]["links"] = {"ReadBooking": links["ReadBooking"]}
    return linked


@pytest.mark.django_db
@pytest.mark.time_machine(NOW)
@pytest.mark.usefixtures("demo_data")
def test_it_never_fails_a_sequence_of_calls_either(offering: Offering) -> None:
    """Book, read, cancel and move through the links, with positive and negative steps: no 5xx.

    A random body almost never names a real coach and a free slot, so every other positive
    booking is made a real one: the links then have manage tokens to follow.
    """
    steps: Counter[str] = Counter()
    free = [
        s.isoformat() for s in next_free_slots(offering=offering, after=NOW + timedelta(hours=1), limit=40)
    ]

    class Machine(linked_schema().as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from the same rows, so Hypothesis sees the same answers
            # when it replays one (a slot booked by the previous scenario would change them).
            Booking.objects.all().delete()
            self.bookings = itertools.count()

        def before_call(self, case: schemathesis.Case) -> None:
            if (case.operation.method.upper(), case.operation.path) != ("POST", "/api/v1/bookings"):
                return
            if case.meta is not None and case.meta.generation.mode.is_negative:
                return
            n = next(self.bookings)
            if n % 2 == 0:
                case.body = booking_body(start=free[(n // 2) % len(free)], email=f"client-{n}@example.com")

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            steps[f"{case.operation.method.upper()} {case.operation.path} {response.status_code}"] += 1
            assert response.status_code < 500, case.as_curl_command()
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[positive_data_acceptance],
                transport_kwargs=kwargs,
            )

    Machine.run(
        settings=hypothesis.settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    assert Machine.schema.statistic.transitions.total >= len(FOLLOW_UPS)
    # Real bookings were made, and their tokens were followed.
    assert steps["POST /api/v1/bookings 201"] > 0, steps
    assert any(key.startswith("GET /api/v1/bookings/{token} 200") for key in steps) or any(
        key.endswith(" 200") and "{token}/" in key for key in steps
    ), steps
