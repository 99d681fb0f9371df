"""A client can download everything about them and delete their account."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import User
from booking.models import Booking, BookingEvent, EmailDelivery, IdempotencyKey, Reminder, WebhookDelivery
from booking.services import booking_cancel, booking_create, booking_decline, webhook_endpoint_create
from booking.tokens import booking_for_manage_token, manage_token
from coaching.models import Coach
from tests.support import NOW, SLOT, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]


def test_it_exports_everything_about_the_client_as_json(client: Client, user: User, book) -> None:
    """Bookings made while signed out with the same email are included, with history and answers."""
    booking = book(client_email=user.email, note="About my career", client=None)
    booking_cancel(booking=booking, by="client", reason="Clash", now=NOW)
    book(SLOT + timedelta(hours=1), client_email="someone@example.com")
    client.force_login(user)

    response = client.get("/my/data/export/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.content)
    assert data["account"]["email"] == user.email
    assert [b["reference"] for b in data["bookings"]] == [booking.reference]
    exported = data["bookings"][0]
    assert exported["note"] == "About my career"
    assert [h["what"] for h in exported["history"]] == ["created", "cancelled"]


def test_it_deletes_a_client_and_anonymises_their_bookings(
    client: Client, user: User, book, coach: Coach
) -> None:
    """Past bookings keep their time and status for the coach; upcoming ones are cancelled first."""
    upcoming = book(client_email=user.email, client=user, note="private")
    client.force_login(user)

    page = client.get("/my/data/delete/")
    assert page.status_code == HTTPStatus.OK
    wrong = client.post("/my/data/delete/", {"confirm_email": "other@example.com"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert "not the email address of this account" in wrong.content.decode()
    assert User.objects.filter(pk=user.pk).exists()

    response = client.post("/my/data/delete/", {"confirm_email": user.email.upper()})

    assert response.status_code == HTTPStatus.FOUND
    assert not User.objects.filter(pk=user.pk).exists()
    upcoming.refresh_from_db()
    assert upcoming.status == Booking.Status.CANCELLED
    assert upcoming.client_id is None
    assert upcoming.client_name == "Deleted client"
    assert user.email not in upcoming.client_email
    assert upcoming.note == "" and upcoming.answers == {}
    assert upcoming.start == SLOT
    assert list(upcoming.events.values_list("kind", flat=True)) == ["created", "cancelled"]
    assert booking_for_manage_token(manage_token(upcoming)) == upcoming  # a new key; the old link is dead
    assert client.get("/my/data/").status_code == HTTPStatus.FOUND  # signed out


def test_it_refuses_to_delete_a_coach(client: Client, coach: Coach) -> None:
    client.force_login(coach.user)
    response = client.post("/my/data/delete/", {"confirm_email": coach.user.email}, follow=True)
    assert "ask the site" in response.content.decode()
    assert User.objects.filter(pk=coach.user.pk).exists()


@pytest.mark.parametrize("path", ["/my/data/", "/my/data/export/", "/my/data/delete/"])
def test_it_requires_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]


def test_it_exports_and_deletes_community_memberships(client: Client, user: User, coach: Coach) -> None:
    """Subscriptions under the user's email are in the export and gone after deletion."""
    from community.models import Subscriber

    Subscriber.objects.create(
        coach=coach,
        email=user.email.lower(),
        first_name="Grace",
        status=Subscriber.Status.CONFIRMED,
        consent_text="Yes, send me tips.",
        consented_at=NOW,
        key="k" * 32,
    )
    client.force_login(user)
    data = json.loads(client.get("/my/data/export/").content)
    assert [m["status"] for m in data["community_memberships"]] == ["confirmed"]
    assert data["community_memberships"][0]["consent"] == "Yes, send me tips."

    client.post("/my/data/delete/", {"confirm_email": user.email})
    assert not Subscriber.objects.filter(email=user.email.lower()).exists()


def test_deleting_an_account_leaves_no_text_the_client_or_coach_wrote_about_them(
    client: Client, user: User, offering, coach: Coach
) -> None:
    """Cancel reasons, history details, notes, answers and idempotency keys all lose the person (finding 6)."""
    secrets = ["Grace Hopper", user.email, "my divorce", "Sorry Grace", "career worries", "+49 30 1234567"]
    # The coach's tools were told of each change: the stored webhook bodies lose the person too.
    webhook_endpoint_create(coach=coach, url="https://hooks.example.com/in")
    # As a guest through the API, with the account's address and a retry key.
    api = client.post(
        "/api/v1/bookings",
        data=json.dumps(booking_body(email=user.email, note="career worries")),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="retry-me",
    )
    assert api.status_code == HTTPStatus.CREATED
    api_booking = Booking.objects.get(reference=api.json()["reference"])
    cancelled = booking_create_for(
        offering, user, SLOT + timedelta(hours=1), note="career worries", client_phone="+49 30 1234567"
    )
    booking_cancel(booking=cancelled, by="client", reason="Because of my divorce", now=NOW)
    offering.requires_approval = True
    offering.save()
    declined = booking_create_for(offering, user, SLOT + timedelta(hours=2))
    booking_decline(booking=declined, reason="Sorry Grace, I am full", now=NOW)
    assert IdempotencyKey.objects.exists()

    client.force_login(user)
    assert client.post("/my/data/delete/", {"confirm_email": user.email}).status_code == HTTPStatus.FOUND

    rows = {
        "bookings": list(Booking.objects.values()),
        "events": list(BookingEvent.objects.values()),
        "keys": list(IdempotencyKey.objects.values()),
        "deliveries": list(EmailDelivery.objects.values()),
        "reminders": list(Reminder.objects.values()),
        "webhooks": list(WebhookDelivery.objects.values("event_type", "payload")),
    }
    dump = json.dumps(rows, default=str).lower()
    for secret in secrets:
        assert secret.lower() not in dump, secret
    assert rows["keys"] == []
    assert {b["cancel_reason"] for b in rows["bookings"]} <= {"", "The client closed their account."}
    reasons = [e["detail"].get("reason") for e in rows["events"] if e["detail"].get("reason")]
    assert set(reasons) <= {"The client closed their account."}
    # The coach still sees when things happened.
    assert [e["detail"] for e in rows["events"] if e["kind"] == "created"] != []
    assert all("start" in e["detail"] for e in rows["events"] if e["kind"] == "created")
    api_booking.refresh_from_db()
    assert api_booking.status == Booking.Status.CANCELLED
    # The cancellation our deletion made still reaches the coach's tools, anonymised.
    closing = [w["payload"]["data"] for w in rows["webhooks"] if w["event_type"] == "booking.cancelled"]
    assert {c["reference"] for c in closing} >= {api_booking.reference}
    assert {c["client"]["name"] for c in closing} == {"Deleted client"}


def booking_create_for(offering, user: User, start, **extra) -> Booking:  # type: ignore[no-untyped-def]
    """A signed-in booking with an intake answer and an idempotency key, as from the booking form."""
    return booking_create(
        offering=offering,
        start=start,
        client_name="Grace Hopper",
        client_email=user.email,
        client_time_zone="Europe/Berlin",
        client=user,
        idempotency_key=f"form:{start.isoformat()}",
        fingerprint="f",
        answers={"q1": "career worries"},
        now=NOW,
        **extra,
    ).booking
