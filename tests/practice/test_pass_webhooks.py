"""Pass events reach the coach's webhooks with the ledger entry and the balance after it,
in order with the booking's own events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from booking import webhooks
from booking.models import Booking, WebhookDelivery
from booking.services import booking_cancel, booking_mark_outcome, webhook_endpoint_create
from coaching.models import Coach
from practice import services
from tests.support import NOW, SLOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(coach: Coach):
    return webhook_endpoint_create(coach=coach, url="https://hooks.example.com/in", event_types=[])[0]


def sent(booking: Booking | None = None) -> list[str]:
    rows = WebhookDelivery.objects.order_by("pk")
    if booking is not None:
        rows = rows.filter(booking=booking)
    return list(rows.values_list("event_type", flat=True))


def test_grant_use_return_forfeit_and_expiry_each_send_their_event(endpoint, grant, book) -> None:
    pass_obj = grant()
    assert sent() == ["pass.granted"]
    early = book(client_pass=pass_obj)
    assert sent(early) == ["booking.created", "booking.confirmed", "pass.used"]
    booking_cancel(booking=early, by="client", now=NOW)
    assert sent(early)[-2:] == ["booking.cancelled", "pass.returned"]
    missed = book(SLOT + timedelta(hours=1), client_pass=pass_obj)
    booking_mark_outcome(booking=missed, outcome=Booking.Status.NO_SHOW, now=SLOT + timedelta(hours=2))
    assert sent(missed)[-2:] == ["booking.no_show", "pass.forfeited"]
    services.pass_adjust(
        pass_obj=pass_obj, amount=1, reason="Bonus", now=NOW
    )  # no event: the coach's own act
    services.passes_expire_due(now=pass_obj.expires_at)
    assert sent()[-1] == "pass.expired"

    body = WebhookDelivery.objects.get(event_type="pass.forfeited").payload
    assert body["type"] == "pass.forfeited"
    assert body["data"]["pass"]["reference"] == pass_obj.reference
    assert body["data"]["pass"]["remaining"] == 2
    assert body["data"]["entry"] == {
        "kind": "forfeit",
        "amount": 0,
        "booking": missed.reference,
        "by": "coach",
        "reason": "",
        "late": False,
        "at": body["data"]["entry"]["at"],
    }
    json.dumps(body)  # JSON-ready as stored


def test_the_booking_payload_names_its_pass_and_credit(endpoint, grant, book) -> None:
    pass_obj = grant()
    booking = book(client_pass=pass_obj)
    booking_cancel(booking=booking, by="client", now=SLOT - timedelta(hours=1))
    cancelled = WebhookDelivery.objects.get(event_type="booking.cancelled").payload["data"]
    assert (cancelled["pass"], cancelled["credit"]) == (pass_obj.reference, "forfeited")
    assert (cancelled["changes"]["credit"], cancelled["changes"]["late"]) == ("forfeited", False)
    # The cancellation's own event is written before the ledger entry; the entry's event follows.
    assert WebhookDelivery.objects.get(event_type="pass.forfeited").payload["data"]["entry"]["booking"] == (
        booking.reference
    )


def test_an_endpoint_can_subscribe_to_pass_events_only(coach: Coach, grant, book) -> None:
    webhook_endpoint_create(coach=coach, url="https://hooks.example.com/p", event_types=["pass.used"])
    book(client_pass=grant())
    assert sent() == ["pass.used"]
    assert set(webhooks.PASS_EVENT_TYPES) <= set(webhooks.EVENT_TYPES)
