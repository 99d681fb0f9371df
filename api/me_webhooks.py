"""The coach API's webhooks (/api/v1/me/webhooks): register, rotate, test, pause, delete,
and each endpoint's deliveries with a resend. Writes go through booking/services.py, the
same functions the dashboard uses; a secret is in the answer that makes it and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from api.auth import require_write, token_coach
from api.errors import field_error
from api.me_schemas import AUTH_ERRORS, conflict
from api.schemas import ErrorOut, QueryInt
from booking import selectors, services, webhooks
from booking.models import WebhookDelivery, WebhookEndpoint
from coaching.models import Coach
from common.outbound import display_url

router = Router()

NOT_FOUND = "No webhook endpoint of yours with this id."
DELIVERY_NOT_FOUND = "No delivery of this endpoint with this id."
UNDER_WAY = "An attempt is under way; try again in a minute."
MAX_LIMIT = 100

EXAMPLE_ENDPOINT = {
    "id": 7,
    "url": "https://hooks.example.com/coaching",
    "description": "CRM",
    "event_types": ["booking.created", "booking.cancelled"],
    "is_paused": False,
    "paused_reason": "",
    "consecutive_failures": 0,
    "previous_secret_expires_at": None,
    "created_at": "2026-12-01T09:00:00Z",
}
EXAMPLE_DELIVERY = {
    "id": 1201,
    "event_type": "booking.created",
    "webhook_id": "msg_3q2-Xw7v0dSgqv1HnbnOuUum",
    "booking": "K7M2Q9XA",
    "status": "delivered",
    "attempts": 1,
    "last_status_code": 200,
    "last_error": "",
    "last_attempt_at": "2026-12-01T09:00:01Z",
    "next_attempt_at": None,
    "delivered_at": "2026-12-01T09:00:01Z",
    "created_at": "2026-12-01T09:00:00Z",
    "payload": {
        "type": "booking.created",
        "timestamp": "2026-12-01T09:00:00Z",
        "data": {"reference": "K7M2Q9XA"},
    },
}


class EndpointIn(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://hooks.example.com/coaching",
                    "event_types": ["booking.created", "booking.cancelled"],
                    "description": "CRM",
                }
            ]
        }
    }

    url: str = Field(
        max_length=2000, description="An http(s) address on the internet (not a private network)"
    )
    event_types: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=f"Which events to send: any of {', '.join(webhooks.EVENT_TYPES)}; none means all",
    )
    description: str = Field("", max_length=200, description="What it is for, for you")


class EndpointOut(Schema):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE_ENDPOINT]}}

    id: int
    url: str = Field(description="The address, with everything after the host hidden")
    description: str
    event_types: list[str] = Field(description="Empty: every event type")
    is_paused: bool
    paused_reason: str
    consecutive_failures: int = Field(description="Failed attempts since the last success")
    previous_secret_expires_at: str | None = Field(
        description="Until then a rotated-out secret still signs deliveries (with the new one)"
    )
    created_at: str


class EndpointCreatedOut(EndpointOut):
    model_config = {
        "json_schema_extra": {
            "examples": [{**EXAMPLE_ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    }

    secret: str = Field(description="Verifies the webhook-signature header. Shown this once: keep it safe")


class SecretOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "previous_secret_expires_at": "2026-12-02T09:00:00Z",
                }
            ]
        }
    }

    secret: str = Field(description="The new secret, shown this once")
    previous_secret_expires_at: str = Field(description="The old secret signs too until then")


class EndpointListOut(Schema):
    model_config = {"json_schema_extra": {"examples": [{"items": [EXAMPLE_ENDPOINT]}]}}

    items: list[EndpointOut]


class DeliveryOut(Schema):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE_DELIVERY]}}

    id: int
    event_type: str
    webhook_id: str = Field(description="The webhook-id header: the same for every attempt and a resend")
    booking: str | None = Field(description="The booking's reference; null for a test event")
    status: str = Field(description="pending, sending, delivered, failed or cancelled")
    attempts: int
    last_status_code: int | None = Field(description="What your server answered last time, if it answered")
    last_error: str
    last_attempt_at: str | None
    next_attempt_at: str | None = Field(description="When it is tried again, while pending")
    delivered_at: str | None
    created_at: str
    payload: dict[str, Any] = Field(description="The body as sent")


class DeliveryPageOut(Schema):
    model_config = {"json_schema_extra": {"examples": [{"items": [EXAMPLE_DELIVERY], "next_offset": None}]}}

    items: list[DeliveryOut]
    next_offset: int | None = Field(description="Pass as ``offset`` for the next page; null on the last page")


class DeliveryQuery(Schema):
    status: str | None = Field(None, max_length=20, description="Only deliveries with this status")
    limit: QueryInt = Field(50, ge=1, le=MAX_LIMIT)
    offset: QueryInt = Field(0, ge=0, le=1_000_000)


READ_ONE = {200: EndpointOut, 404: ErrorOut, **AUTH_ERRORS}
WRITE_ONE = {**READ_ONE, 403: ErrorOut}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def _endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": display_url(endpoint.url),
        "description": endpoint.description,
        "event_types": list(endpoint.event_types or []),
        "is_paused": endpoint.is_paused,
        "paused_reason": endpoint.paused_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        "created_at": _iso(endpoint.created_at),
    }


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event_type": delivery.event_type,
        "webhook_id": delivery.webhook_id,
        "booking": delivery.booking.reference if delivery.booking_id else None,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_attempt_at": _iso(delivery.last_attempt_at),
        "next_attempt_at": _iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "delivered_at": _iso(delivery.delivered_at),
        "created_at": _iso(delivery.created_at),
        "payload": delivery.payload if isinstance(delivery.payload, dict) else {},
    }


def _endpoint_or_404(coach: Coach, endpoint_id: int) -> WebhookEndpoint:
    endpoint = selectors.coach_webhook_endpoint_get(coach=coach, pk=endpoint_id)
    if endpoint is None:
        raise Http404(NOT_FOUND)
    return endpoint


@router.get("", response={200: EndpointListOut, **AUTH_ERRORS}, summary="Your webhook endpoints")
def list_endpoints(request: HttpRequest):
    coach = token_coach(request)
    return {"items": [_endpoint_out(e) for e in selectors.coach_webhook_endpoints(coach=coach)]}


@router.post(
    "",
    response={201: EndpointCreatedOut, 400: ErrorOut, 403: ErrorOut, **AUTH_ERRORS},
    summary="Register a webhook endpoint",
    description=(
        "Deliveries follow Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), signed "
        "with the `secret` in this answer, which is not shown again. A 422 names the field (`url`, "
        "`event_types`, `description`)."
    ),
)
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    coach = require_write(request)
    try:
        endpoint, secret = services.webhook_endpoint_create(
            coach=coach, url=payload.url, event_types=payload.event_types, description=payload.description
        )
    except services.WebhookError as exc:
        raise field_error("body", exc.field or "url", exc.message) from exc
    return Status(HTTPStatus.CREATED, {**_endpoint_out(endpoint), "secret": secret})


@router.get("/{endpoint_id}", response=READ_ONE, summary="One webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: int):
    return _endpoint_out(_endpoint_or_404(token_coach(request), endpoint_id))


@router.post(
    "/{endpoint_id}/rotate-secret",
    response={200: SecretOut, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Replace the signing secret (the old one stays valid for a day)",
    description="Until `previous_secret_expires_at` every delivery carries a signature with each secret.",
)
def rotate_secret(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db(fields=["previous_secret_expires_at"])
    return {"secret": secret, "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at)}


@router.post(
    "/{endpoint_id}/test",
    response={202: DeliveryOut, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Send a webhook.test event now",
    description="Sent even to a paused endpoint; follow it in the endpoint's deliveries.",
)
def send_test(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    delivery = services.webhook_send_test(endpoint=endpoint)
    return Status(HTTPStatus.ACCEPTED, _delivery_out(delivery))


@router.post(
    "/{endpoint_id}/pause",
    response=WRITE_ONE,
    summary="Pause an endpoint: events are not sent while it is paused",
)
def pause_endpoint(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    services.webhook_endpoint_pause(endpoint=endpoint)
    endpoint.refresh_from_db()
    return _endpoint_out(endpoint)


@router.post(
    "/{endpoint_id}/resume",
    response=WRITE_ONE,
    summary="Resume a paused endpoint: the deliveries that waited go out in order",
)
def resume_endpoint(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    services.webhook_endpoint_resume(endpoint=endpoint)
    endpoint.refresh_from_db()
    return _endpoint_out(endpoint)


@router.delete(
    "/{endpoint_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Delete an endpoint and its deliveries",
)
def delete_endpoint(request: HttpRequest, endpoint_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    services.webhook_endpoint_delete(endpoint=endpoint)
    return Status(HTTPStatus.NO_CONTENT, None)


@router.get(
    "/{endpoint_id}/deliveries",
    response={200: DeliveryPageOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="An endpoint's deliveries, newest first",
)
def list_deliveries(request: HttpRequest, endpoint_id: int, query: Query[DeliveryQuery]):
    endpoint = _endpoint_or_404(token_coach(request), endpoint_id)
    if query.status and query.status not in WebhookDelivery.Status.values:
        raise field_error("query", "status", f"Choose from {', '.join(WebhookDelivery.Status.values)}.")
    rows = list(
        selectors.webhook_deliveries(endpoint=endpoint, status=query.status or "")[
            query.offset : query.offset + query.limit + 1
        ]
    )
    more = len(rows) > query.limit
    return {
        "items": [_delivery_out(d) for d in rows[: query.limit]],
        "next_offset": query.offset + query.limit if more else None,
    }


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/resend",
    response={202: DeliveryOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, **AUTH_ERRORS},
    summary="Send a delivery again now: the same body and webhook-id",
    description="409 while an attempt is under way.",
    openapi_extra=conflict(UNDER_WAY),
)
def resend_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(require_write(request), endpoint_id)
    delivery = selectors.webhook_delivery_get(endpoint=endpoint, pk=delivery_id)
    if delivery is None:
        raise Http404(DELIVERY_NOT_FOUND)
    if not services.webhook_delivery_resend(delivery=delivery):
        return Status(HTTPStatus.CONFLICT, {"detail": UNDER_WAY})
    delivery.refresh_from_db()
    return Status(HTTPStatus.ACCEPTED, _delivery_out(delivery))
