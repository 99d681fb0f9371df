"""Idempotency keys belong to their caller and answer for a day (issue 12, finding 6)."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking, IdempotencyKey
from booking.services import (
    IDEMPOTENCY_TTL,
    IdempotencyConflict,
    SlotUnavailable,
    booking_create,
    request_fingerprint,
)
from booking.tasks import delete_expired_idempotency_keys
from coaching.models import Offering
from tests.support import NOW, SLOT, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LATER = SLOT + timedelta(days=2)


def api_post(client: Client, key: str, **overrides: object):  # type: ignore[no-untyped-def]
    body = json.dumps(booking_body(**overrides))
    return client.post(
        "/api/v1/bookings", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


def create(offering: Offering, *, start=LATER, fingerprint: str = "a", now=NOW, **extra):  # type: ignore[no-untyped-def]
    fields = {
        "client_name": "Grace Hopper",
        "client_email": "grace@example.com",
        "client_time_zone": "UTC",
        **extra,
    }
    return booking_create(
        offering=offering, start=start, idempotency_key="key-1", fingerprint=fingerprint, now=now, **fields
    )


def test_two_callers_with_the_same_key_both_book(client: Client, offering: Offering) -> None:
    """A key another client picked too is theirs, not a 409 for us, nor their booking."""
    first = api_post(client, "shared-key", email="grace@example.com")
    second = api_post(
        client,
        "shared-key",
        email="ada@example.org",
        name="Ada",
        start=(SLOT + timedelta(hours=1)).isoformat(),
    )
    assert first.status_code == second.status_code == HTTPStatus.CREATED, second.content
    assert first.json()["reference"] != second.json()["reference"]
    assert Booking.objects.count() == 2
    # Each caller's retry still gets their own answer.
    retry = api_post(
        client,
        "shared-key",
        email="ada@example.org",
        name="Ada",
        start=(SLOT + timedelta(hours=1)).isoformat(),
    )
    assert retry.status_code == HTTPStatus.CREATED
    assert retry.json() == second.json()


def test_a_signed_in_client_and_a_guest_have_their_own_keys(offering: Offering, user) -> None:  # type: ignore[no-untyped-def]
    mine = create(offering, client=user, client_email=user.email)
    guest = create(offering, start=LATER + timedelta(hours=1), fingerprint="b")
    assert mine.created and guest.created
    assert {k.scope.split(":")[0] for k in IdempotencyKey.objects.all()} == {"user", "guest"}


def test_a_key_answers_for_a_day_and_then_neither_replays_nor_conflicts(offering: Offering) -> None:
    first = create(offering)
    within = NOW + IDEMPOTENCY_TTL - timedelta(minutes=1)
    assert create(offering, now=within).booking == first.booking
    with pytest.raises(IdempotencyConflict):
        create(offering, start=LATER + timedelta(hours=1), fingerprint="b", now=within)

    after = NOW + IDEMPOTENCY_TTL + timedelta(hours=1)
    # The same request again is a new request: its slot is taken by the first booking.
    with pytest.raises(SlotUnavailable):
        create(offering, now=after)
    # Another request with the old key books, although the sweep has not run yet.
    other = create(offering, start=LATER + timedelta(hours=1), fingerprint="b", now=after)
    assert other.created and other.booking != first.booking
    assert IdempotencyKey.objects.get().booking == other.booking


def test_the_hourly_sweep_deletes_keys_older_than_a_day(offering: Offering, time_machine) -> None:  # type: ignore[no-untyped-def]
    from config.celery import app

    old = create(offering).booking
    young = create(
        offering,
        start=LATER + timedelta(hours=1),
        client_email="x@example.com",
        now=NOW + timedelta(hours=23),
    )
    time_machine.move_to(NOW + IDEMPOTENCY_TTL + timedelta(minutes=1), tick=False)

    assert delete_expired_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("booking", flat=True)) == [young.booking.pk]
    assert Booking.objects.filter(pk=old.pk).exists()  # only the key goes
    entry = next(
        e
        for e in app.conf.beat_schedule.values()
        if e["task"] == "booking.tasks.delete_expired_idempotency_keys"
    )
    assert entry["schedule"] <= 3600


def test_the_stored_key_holds_no_readable_trace_of_the_request(offering: Offering) -> None:
    """Scope and fingerprint are keyed hashes: a guessed name or address cannot be checked against them."""
    import hashlib

    payload = {"name": "Grace Hopper", "email": "grace@example.com", "note": "About my career"}
    fingerprint = request_fingerprint(payload)
    create(offering, fingerprint=fingerprint)
    row = IdempotencyKey.objects.get()
    plain = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert row.fingerprint != hashlib.sha256(plain.encode()).hexdigest()
    assert "grace" not in row.scope
    assert hashlib.sha256(b"grace@example.com").hexdigest() not in row.scope
