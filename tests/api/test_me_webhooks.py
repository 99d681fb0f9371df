"""The coach API's webhooks (/api/v1/me/webhooks): register, rotate, test, pause, delete, deliveries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import WebhookDelivery, WebhookEndpoint
from booking.services import webhook_endpoint_create
from coaching.models import Coach
from tests.api.conftest import auth, post
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

URL = "/api/v1/me/webhooks"
HOOK = "https://hooks.example.com/in/secret-path"


def test_registering_shows_the_secret_once(client: Client, coach: Coach, write_key: str) -> None:
    made = post(
        client, URL, write_key, {"url": HOOK, "event_types": ["booking.created"], "description": "CRM"}
    )
    assert made.status_code == HTTPStatus.CREATED, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["booking.created"] and body["description"] == "CRM"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.coach == coach and endpoint.url == HOOK and endpoint.secret == body["secret"]
    # Never again: not in the list, not in the endpoint, and the address's path is hidden.
    listed = client.get(URL, headers=auth(write_key)).json()["items"]
    one = client.get(f"{URL}/{endpoint.pk}", headers=auth(write_key)).json()
    for shown in (listed[0], one):
        assert "secret" not in shown
        assert shown["url"] == "https://hooks.example.com/…"
    assert body["secret"] not in json.dumps([listed, one])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"url": "ftp://hooks.example.com/"}, "url"),
        ({"url": HOOK, "event_types": ["booking.exploded"]}, "event_types"),
        ({"url": HOOK, "description": "x" * 201}, "description"),
        ({}, "url"),
    ],
)
def test_a_bad_endpoint_is_a_422_naming_the_field(
    client: Client, write_key: str, body: dict, field: str
) -> None:
    answer = post(client, URL, write_key, body)
    assert answer.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, answer.content
    assert answer.json()["detail"][0]["loc"][-1] == field
    assert not WebhookEndpoint.objects.exists()


def test_a_read_token_reads_but_cannot_write(client: Client, coach: Coach, read_key: str) -> None:
    endpoint, _ = webhook_endpoint_create(coach=coach, url=HOOK)
    assert client.get(URL, headers=auth(read_key)).status_code == HTTPStatus.OK
    for path in ("", f"/{endpoint.pk}/rotate-secret", f"/{endpoint.pk}/test", f"/{endpoint.pk}/pause"):
        assert post(client, URL + path, read_key, {"url": HOOK}).status_code == HTTPStatus.FORBIDDEN, path
    assert client.delete(f"{URL}/{endpoint.pk}", headers=auth(read_key)).status_code == HTTPStatus.FORBIDDEN
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, is_paused=False).exists()


def test_no_token_is_a_401(client: Client) -> None:
    assert client.get(URL).status_code == HTTPStatus.UNAUTHORIZED


def test_another_coachs_endpoint_is_a_404(client: Client, write_key: str) -> None:
    theirs, _ = webhook_endpoint_create(coach=CoachFactory(), url=HOOK)
    assert client.get(f"{URL}/{theirs.pk}", headers=auth(write_key)).status_code == HTTPStatus.NOT_FOUND
    assert post(client, f"{URL}/{theirs.pk}/pause", write_key).status_code == HTTPStatus.NOT_FOUND
    assert client.delete(f"{URL}/{theirs.pk}", headers=auth(write_key)).status_code == HTTPStatus.NOT_FOUND
    assert client.get(URL, headers=auth(write_key)).json() == {"items": []}
    assert WebhookEndpoint.objects.filter(pk=theirs.pk, is_paused=False).exists()


def test_rotating_keeps_the_old_secret_for_a_day(client: Client, coach: Coach, write_key: str) -> None:
    endpoint, old = webhook_endpoint_create(coach=coach, url=HOOK)
    answer = post(client, f"{URL}/{endpoint.pk}/rotate-secret", write_key)
    assert answer.status_code == HTTPStatus.OK
    new = answer.json()["secret"]
    assert new.startswith("whsec_") and new != old
    expires = datetime.fromisoformat(answer.json()["previous_secret_expires_at"])
    assert timedelta(0) <= expires - (NOW + timedelta(days=1)) < timedelta(seconds=5)
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (new, old)


def test_pause_resume_and_delete(client: Client, coach: Coach, write_key: str) -> None:
    endpoint, _ = webhook_endpoint_create(coach=coach, url=HOOK)
    paused = post(client, f"{URL}/{endpoint.pk}/pause", write_key)
    assert paused.status_code == HTTPStatus.OK and paused.json()["is_paused"] is True
    assert paused.json()["paused_reason"] == "Paused by the coach."
    resumed = post(client, f"{URL}/{endpoint.pk}/resume", write_key)
    assert resumed.json()["is_paused"] is False
    gone = client.delete(f"{URL}/{endpoint.pk}", headers=auth(write_key))
    assert gone.status_code == HTTPStatus.NO_CONTENT
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_test_event_and_a_booking_show_in_the_deliveries(
    client: Client, coach: Coach, write_key: str, book
) -> None:
    endpoint, _ = webhook_endpoint_create(coach=coach, url=HOOK)
    test = post(client, f"{URL}/{endpoint.pk}/test", write_key)
    assert test.status_code == HTTPStatus.ACCEPTED
    assert test.json()["event_type"] == "webhook.test" and test.json()["booking"] is None
    booking = book()

    page = client.get(f"{URL}/{endpoint.pk}/deliveries", {"limit": 2}, headers=auth(write_key)).json()
    # Newest first: the booking's created and confirmed, then (next page) the test.
    assert [d["event_type"] for d in page["items"]] == ["booking.confirmed", "booking.created"]
    assert {d["booking"] for d in page["items"]} == {booking.reference}
    assert page["items"][1]["payload"]["data"]["reference"] == booking.reference
    assert page["next_offset"] == 2
    rest = client.get(f"{URL}/{endpoint.pk}/deliveries", {"offset": 2}, headers=auth(write_key)).json()
    assert [d["event_type"] for d in rest["items"]] == ["webhook.test"] and rest["next_offset"] is None
    bad = client.get(f"{URL}/{endpoint.pk}/deliveries", {"status": "lost"}, headers=auth(write_key))
    assert bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert bad.json()["detail"][0]["loc"] == ["query", "status"]


def test_resending_keeps_the_webhook_id(client: Client, coach: Coach, write_key: str, book) -> None:
    endpoint, _ = webhook_endpoint_create(coach=coach, url=HOOK)
    book()
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").first()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=9, last_status_code=500)
    answer = post(client, f"{URL}/{endpoint.pk}/deliveries/{delivery.pk}/resend", write_key)
    assert answer.status_code == HTTPStatus.ACCEPTED, answer.content
    assert answer.json()["webhook_id"] == delivery.webhook_id
    assert answer.json()["status"] == "pending" and answer.json()["attempts"] == 0
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="sending")
    busy = post(client, f"{URL}/{endpoint.pk}/deliveries/{delivery.pk}/resend", write_key)
    assert busy.status_code == HTTPStatus.CONFLICT
    other, _ = webhook_endpoint_create(coach=coach, url=HOOK)
    wrong = post(client, f"{URL}/{other.pk}/deliveries/{delivery.pk}/resend", write_key)
    assert wrong.status_code == HTTPStatus.NOT_FOUND
