"""The OpenAPI schema states the email and time-zone constraints the API enforces (issue 12, finding 5)."""

from __future__ import annotations

import json
import re
import zoneinfo
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from booking.models import Booking
from coaching.models import Offering
from common.timezones import is_valid_timezone
from tests.support import NOW, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

ACCEPTED_ZONES = {name for name in zoneinfo.available_timezones() if is_valid_timezone(name)}


@pytest.fixture
def openapi(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def _string_branch(schema: dict[str, Any]) -> dict[str, Any]:
    """``str | None`` is ``anyOf: [{string}, {null}]``: the string's own schema."""
    return next((s for s in schema.get("anyOf", []) if s.get("type") == "string"), schema)


def test_the_email_field_states_its_format_length_and_pattern(openapi: dict[str, Any]) -> None:
    email = openapi["components"]["schemas"]["BookingIn"]["properties"]["email"]
    assert email["format"] == "email"
    assert email["maxLength"] == 254
    pattern = re.compile(email["pattern"])
    for good in ("grace@example.com", " grace@example.com ", "o'brien+tag@mail.example.co.uk"):
        assert pattern.search(good), good
    for bad in ("grace", "grace@", "@example.com", "x@[127.0.0.1]", "a b@example.com", "a@b@c.com"):
        assert not pattern.search(bad), bad


def test_time_zones_are_an_enum_of_every_accepted_name(openapi: dict[str, Any]) -> None:
    """The body's zone and the slots' ``tz`` list exactly the names the validator takes."""
    body_zone = openapi["components"]["schemas"]["BookingIn"]["properties"]["timezone"]
    assert set(body_zone["enum"]) == ACCEPTED_ZONES
    assert "Europe/Berlin" in body_zone["enum"] and "Nowhere/Land" not in body_zone["enum"]
    [tz] = [
        p
        for p in openapi["paths"]["/api/v1/coaches/{coach}/offerings/{offering}/slots"]["get"]["parameters"]
        if p["name"] == "tz"
    ]
    assert set(_string_branch(tz["schema"])["enum"]) == ACCEPTED_ZONES
    assert "IANA" in _string_branch(tz["schema"])["description"]


def test_zones_in_answers_state_the_shape_of_a_zone_name(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for model, field in (
        ("CoachOut", "time_zone"),
        ("SlotsOut", "timezone"),
        ("BookingDetailOut", "timezone"),
    ):
        zone = schemas[model]["properties"][field]
        pattern = re.compile(zone["pattern"])
        assert all(pattern.search(name) for name in ACCEPTED_ZONES), model
        assert not pattern.search("Europe/Berlin\nX") and not pattern.search("../etc")
        assert "IANA" in zone["description"]


@pytest.mark.parametrize(
    "email",
    [
        '"a\\ b"@example.com',  # Django takes an escaped space; the schema's pattern does not
        '"a\x0bb"@example.com',  # a control character in a quoted local part
        '"a@b"@example.com',  # a quoted "@": Django takes it, the pattern does not
    ],
)
def test_the_api_refuses_what_the_schema_refuses(client: Client, offering: Offering, email: str) -> None:
    response = client.post(
        "/api/v1/bookings", data=json.dumps(booking_body(email=email)), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["detail"][0]["loc"][-1] == "email"
    assert not Booking.objects.exists()
