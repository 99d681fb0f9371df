"""The JSON API keeps the public contract in DESIGN.md."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Offering
from tests.support import NOW, SLOT, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


def post(client: Client, url: str, body: object, **headers: str):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_it_returns_a_coach_profile_with_offerings(client: Client, offering: Offering) -> None:
    response = client.get("/api/v1/coaches/ada")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["slug"] == "ada"
    assert body["time_zone"] == "America/New_York"
    assert [o["slug"] for o in body["offerings"]] == ["intro-call"]
    assert client.get("/api/v1/coaches/nobody").status_code == HTTPStatus.NOT_FOUND


def test_it_lists_slots_in_the_requested_zone(client: Client, offering: Offering) -> None:
    """Wednesday 2 Dec 09:00-17:00 New York is 15:00-23:00 in Berlin; end date included."""
    response = client.get(
        "/api/v1/coaches/ada/offerings/intro-call/slots",
        {"start": "2026-12-02", "end": "2026-12-02", "tz": "Europe/Berlin"},
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["timezone"] == "Europe/Berlin"
    starts = [slot["start"] for slot in body["slots"]]
    assert starts[0] == "2026-12-02T15:00:00+01:00"
    assert starts[-1] == "2026-12-02T22:30:00+01:00"
    assert len(starts) == 16
    assert body["slots"][0]["end"] == "2026-12-02T15:30:00+01:00"


def test_it_defaults_to_the_coachs_zone(client: Client, offering: Offering) -> None:
    body = client.get(
        "/api/v1/coaches/ada/offerings/intro-call/slots", {"start": "2026-12-02", "end": "2026-12-03"}
    ).json()
    assert body["timezone"] == "America/New_York"
    assert body["slots"][0]["start"] == "2026-12-02T09:00:00-05:00"
    assert len(body["slots"]) == 32


def test_it_answers_the_slots_in_a_fixed_number_of_queries(
    client: Client, offering: Offering, django_assert_max_num_queries
) -> None:
    """At most 6 (DESIGN); in fact 2 whatever the window: the offering with its coach, then hours,
    overrides and busy time in one UNION."""
    for end in ("2026-12-02", "2026-12-31", "2027-11-30"):
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/api/v1/coaches/ada/offerings/intro-call/slots", {"start": "2026-12-01", "end": end}
            )
        assert response.status_code == HTTPStatus.OK
        assert len(queries) == 2, [q["sql"] for q in queries]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-02", "end": "2026-12-01"}, "end"),
        ({"start": "2026-12-02", "end": "2028-12-01"}, "end"),
        ({"start": "2026-12-02", "end": "2026-12-03", "tz": "Mars/Olympus"}, "tz"),
        ({"start": "yesterday", "end": "2026-12-03"}, "start"),
        ({"end": "2026-12-03"}, "start"),
    ],
)
def test_it_names_the_bad_query_field(client: Client, offering: Offering, params, field) -> None:
    response = client.get("/api/v1/coaches/ada/offerings/intro-call/slots", params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == field


def test_it_creates_a_booking(client: Client, offering: Offering) -> None:
    response = post(client, "/api/v1/bookings", booking_body())
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    booking = Booking.objects.get()
    assert body["reference"] == booking.reference
    assert body["status"] == "confirmed"
    assert body["start"] == "2026-12-02T16:00:00+01:00"
    assert body["end"] == "2026-12-02T16:30:00+01:00"
    assert body["manage_url"].endswith(f"/b/{manage_token(booking)}/")
    assert body["ics_url"] == body["manage_url"] + "invite.ics"
    assert booking.client_time_zone == "Europe/Berlin"


def test_it_answers_409_with_next_free_times_when_the_slot_is_taken(
    client: Client, offering: Offering
) -> None:
    assert post(client, "/api/v1/bookings", booking_body()).status_code == HTTPStatus.CREATED
    response = post(client, "/api/v1/bookings", booking_body(email="late@example.com"))
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert "just taken" in body["detail"]
    assert body["next_free"][0] == "2026-12-02T16:30:00+01:00"


def test_it_replays_a_retry_with_the_same_idempotency_key(client: Client, offering: Offering) -> None:
    first = post(client, "/api/v1/bookings", booking_body(), **{"Idempotency-Key": "abc-123"})
    again = post(client, "/api/v1/bookings", booking_body(), **{"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert first.json() == again.json()
    assert Booking.objects.count() == 1
    other = post(
        client,
        "/api/v1/bookings",
        booking_body(start=(SLOT + timedelta(hours=1)).isoformat()),
        **{"Idempotency-Key": "abc-123"},
    )
    assert other.status_code == HTTPStatus.CONFLICT
    assert "Idempotency-Key" in other.json()["detail"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"start": "2026-12-02T15:00:00"}, "start"),  # no offset
        ({"start": "not a time"}, "start"),
        ({"email": "not-an-email"}, "email"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"name": ""}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"coach": "nobody"}, "coach"),
        ({"offering": "nothing"}, "offering"),
        ({"answers": {"q9": "?"}}, "answers.q9"),
        ({"answers": "text"}, "answers"),
    ],
)
def test_it_names_the_bad_body_field(client: Client, offering: Offering, override, field) -> None:
    response = post(client, "/api/v1/bookings", booking_body(**override))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["detail"][0]["loc"][-1] == field
    assert not Booking.objects.exists()


def test_it_refuses_a_time_that_is_not_a_slot_with_409(client: Client, offering: Offering) -> None:
    response = post(client, "/api/v1/bookings", booking_body(start=(SLOT + timedelta(minutes=7)).isoformat()))
    assert response.status_code == HTTPStatus.CONFLICT


def test_it_answers_malformed_json_with_4xx(client: Client, offering: Offering) -> None:
    response = client.post("/api/v1/bookings", data="{not json", content_type="application/json")
    assert HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


def test_it_rate_limits_booking_creation_per_address(client: Client, offering: Offering, settings) -> None:
    settings.BOOKING_CREATE_RATE = "2/m"
    from django.core.cache import cache

    cache.clear()
    statuses = [
        post(
            client, "/api/v1/bookings", booking_body(start=(SLOT + timedelta(hours=n)).isoformat())
        ).status_code
        for n in range(3)
    ]
    assert statuses == [HTTPStatus.CREATED, HTTPStatus.CREATED, HTTPStatus.TOO_MANY_REQUESTS]


def test_it_reads_cancels_and_reschedules_with_the_manage_token(client: Client, offering: Offering) -> None:
    created = post(client, "/api/v1/bookings", booking_body()).json()
    token = created["manage_url"].rstrip("/").rsplit("/", 1)[1]

    detail = client.get(f"/api/v1/bookings/{token}").json()
    assert detail["reference"] == created["reference"]
    assert detail["can_cancel"] and detail["can_reschedule"]

    moved = post(
        client, f"/api/v1/bookings/{token}/reschedule", {"start": (SLOT + timedelta(hours=1)).isoformat()}
    )
    assert moved.status_code == HTTPStatus.OK, moved.content
    assert moved.json()["start"] == "2026-12-02T17:00:00+01:00"

    cancelled = post(client, f"/api/v1/bookings/{token}/cancel", {"reason": "Something came up"})
    assert cancelled.status_code == HTTPStatus.OK
    assert cancelled.json()["status"] == "cancelled"
    again = post(client, f"/api/v1/bookings/{token}/cancel", {})
    assert again.status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize("token", ["nothing", "BK-00000000.abc", "BK-XXXXXXXX." + "A" * 32, "x" * 500])
def test_it_answers_404_for_unknown_or_tampered_tokens(
    client: Client, offering: Offering, token: str
) -> None:
    post(client, "/api/v1/bookings", booking_body())
    assert client.get(f"/api/v1/bookings/{token}").status_code == HTTPStatus.NOT_FOUND
    assert post(client, f"/api/v1/bookings/{token}/cancel", {}).status_code == HTTPStatus.NOT_FOUND


def test_it_publishes_an_openapi_schema_with_the_contract_paths(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= {
        "/api/v1/coaches/{coach}",
        "/api/v1/coaches/{coach}/offerings/{offering}/slots",
        "/api/v1/bookings",
        "/api/v1/bookings/{token}",
        "/api/v1/bookings/{token}/cancel",
        "/api/v1/bookings/{token}/reschedule",
    }
    docs = client.get("/api/v1/docs")
    assert docs.status_code == HTTPStatus.OK
    assert "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()


def test_a_phone_call_the_coach_places_needs_the_clients_number(client: Client, offering: Offering) -> None:
    offering.location_kind, offering.phone_caller = Offering.LocationKind.PHONE, Offering.PhoneCaller.COACH
    offering.save()
    assert client.get("/api/v1/coaches/ada").json()["offerings"][0]["asks_phone"] is True
    missing = post(client, "/api/v1/bookings", booking_body())
    assert missing.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert missing.json()["detail"][0]["loc"] == ["body", "phone"]
    bad = post(client, "/api/v1/bookings", booking_body(phone="not a number"))
    assert bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert bad.json()["detail"][0]["loc"][-1] == "phone"
    made = post(client, "/api/v1/bookings", booking_body(phone="+49 30 1234567"))
    assert made.status_code == HTTPStatus.CREATED, made.content
    booking = Booking.objects.get()
    assert booking.client_phone == "+49 30 1234567"
    location = client.get(f"/api/v1/bookings/{manage_token(booking)}").json()["location"]
    assert location == {
        "kind": "phone",
        "join_url": "",
        "text": "Phone: +49 30 1234567",
        "detail": "Ada Lovelace calls you on +49 30 1234567.",
    }


def test_a_booking_says_where_to_join(client: Client, offering: Offering) -> None:
    offering.location_kind = Offering.LocationKind.ROOM
    offering.save()
    made = post(client, "/api/v1/bookings", booking_body())
    booking = Booking.objects.get(reference=made.json()["reference"])
    location = client.get(f"/api/v1/bookings/{manage_token(booking)}").json()["location"]
    assert location["kind"] == "room"
    assert location["join_url"] == f"https://meet.jit.si/{booking.room_key}"
