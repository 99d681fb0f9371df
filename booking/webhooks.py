"""Coaches' webhooks: which events, what is sent, how it is signed, when it is tried again.

Pure but for ``post`` (the one network call, through common/outbound.py's guarded client)
and ``paused_email``. Delivery follows Standard Webhooks: a JSON body
``{"type", "timestamp", "data"}`` and the headers ``webhook-id`` (the same for every attempt),
``webhook-timestamp`` (this attempt's time) and ``webhook-signature`` (``v1,<base64
HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one per valid secret, space-separated).
The rows and their protocol are booking/models.py's WebhookDelivery and booking/tasks.py.

Which events a booking change makes (``event_types_for``): a new booking is always
``booking.created``; it is also ``booking.confirmed`` when it is confirmed at once (an
offering without approval), and a pending booking becomes ``booking.confirmed`` when the
coach approves it. So "confirmed" always means "this call will happen", however it got there.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from booking.models import Booking, BookingEvent, WebhookEndpoint
from common import outbound
from common.emails import absolute_url, mailbox, render_email, retry_delay
from common.outbound import OutboundError
from practice.models import PassEntry

BOOKING_CREATED = "booking.created"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_RESCHEDULED = "booking.rescheduled"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_DECLINED = "booking.declined"
BOOKING_NO_SHOW = "booking.no_show"
BOOKING_COMPLETED = "booking.completed"
# Sent by "send a test event" only; no endpoint subscribes to it.
WEBHOOK_TEST = "webhook.test"

BOOKING_EVENT_TYPES = (
    BOOKING_CREATED,
    BOOKING_CONFIRMED,
    BOOKING_RESCHEDULED,
    BOOKING_CANCELLED,
    BOOKING_DECLINED,
    BOOKING_NO_SHOW,
    BOOKING_COMPLETED,
)
# A ledger entry's kind -> its event ("pass.granted", ...); an adjustment by the coach sends
# none (it is their own act, made in the dashboard or the API).
_PASS_TYPES_BY_KIND = {
    kind: f"pass.{word}"
    for kind, word in (
        ("grant", "granted"),
        ("use", "used"),
        ("return", "returned"),
        ("forfeit", "forfeited"),
        ("expire", "expired"),
    )
}
PASS_EVENT_TYPES = tuple(_PASS_TYPES_BY_KIND.values())
EVENT_TYPES = BOOKING_EVENT_TYPES + PASS_EVENT_TYPES

Kind = BookingEvent.Kind

_TYPES_BY_KIND: dict[str, tuple[str, ...]] = {
    Kind.APPROVED: (BOOKING_CONFIRMED,),
    Kind.RESCHEDULED: (BOOKING_RESCHEDULED,),
    Kind.CANCELLED: (BOOKING_CANCELLED,),
    Kind.DECLINED: (BOOKING_DECLINED,),
    Kind.NO_SHOW: (BOOKING_NO_SHOW,),
    Kind.COMPLETED: (BOOKING_COMPLETED,),
    # A new manage link is the client's business, not the coach's tools'.
    Kind.LINK_RESET: (),
}

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# How long a rotated-out secret still signs (and so still verifies) deliveries.
ROTATION_OVERLAP = timedelta(days=1)
USER_AGENT = "CoachingCalls-Webhooks/1"


def event_types_for(kind: str, *, status: str) -> tuple[str, ...]:
    """The webhook types of one history event (see the module for "created" and "confirmed")."""
    if kind == Kind.CREATED:
        if status == Booking.Status.CONFIRMED:
            return (BOOKING_CREATED, BOOKING_CONFIRMED)
        return (BOOKING_CREATED,)
    return _TYPES_BY_KIND.get(kind, ())


def _iso(value: str | datetime | None) -> str | None:
    """An instant as the coach API writes it (UTC, "Z"); history details hold ISO strings."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def changes_for(kind: str, actor: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """What changed, for the payload's ``data.changes``: who did it, and the facts of the change."""
    changes: dict[str, Any] = {"event": kind, "by": actor}
    if kind == Kind.RESCHEDULED:
        changes["start"] = {"from": _iso(detail.get("from")), "to": _iso(detail.get("to"))}
    elif kind in (Kind.CANCELLED, Kind.DECLINED):
        changes["reason"] = str(detail.get("reason") or "")
    if detail.get("credit") in ("returned", "forfeited"):
        # A package session's credit: what the change did to it (the pass event follows).
        changes["credit"] = detail["credit"]
        changes["late"] = bool(detail.get("late"))
    elif kind == Kind.APPROVED:
        changes["status"] = {"from": Booking.Status.PENDING, "to": Booking.Status.CONFIRMED}
    return changes


def build_payload(
    event_type: str, booking_data: Mapping[str, Any], changes: Mapping[str, Any], *, now: datetime
) -> dict:
    """The body of a booking event: the booking as the coach API shows it
    (``coach_booking_data``), plus what changed."""
    data = dict(booking_data)
    if "credit" in changes:
        data["credit"] = changes["credit"]  # the ledger entry is written right after this event
    data["changes"] = dict(changes)
    return {"type": event_type, "timestamp": _iso(now), "data": data}


def pass_event_type(entry: PassEntry) -> str:
    """The webhook type of a ledger entry, or "" for none."""
    return _PASS_TYPES_BY_KIND.get(entry.kind, "")


def build_pass_payload(event_type: str, entry: PassEntry, *, now: datetime) -> dict:
    """The body of a pass event: the pass (balance after the entry) and the entry itself."""
    pass_obj = entry.pass_obj
    client = pass_obj.client
    data = {
        "pass": {
            "reference": pass_obj.reference,
            "package": pass_obj.name,
            "client": {"name": client.name, "email": client.email},
            "sessions": pass_obj.sessions,
            "remaining": pass_obj.remaining,
            "expires_at": _iso(pass_obj.expires_at),
        },
        "entry": {
            "kind": entry.kind,
            "amount": entry.amount,
            "booking": entry.booking.reference if entry.booking_id else None,
            "by": entry.actor,
            "reason": entry.reason,
            "late": entry.late,
            "at": _iso(entry.at),
        },
    }
    return {"type": event_type, "timestamp": _iso(now), "data": data}


def anonymised_payload(payload: Any, *, name: str, email: str, kept_reason: str) -> dict:
    """A stored body without what identifies the client or what anyone wrote about them.

    For a client's account deletion: the booking's facts stay (times, status, who acted),
    the client becomes ``name`` / ``email``; reasons go unless they are ``kept_reason``.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return payload if isinstance(payload, dict) else {}
    data = dict(payload["data"])
    client = data.get("client") if isinstance(data.get("client"), dict) else {}
    data["client"] = {**client, "name": name, "email": email, "phone": ""}
    data["answers"] = {}
    data["note"] = ""
    if data.get("cancel_reason") != kept_reason:
        data["cancel_reason"] = ""
    changes = data.get("changes")
    if isinstance(changes, dict) and "reason" in changes and changes["reason"] != kept_reason:
        data["changes"] = {**changes, "reason": ""}
    return {**payload, "data": data}


def ping_payload(endpoint: WebhookEndpoint, *, now: datetime) -> dict:
    """The body of "send a test event": no booking, nothing personal."""
    return {
        "type": WEBHOOK_TEST,
        "timestamp": _iso(now),
        "data": {"endpoint_id": endpoint.pk, "message": "This is a test event from your coaching calls."},
    }


def encode(payload: Mapping[str, Any]) -> str:
    """The exact body that is signed and sent (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def new_secret() -> str:
    """A signing secret: "whsec_" and 24 random bytes in base64, as Standard Webhooks expects."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_webhook_id() -> str:
    """A delivery's ``webhook-id``: unique, and the same for every attempt of it."""
    return "msg_" + secrets.token_urlsafe(18)


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and a rotated-out one for its day."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        keys.append(endpoint.previous_secret)
    return keys


def signature(keys: Iterable[str], webhook_id: str, at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,<sig>`` per key, space-separated."""
    return " ".join(Webhook(key).sign(msg_id=webhook_id, timestamp=at, data=body) for key in keys)


def headers_for(endpoint: WebhookEndpoint, webhook_id: str, body: str, *, now: datetime) -> dict[str, str]:
    """The headers of one attempt, signed at ``now`` (the attempt's own time)."""
    at = now.astimezone(UTC).replace(microsecond=0)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(signing_secrets(endpoint, now=now), webhook_id, at, body),
    }


def retry_for() -> timedelta:
    """How long after its first attempt a delivery is still tried (three days)."""
    return timedelta(hours=settings.WEBHOOK_RETRY_FOR_HOURS)


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: exponential, capped, with jitter."""
    return retry_delay(
        max(attempts - 1, 0),
        base=settings.WEBHOOK_RETRY_BASE_SECONDS,
        maximum=settings.WEBHOOK_RETRY_MAX_SECONDS,
    )


def next_attempt_at(*, first_attempt_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after a failed attempt, or None: the next would fall past the three days."""
    due = now + timedelta(seconds=backoff_seconds(attempts))
    if due > first_attempt_at + retry_for():
        return None
    return due


def check_endpoint_url(url: str) -> str:
    """The address, if a coach may register it: http(s), no user or password, not internal."""
    url = (url or "").strip()
    if not url or len(url) > 2000:
        raise OutboundError("Enter a web address of at most 2000 characters.")
    return outbound.check_public_url(url, what="webhook")


def post(url: str, body: str, headers: Mapping[str, str]) -> int:
    """POST one attempt through the guarded client (10 s for everything); its status code.

    Redirects are not followed (Standard Webhooks): a 3xx is a failed attempt.
    """
    return outbound.post(
        url,
        body.encode(),
        headers=headers,
        deadline=settings.WEBHOOK_DEADLINE,
        max_bytes=settings.WEBHOOK_RESPONSE_MAX_BYTES,
        what="webhook",
    )


def describe_status(status: int) -> str:
    """A failed attempt's answer, for the coach (the code says it all; bodies are not kept)."""
    if 300 <= status < 400:
        return f"The webhook server answered {status}, a redirect; webhooks are not redirected."
    return f"The webhook server answered {status}."


def paused_email(endpoint: WebhookEndpoint, *, failures: int, last_error: str) -> EmailMultiAlternatives:
    """The one email that tells a coach their endpoint was paused (and how to resume it)."""
    coach = endpoint.coach
    context = {
        "coach": coach,
        "endpoint": endpoint,
        "address": outbound.display_url(endpoint.url),
        "failures": failures,
        "last_error": last_error,
        "dashboard_url": absolute_url(reverse("dashboard")),
        "SITE_NAME": settings.SITE_NAME,
    }
    subject, text, html = render_email("webhook-paused-coach", context)
    message = EmailMultiAlternatives(
        subject, text, to=[mailbox(coach.user.email)], headers={"Auto-Submitted": "auto-generated"}
    )
    message.attach_alternative(html, "text/html")
    return message
