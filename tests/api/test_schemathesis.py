"""Fuzz the public API from its own OpenAPI schema: no 5xx, no response that breaks the schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


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

    Requests valid by the schema may still be refused with a 4xx (an unknown zone name, an
    email address that is not one): the schema cannot list every zone, so that one check
    is left out; every other built-in check runs, "no 5xx" among them.
    """
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
