"""Coaches' webhooks: what is written with a booking change, how it is signed, retried, ordered,
paused and resent. Tasks run eagerly here with the network call replaced by a recording
receiver; tests/celery/test_webhook_delivery.py sends to a real HTTP server from a real worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from kombu.exceptions import OperationalError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from booking import tasks, webhooks
from booking.coach_view import coach_booking_data
from booking.models import Booking, BookingEvent, WebhookDelivery, WebhookEndpoint
from booking.services import (
    WebhookError,
    booking_approve,
    booking_cancel,
    booking_create,
    booking_reschedule,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_pause,
    webhook_endpoint_resume,
    webhook_endpoint_rotate_secret,
    webhook_send_test,
)
from coaching.models import Coach, Offering
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"
Status = WebhookDelivery.Status


@dataclass
class Receiver:
    """Stands in for the coach's server: records each POST and answers from ``answers``."""

    answers: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    def __call__(self, url: str, body: str, headers: dict) -> int:
        self.requests.append({"url": url, "body": body, "headers": dict(headers)})
        return self.answers.pop(0) if self.answers else 200

    @property
    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.requests]

    @property
    def types(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Receiver:
    received = Receiver()
    monkeypatch.setattr(webhooks, "post", received)
    return received


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def endpoint(coach: Coach) -> WebhookEndpoint:
    return webhook_endpoint_create(coach=coach, url=URL, event_types=[], description="CRM")[0]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks) -> Callable:
    """Run a service and then its on-commit callbacks (the eager sends), as a request would."""

    def run(service: Callable, *args: object, **kwargs: object) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


def create(offering: Offering, start: datetime = SLOT) -> Booking:
    return booking_create(
        offering=offering,
        start=start,
        client_name="Grace Hopper",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        now=NOW,
    ).booking


def hand_verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """An independent check of the spec: HMAC-SHA256 of "{id}.{timestamp}.{body}", any v1 signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1) for part in headers["webhook-signature"].split(" ")]
    return any(version == "v1" and hmac.compare_digest(sig, expected) for version, sig in given)


# --- What a booking change writes ------------------------------------------------------


def test_a_confirmed_booking_is_created_then_confirmed_with_the_coach_api_shape(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    booking = run_on_commit(create, offering)

    rows = list(WebhookDelivery.objects.filter(booking=booking).order_by("pk"))
    assert [r.event_type for r in rows] == ["booking.created", "booking.confirmed"]
    assert all(r.status == Status.DELIVERED and r.attempts == 1 for r in rows)
    assert len({r.webhook_id for r in rows}) == 2
    assert all(r.webhook_id.startswith("msg_") for r in rows)
    assert receiver.types == ["booking.created", "booking.confirmed"]
    body = json.loads(receiver.requests[0]["body"])
    assert set(body) == {"type", "timestamp", "data"}
    assert body["timestamp"] == "2026-12-01T12:00:00Z"
    booking.refresh_from_db()
    expected = coach_booking_data(Booking.objects.select_related("offering", "coach").get(pk=booking.pk))
    changes = body["data"].pop("changes")
    assert body["data"] == expected
    assert changes == {"event": "created", "by": "client"}


def test_an_offering_with_approval_is_created_then_confirmed_on_approval(
    clock, coach: Coach, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    offering = OfferingFactory(coach=coach, requires_approval=True)
    booking = run_on_commit(create, offering)
    assert receiver.types == ["booking.created"]
    assert json.loads(receiver.requests[0]["body"])["data"]["status"] == "pending"

    run_on_commit(booking_approve, booking=booking, now=NOW)
    assert receiver.types == ["booking.created", "booking.confirmed"]
    changes = json.loads(receiver.requests[1]["body"])["data"]["changes"]
    assert changes["status"] == {"from": "pending", "to": "confirmed"}


def test_reschedule_and_cancel_say_what_changed(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    booking = run_on_commit(create, offering)
    new_start = SLOT + timedelta(hours=1)
    run_on_commit(booking_reschedule, booking=booking, new_start=new_start, by="coach", now=NOW)
    run_on_commit(booking_cancel, booking=booking, by="client", reason="Feeling ill", now=NOW)

    assert receiver.types[2:] == ["booking.rescheduled", "booking.cancelled"]
    moved, cancelled = (json.loads(r["body"])["data"] for r in receiver.requests[2:])
    assert moved["changes"] == {
        "event": "rescheduled",
        "by": "coach",
        "start": {"from": "2026-12-02T15:00:00Z", "to": "2026-12-02T16:00:00Z"},
    }
    assert moved["start"] == "2026-12-02T16:00:00Z"
    assert cancelled["changes"] == {"event": "cancelled", "by": "client", "reason": "Feeling ill"}
    assert cancelled["status"] == "cancelled"


def test_a_rolled_back_booking_writes_and_sends_nothing(
    clock,
    offering: Offering,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    django_capture_on_commit_callbacks,
) -> None:
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        create(offering)
        assert WebhookDelivery.objects.count() == 2  # written inside the booking's transaction
        raise Abort
    assert WebhookDelivery.objects.count() == 0
    assert Booking.objects.count() == 0
    assert callbacks == [] and receiver.requests == []


def test_paused_endpoints_and_unsubscribed_types_get_nothing(
    clock, coach: Coach, offering: Offering, receiver: Receiver, run_on_commit
) -> None:
    paused, _ = webhook_endpoint_create(coach=coach, url=URL)
    webhook_endpoint_pause(endpoint=paused)
    cancels_only, _ = webhook_endpoint_create(coach=coach, url=URL, event_types=["booking.cancelled"])
    other_coach_offering = OfferingFactory()
    webhook_endpoint_create(coach=other_coach_offering.coach, url=URL)

    booking = run_on_commit(create, offering)
    assert WebhookDelivery.objects.count() == 0
    run_on_commit(booking_cancel, booking=booking, by="coach", now=NOW)
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event_type")) == [
        (cancels_only.pk, "booking.cancelled")
    ]


# --- Signing ---------------------------------------------------------------------------


def test_headers_verify_with_standardwebhooks_and_by_hand(clock, endpoint: WebhookEndpoint) -> None:
    body = webhooks.encode({"type": "booking.created", "timestamp": "x", "data": {"name": "Zoë"}})
    headers = webhooks.headers_for(endpoint, "msg_abc", body, now=datetime.now(UTC))

    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert Webhook(endpoint.secret).verify(body, headers)["data"] == {"name": "Zoë"}
    assert hand_verify(endpoint.secret, headers, body)
    # Both verifiers can fail: a changed body, or another secret.
    assert not hand_verify(endpoint.secret, headers, body.replace("Zo", "Jo"))
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)


def test_a_rotated_secret_signs_alongside_the_new_one_for_a_day(clock, endpoint: WebhookEndpoint) -> None:
    old = endpoint.secret
    new = webhook_endpoint_rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert new != old and endpoint.secret == new and new.startswith("whsec_")
    body = '{"type":"booking.created"}'

    clock.move_to(NOW + timedelta(hours=23, minutes=59))
    headers = webhooks.headers_for(endpoint, "msg_1", body, now=datetime.now(UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
        assert hand_verify(secret, headers, body)

    clock.move_to(NOW + timedelta(days=1, seconds=1))
    headers = webhooks.headers_for(endpoint, "msg_1", body, now=datetime.now(UTC))
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(body, headers)
    assert not hand_verify(old, headers, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


# --- Retries -----------------------------------------------------------------------------


def test_the_backoff_doubles_with_jitter_up_to_its_cap(settings) -> None:
    base, cap = settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS
    for attempts in range(1, 20):
        ceiling = min(base * 2 ** (attempts - 1), cap)
        delays = {webhooks.backoff_seconds(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert webhooks.backoff_seconds(30) <= cap


def test_a_failing_endpoint_is_retried_for_three_days_under_one_id_then_failed(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit, settings
) -> None:
    settings.WEBHOOK_PAUSE_AFTER = 1000
    receiver.answers = [500] * 1000
    endpoint.event_types = ["booking.created"]
    endpoint.save()
    run_on_commit(create, offering)
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == Status.PENDING:
        assert tasks.sweep_webhooks() == 0  # not due yet: nothing is sent early
        waits.append(delivery.next_attempt_at - datetime.now(UTC))
        clock.move_to(delivery.next_attempt_at)
        assert tasks.sweep_webhooks() == 1
        delivery.refresh_from_db()

    assert delivery.status == Status.FAILED
    assert delivery.last_status_code == 500
    assert delivery.last_error == "The webhook server answered 500."
    assert set(receiver.ids) == {delivery.webhook_id}
    assert len(receiver.requests) == delivery.attempts > 10
    stamps = [int(r["headers"]["webhook-timestamp"]) for r in receiver.requests]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # each attempt signed anew
    span = timedelta(seconds=stamps[-1] - stamps[0])
    assert (
        timedelta(days=3) - timedelta(seconds=settings.WEBHOOK_RETRY_MAX_SECONDS) < span <= timedelta(days=3)
    )
    assert waits[0] <= timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS)
    assert max(waits) <= timedelta(seconds=settings.WEBHOOK_RETRY_MAX_SECONDS)
    # Failed for good: no sweep sends it again.
    clock.move_to(datetime.now(UTC) + timedelta(days=1))
    assert tasks.sweep_webhooks() == 0


def test_deliveries_of_one_booking_go_in_order(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    receiver.answers = [503]
    booking = run_on_commit(create, offering)
    created, confirmed = WebhookDelivery.objects.filter(booking=booking).order_by("pk")
    # "created" failed once; "confirmed" waits behind it, even when asked directly.
    assert receiver.types == ["booking.created"]
    assert tasks.send_webhook(confirmed.pk) == "busy"
    run_on_commit(booking_cancel, booking=booking, by="coach", now=NOW)
    cancelled = WebhookDelivery.objects.get(booking=booking, event_type="booking.cancelled")
    assert tasks.send_webhook(cancelled.pk) == "busy"
    assert receiver.types == ["booking.created"]

    # Another booking's deliveries are not held up.
    other = run_on_commit(create, offering, SLOT + timedelta(hours=2))
    assert receiver.types[1:] == ["booking.created", "booking.confirmed"]
    assert {r["headers"]["webhook-id"] for r in receiver.requests[1:]} == set(
        WebhookDelivery.objects.filter(booking=other).values_list("webhook_id", flat=True)
    )

    # Once "created" goes through, the rest follow in order.
    created.refresh_from_db()
    clock.move_to(created.next_attempt_at)
    tasks.sweep_webhooks()
    assert receiver.types[3:] == ["booking.created", "booking.confirmed", "booking.cancelled"]
    assert receiver.ids[3:] == [created.webhook_id, confirmed.webhook_id, cancelled.webhook_id]
    assert WebhookDelivery.objects.filter(booking=booking, status=Status.DELIVERED).count() == 3


def test_a_lapsed_lease_is_claimed_again(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    create(offering)  # on-commit callbacks not run: nothing sent yet
    delivery = WebhookDelivery.objects.order_by("pk").first()
    # A worker claimed it and died.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, attempts=1, locked_until=NOW + tasks.WEBHOOK_LEASE
    )
    assert tasks.send_webhook(delivery.pk) == "busy"
    clock.move_to(NOW + tasks.WEBHOOK_LEASE + timedelta(seconds=1))
    # The lapsed one; the one behind it is held back, then follows it.
    assert tasks.sweep_webhooks() == 1
    assert receiver.types == ["booking.created", "booking.confirmed"]
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


def test_nothing_is_lost_when_the_broker_is_down_at_commit(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.send_webhook, "delay", broker_down)
        booking = run_on_commit(create, offering)  # no error for the client
    assert booking.pk and receiver.requests == []
    assert tasks.sweep_webhooks() == 0  # within the grace the message may still be on its way

    clock.move_to(NOW + tasks.SWEEP_GRACE + timedelta(seconds=1))
    assert tasks.sweep_webhooks() == 1  # "created"; "confirmed" follows it in order
    assert receiver.types == ["booking.created", "booking.confirmed"]
    assert tasks.sweep_webhooks() == 0


# --- Pausing, testing, resending ----------------------------------------------------------


def test_an_endpoint_is_paused_after_n_failures_and_its_coach_emailed_once(
    clock,
    coach: Coach,
    offering: Offering,
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    run_on_commit,
    settings,
) -> None:
    settings.WEBHOOK_PAUSE_AFTER = 3
    receiver.answers = [500] * 10
    run_on_commit(create, offering)  # created: 1 failure ("confirmed" waits behind it)
    run_on_commit(create, offering, SLOT + timedelta(hours=2))  # created: 2 failures
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 2 and not endpoint.is_paused
    mail.outbox.clear()  # the booking emails

    run_on_commit(create, offering, SLOT + timedelta(hours=4))  # the third in a row
    endpoint.refresh_from_db()
    assert endpoint.is_paused and endpoint.consecutive_failures == 3
    assert endpoint.paused_reason == "Paused after 3 failed deliveries in a row."
    pause_mails = [m for m in mail.outbox if "Webhook paused" in m.subject]
    assert len(pause_mails) == 1
    message = pause_mails[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Webhook paused: https://hooks.example.com/…"
    assert "The webhook server answered 500." in message.body
    assert "/in" not in message.body  # the address's path may be a secret
    assert message.alternatives and "Open your dashboard" in message.alternatives[0][0]
    sent = len(receiver.requests)

    # Paused: new events are not recorded, waiting ones are not sent, a test event still goes.
    run_on_commit(create, offering, SLOT + timedelta(hours=6))
    clock.move_to(NOW + timedelta(hours=1))
    assert tasks.sweep_webhooks() == 0
    assert len(receiver.requests) == sent
    run_on_commit(webhook_send_test, endpoint=endpoint)
    assert receiver.types[-1] == "webhook.test"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 4
    assert len([m for m in mail.outbox if "Webhook paused" in m.subject]) == 1  # still once

    # Resumed, the events that waited go out, in order per booking.
    receiver.answers = []
    before = len(receiver.requests)
    run_on_commit(webhook_endpoint_resume, endpoint=endpoint)
    assert sorted(receiver.types[before:]) == sorted(["booking.created"] * 3 + ["booking.confirmed"] * 3)
    assert WebhookDelivery.objects.exclude(status=Status.DELIVERED).filter(booking__isnull=False).count() == 0
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and not endpoint.is_paused


def test_resend_keeps_the_webhook_id_and_body(
    clock, offering: Offering, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    run_on_commit(create, offering)
    delivery = WebhookDelivery.objects.order_by("pk").first()
    first = receiver.requests[0]
    clock.move_to(NOW + timedelta(days=5))

    assert run_on_commit(webhook_delivery_resend, delivery=delivery)
    again = receiver.requests[-1]
    assert again["headers"]["webhook-id"] == first["headers"]["webhook-id"] == delivery.webhook_id
    assert again["body"] == first["body"]
    assert again["headers"]["webhook-timestamp"] != first["headers"]["webhook-timestamp"]
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1


def test_a_test_event_has_no_booking_and_nothing_personal(
    clock, endpoint: WebhookEndpoint, receiver: Receiver, run_on_commit
) -> None:
    delivery = run_on_commit(webhook_send_test, endpoint=endpoint)
    assert delivery.booking_id is None
    body = json.loads(receiver.requests[0]["body"])
    assert body["type"] == "webhook.test"
    assert body["data"] == {"endpoint_id": endpoint.pk, "message": body["data"]["message"]}
    Webhook(endpoint.secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])


# --- Registering an endpoint --------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_the_choice(coach: Coach) -> None:
    endpoint, secret = webhook_endpoint_create(
        coach=coach, url=f" {URL} ", event_types=["booking.created", "booking.created"], description=" CRM "
    )
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert (endpoint.url, endpoint.event_types, endpoint.description) == (URL, ["booking.created"], "CRM")
    assert endpoint.wants("booking.created") and not endpoint.wants("booking.cancelled")


@pytest.mark.parametrize(
    ("url", "event_types", "field_name"),
    [
        ("ftp://hooks.example.com/", [], "url"),
        ("https://user:pw@hooks.example.com/", [], "url"),
        ("http://127.0.0.1:8000/hook", [], "url"),
        ("http://10.0.0.5/hook", [], "url"),
        ("http://0x7f000001/hook", [], "url"),
        ("http://2130706433/hook", [], "url"),
        ("http://metadata.google.internal/", [], "url"),
        ("http://[::ffff:192.168.1.1]/hook", [], "url"),
        ("http://169.254.169.254/latest/meta-data", [], "url"),
        ("http://localhost/hook", [], "url"),
        ("", [], "url"),
        (URL, ["booking.exploded"], "event_types"),
        (URL, "booking.created", "event_types"),
    ],
)
def test_create_refuses_bad_addresses_and_types(
    coach: Coach, url: str, event_types: object, field_name: str
) -> None:
    with pytest.raises(WebhookError) as caught:
        webhook_endpoint_create(coach=coach, url=url, event_types=event_types)
    assert caught.value.field == field_name
    assert WebhookEndpoint.objects.count() == 0


def test_the_event_mapping_covers_every_kind() -> None:
    confirmed, pending = Booking.Status.CONFIRMED, Booking.Status.PENDING
    assert webhooks.event_types_for("created", status=confirmed) == ("booking.created", "booking.confirmed")
    assert webhooks.event_types_for("created", status=pending) == ("booking.created",)
    kinds = {kind: webhooks.event_types_for(kind, status=confirmed) for kind in BookingEvent.Kind.values}
    assert kinds["link_reset"] == ()
    assert {t for types in kinds.values() for t in types} == set(webhooks.BOOKING_EVENT_TYPES)
