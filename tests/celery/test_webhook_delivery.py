"""Webhooks end to end: a booking made through the service, a real worker per queue (the send
runs on the outbound one), and an HTTP receiver on loopback that checks what arrives with the
``standardwebhooks`` verifier. Results are awaited by polling with a deadline; where backoff is
involved the clock is moved with time-machine, never slept through.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone
from kombu.exceptions import OperationalError
from standardwebhooks.webhooks import Webhook

from booking import tasks
from booking.models import WebhookDelivery, WebhookEndpoint
from booking.services import webhook_endpoint_create, webhook_send_test
from coaching.models import Coach
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class WebhookReceiver:
    """A coach's server on 127.0.0.1: keeps every request, answers with ``answers`` then 200."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/coach"

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings) -> Iterator[WebhookReceiver]:
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    server = WebhookReceiver()
    yield server
    server.close()


def endpoint_for(coach: Coach, receiver: WebhookReceiver) -> tuple[WebhookEndpoint, str]:
    return webhook_endpoint_create(coach=coach, url=receiver.url, event_types=["booking.created"])


def verified(secret: str, request: dict) -> dict:
    """The body, if the standardwebhooks verifier accepts the request (it raises otherwise)."""
    return Webhook(secret).verify(request["body"], request["headers"])


def test_a_booking_sends_a_signed_booking_created(
    queue_workers: dict[str, str], coach: Coach, book, receiver: WebhookReceiver
) -> None:
    assert queue_workers["default"] != queue_workers["outbound"]
    endpoint, secret = endpoint_for(coach, receiver)

    booking = book()

    wait_for(lambda: receiver.count() == 1, "the receiver got the webhook")
    request = receiver.requests[0]
    assert request["path"] == "/hooks/coach"
    body = verified(secret, request)
    assert body["type"] == "booking.created"
    assert body["data"]["reference"] == booking.reference
    assert body["data"]["client"]["email"] == "grace@example.com"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert request["headers"]["webhook-id"] == delivery.webhook_id
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
        "the delivery marked delivered",
    )
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)


def test_a_500_then_200_gets_the_same_webhook_id_twice_and_nothing_more(
    queue_workers: dict[str, str], coach: Coach, book, receiver: WebhookReceiver
) -> None:
    receiver.answers = [500]
    endpoint, secret = endpoint_for(coach, receiver)
    book()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="pending", attempts=1).exists(),
        "the first attempt failed and was put back",
    )
    delivery.refresh_from_db()
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at > timezone.now()
    # Not due yet: the sweep leaves it alone.
    assert tasks.sweep_webhooks() == 0

    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=True):
        assert tasks.sweep_webhooks() == 1
        wait_for(lambda: receiver.count() == 2, "the retry reached the receiver")
        wait_for(
            lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
            "the retry marked delivered",
        )
        first, second = receiver.requests
        assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == delivery.webhook_id
        assert first["body"] == second["body"]
        verified(secret, second)

    # Nothing more: a later sweep finds nothing, and a test event sent after it is the next request.
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=True):
        assert tasks.sweep_webhooks() == 0
        webhook_send_test(endpoint=endpoint)
        wait_for(lambda: receiver.count() == 3, "the test event after the retries")
        assert json.loads(receiver.requests[2]["body"])["type"] == "webhook.test"
    assert [r["headers"]["webhook-id"] for r in receiver.requests].count(delivery.webhook_id) == 2


def test_a_broker_outage_during_the_booking_loses_no_delivery(
    queue_workers: dict[str, str], coach: Coach, book, receiver: WebhookReceiver
) -> None:
    endpoint, secret = endpoint_for(coach, receiver)

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.send_webhook, "delay", broker_down)
        booking = book()  # the booking stands; the enqueue after commit failed
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "pending" and delivery.attempts == 0
    assert tasks.sweep_webhooks() == 0  # within the grace its message may still be on its way
    assert receiver.count() == 0

    with time_machine.travel(timezone.now() + tasks.SWEEP_GRACE + timedelta(seconds=5), tick=True):
        assert tasks.sweep_webhooks() == 1
        wait_for(lambda: receiver.count() == 1, "the swept delivery reached the receiver")
        body = verified(secret, receiver.requests[0])
    assert body["type"] == "booking.created" and body["data"]["reference"] == booking.reference
    assert receiver.requests[0]["headers"]["webhook-id"] == delivery.webhook_id
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
        "the swept delivery marked delivered",
    )
