"""The coach's webhooks in the dashboard: endpoints (add, rotate the secret, send a test event,
pause, resume, delete) and each endpoint's deliveries with a resend.

Every change goes through booking/services.py, the functions the coach API calls
(api/me_webhooks.py), so both answer by the same rules. A secret is rendered straight into
the POST's answer that makes it (``no-store``), never put in a flash message or the session,
as the API tokens pages do (coaching/api_tokens.py). Addresses are shown up to their host,
as everywhere else: the rest of a hook's address is often its own secret.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from booking import selectors, services, webhooks
from booking.models import WebhookDelivery, WebhookEndpoint
from coaching.models import Coach
from coaching.permissions import coach_required
from common.forms import Form
from common.outbound import display_url
from common.shortcuts import found_or_404

ENDPOINTS_PER_PAGE = 20
DELIVERIES_PER_PAGE = 25
NOT_FOUND = "No webhook endpoint of yours with this number."
DELIVERY_NOT_FOUND = "No delivery of this endpoint with this number."
UNDER_WAY = "An attempt to send it is under way; try again in a minute."

# What each event means, in the coach's words (the names are what their tools see).
EVENT_LABELS = {
    webhooks.BOOKING_CREATED: "a call is booked (confirmed, or waiting for your approval)",
    webhooks.BOOKING_CONFIRMED: "a call is confirmed, at once or when you approve it",
    webhooks.BOOKING_RESCHEDULED: "a call is moved to another time",
    webhooks.BOOKING_CANCELLED: "a call is cancelled",
    webhooks.BOOKING_DECLINED: "you decline a request",
    webhooks.BOOKING_NO_SHOW: "a call is marked as a no-show",
    webhooks.BOOKING_COMPLETED: "a call is marked as done",
    "pass.granted": "a client gets a package pass",
    "pass.used": "a booking uses a session of a pass",
    "pass.returned": "a session goes back to a pass",
    "pass.forfeited": "a session of a pass is lost (late cancellation or no-show)",
    "pass.expired": "a pass expires",
}


class EndpointForm(Form):
    url = forms.CharField(
        label="Address",
        max_length=2000,
        help_text="Where the events are sent: an http(s) address on the internet, e.g. from Zapier or your own site.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=[(name, f"{name}: {EVENT_LABELS.get(name, name)}") for name in webhooks.EVENT_TYPES],
        initial=list(webhooks.BOOKING_EVENT_TYPES),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )
    description = forms.CharField(
        label="Description",
        max_length=200,
        required=False,
        help_text="What it is for, so you recognise it later, e.g. “CRM”.",
    )

    def event_groups(self) -> list[tuple[str, list[forms.boundfield.BoundWidget]]]:
        """The event checkboxes in two groups: bookings, then package passes."""
        boxes = list(self["event_types"])
        return [
            ("Bookings", [b for b in boxes if b.data["value"] in webhooks.BOOKING_EVENT_TYPES]),
            ("Package passes", [b for b in boxes if b.data["value"] in webhooks.PASS_EVENT_TYPES]),
        ]


class DeliveryFilterForm(Form):
    status = forms.ChoiceField(
        label="Status", choices=(("", "Any status"), *WebhookDelivery.Status.choices), required=False
    )

    def status_value(self) -> str:
        """The chosen status, or "" for any (a bad value never breaks the list)."""
        return self.cleaned_data.get("status", "") if self.is_valid() else ""


@dataclass
class EndpointRow:
    endpoint: WebhookEndpoint
    address: str
    events: str
    last_delivery: WebhookDelivery | None = None


@dataclass
class DeliveryRow:
    delivery: WebhookDelivery
    body: str

    @property
    def can_resend(self) -> bool:
        return self.delivery.status != WebhookDelivery.Status.SENDING


def events_summary(event_types: Sequence[str] | None) -> str:
    """``Every booking event, pass.used``: the subscribed events, whole groups named as such."""
    chosen = set(event_types or ())
    if not chosen or chosen >= set(webhooks.EVENT_TYPES):
        return "Every event"
    parts: list[str] = []
    for group, word in ((webhooks.BOOKING_EVENT_TYPES, "booking"), (webhooks.PASS_EVENT_TYPES, "pass")):
        if chosen >= set(group):
            parts.append(f"every {word} event")
        else:
            parts.extend(name for name in group if name in chosen)
    text = ", ".join(parts)
    # "Every ..." starts a sentence; an event's name is written as the tools see it.
    return text[:1].upper() + text[1:] if text.startswith("every") else text


def _row(endpoint: WebhookEndpoint, last: WebhookDelivery | None = None) -> EndpointRow:
    return EndpointRow(endpoint, display_url(endpoint.url), events_summary(endpoint.event_types), last)


def _endpoint_or_404(coach: Coach, pk: int) -> WebhookEndpoint:
    return found_or_404(selectors.coach_webhook_endpoint_get(coach=coach, pk=pk), NOT_FOUND)


def _back(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    """After an action: the list if it was pressed there, else the endpoint's page (with its filter)."""
    if request.POST.get("back") == "list":
        return redirect("dashboard_webhooks")
    url = reverse("dashboard_webhook", args=[endpoint.pk])
    status = request.POST.get("status", "")
    if status in WebhookDelivery.Status.values:
        url += "?" + urlencode({"status": status})
    return redirect(url)


def _page_query(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return "?" + urlencode(sorted((k, v) for k, v in params.items() if v))


@require_http_methods(["GET"])
@coach_required
def endpoint_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The coach's endpoints, oldest first, each with its state and its latest delivery."""
    page = Paginator(selectors.coach_webhook_endpoints(coach=coach), ENDPOINTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    endpoints = list(page.object_list)
    last = selectors.webhook_last_deliveries(endpoints=endpoints)
    context = {
        "coach": coach,
        "page": page,
        "rows": [_row(endpoint, last.get(endpoint.pk)) for endpoint in endpoints],
        "section": "webhooks",
    }
    return render(request, "booking/dashboard/webhooks.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@coach_required
def endpoint_create(request: HttpRequest, coach: Coach) -> HttpResponse:
    """GET: the form. POST: register the endpoint and show its secret, this once."""
    form = EndpointForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, secret = services.webhook_endpoint_create(
                    coach=coach,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"],
                )
            except services.WebhookError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                context = {
                    "coach": coach,
                    "row": _row(endpoint),
                    "secret": secret,
                    "rotated": False,
                    "section": "webhooks",
                }
                return render(request, "booking/dashboard/webhook_secret.html", context)
        status = HTTPStatus.BAD_REQUEST
    return render(
        request,
        "booking/dashboard/webhook_form.html",
        {"coach": coach, "form": form, "section": "webhooks"},
        status=status,
    )


@require_http_methods(["GET"])
@coach_required
def endpoint_detail(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """One endpoint: its settings and actions, and its deliveries, newest first, filtered by status."""
    endpoint = _endpoint_or_404(coach, pk)
    filter_form = DeliveryFilterForm(request.GET or None)
    status = filter_form.status_value()
    page = Paginator(
        selectors.webhook_deliveries(endpoint=endpoint, status=status), DELIVERIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = [
        DeliveryRow(
            delivery,
            json.dumps(
                delivery.payload if isinstance(delivery.payload, dict) else {}, indent=2, ensure_ascii=False
            ),
        )
        for delivery in page.object_list
    ]
    context = {
        "coach": coach,
        "row": _row(endpoint),
        "endpoint": endpoint,
        "filter_form": filter_form,
        "status": status,
        "page": page,
        "deliveries": rows,
        "now": timezone.now(),
        "prev_query": _page_query(request, page.previous_page_number()) if page.has_previous() else "",
        "next_query": _page_query(request, page.next_page_number()) if page.has_next() else "",
        "section": "webhooks",
    }
    return render(request, "booking/dashboard/webhook_detail.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@coach_required
def endpoint_rotate(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET: what rotating does, with a button. POST: a new secret, shown this once."""
    endpoint = _endpoint_or_404(coach, pk)
    if request.method == "POST":
        secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        endpoint.refresh_from_db(fields=["previous_secret_expires_at"])
        context = {
            "coach": coach,
            "row": _row(endpoint),
            "secret": secret,
            "rotated": True,
            "section": "webhooks",
        }
        return render(request, "booking/dashboard/webhook_secret.html", context)
    return render(
        request,
        "booking/dashboard/webhook_rotate.html",
        {"coach": coach, "row": _row(endpoint), "section": "webhooks"},
    )


@require_POST
@coach_required
def endpoint_test(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Queue a ``webhook.test`` event (sent even while paused) and say so."""
    endpoint = _endpoint_or_404(coach, pk)
    services.webhook_send_test(endpoint=endpoint)
    messages.success(
        request,
        f"A test event is queued for {display_url(endpoint.url)}. "
        "Its delivery shows in the endpoint's deliveries in a moment.",
    )
    return _back(request, endpoint)


@require_POST
@coach_required
def endpoint_pause(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Stop sending to the endpoint (pausing a paused one is harmless)."""
    endpoint = _endpoint_or_404(coach, pk)
    if services.webhook_endpoint_pause(endpoint=endpoint):
        messages.success(
            request,
            f"{display_url(endpoint.url)} is paused: events from now on are not sent to it, "
            "and deliveries already waiting go out when you resume it.",
        )
    else:
        messages.info(request, f"{display_url(endpoint.url)} was already paused.")
    return _back(request, endpoint)


@require_POST
@coach_required
def endpoint_resume(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Send to the endpoint again; the deliveries that waited go out in order."""
    endpoint = _endpoint_or_404(coach, pk)
    if services.webhook_endpoint_resume(endpoint=endpoint):
        messages.success(
            request,
            f"{display_url(endpoint.url)} is active again: deliveries that waited go out now, in order.",
        )
    else:
        messages.info(request, f"{display_url(endpoint.url)} was not paused.")
    return _back(request, endpoint)


@require_http_methods(["GET", "POST"])
@coach_required
def endpoint_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET: what deleting does, with a button. POST: delete the endpoint and its deliveries."""
    endpoint = _endpoint_or_404(coach, pk)
    if request.method == "POST":
        services.webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, f"{display_url(endpoint.url)} is deleted: nothing more is sent to it.")
        return redirect("dashboard_webhooks")
    return render(
        request,
        "booking/dashboard/webhook_delete.html",
        {"coach": coach, "row": _row(endpoint), "section": "webhooks"},
    )


@require_POST
@coach_required
def delivery_resend(request: HttpRequest, coach: Coach, pk: int, delivery_pk: int) -> HttpResponse:
    """Send a delivery again now: the same body and webhook-id, a fresh round of retries."""
    endpoint = _endpoint_or_404(coach, pk)
    delivery = found_or_404(
        selectors.webhook_delivery_get(endpoint=endpoint, pk=delivery_pk), DELIVERY_NOT_FOUND
    )
    if not services.webhook_delivery_resend(delivery=delivery):
        messages.error(request, f"The {delivery.event_type} event can't be sent again now. {UNDER_WAY}")
    elif endpoint.is_paused and delivery.booking_id is not None:
        messages.success(
            request,
            f"The {delivery.event_type} event is queued again; it goes out when you resume the endpoint.",
        )
    else:
        messages.success(request, f"The {delivery.event_type} event is queued to be sent again.")
    return _back(request, endpoint)
