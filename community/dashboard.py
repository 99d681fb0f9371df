"""The coach's community pages in the dashboard: the landing-page editor with a live
preview, subscribers with a CSV export, and broadcasts (draft, test, send, progress).

Each view gets the signed-in coach from ``coach_required`` and loads rows through that
coach, so another coach's ids answer 404.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from functools import wraps
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import selectors as coaching_selectors
from coaching import services as coaching_services
from coaching.models import Coach
from coaching.permissions import coach_required
from common.markdown import render_markdown
from common.shortcuts import found_or_404
from community import selectors, services
from community.forms import (
    MAX_PREVIEW_LENGTH,
    BroadcastForm,
    LandingForm,
    PreviewForm,
    SubscriberFilterForm,
)
from community.models import Broadcast, Subscriber

SUBSCRIBERS_PER_PAGE = 50
DraftView = Callable[[HttpRequest, Coach, Broadcast], HttpResponse]
BROADCASTS_PER_PAGE = 20


# ---------------------------------------------------------------------------
# Dashboard: the landing page
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@coach_required
def landing_edit(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Edit the landing page. "Preview" (works without JS) shows the introduction without saving."""
    posted = request.method == "POST"
    form = LandingForm(request.POST if posted else None, request.FILES if posted else None, instance=coach)
    previewing = posted and request.POST.get("action") == "preview"
    if posted and not previewing and form.is_valid():
        coaching_services.coach_update(coach=form.instance, fields=form.Meta.fields)
        messages.success(request, "Landing page saved.")
        return redirect("dashboard_landing")
    source = request.POST.get("intro_markdown", "") if posted else coach.intro_markdown
    # Re-read the saved coach: a failed form leaves the instance half-updated.
    saved = coaching_selectors.coach_for_user(request.user) if posted else coach
    return render(
        request,
        "community/landing_edit.html",
        {
            "coach": saved,
            "form": form,
            "section": "landing",
            "preview_html": render_markdown(source[:MAX_PREVIEW_LENGTH]),
            "previewing": previewing,
        },
    )


@require_POST
@coach_required
def markdown_preview(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The live preview: Markdown in (``text``), sanitised HTML out, for static/js/landing-preview.js."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            "<p>This text is too long to preview.</p>",
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/html; charset=utf-8",
        )
    html = render_markdown(form.cleaned_data["text"]) or "<p><em>Nothing to preview yet.</em></p>"
    return HttpResponse(html, content_type="text/html; charset=utf-8")


# ---------------------------------------------------------------------------
# Dashboard: subscribers
# ---------------------------------------------------------------------------
@require_GET
@coach_required
def subscriber_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    filter_form = SubscriberFilterForm(request.GET)
    filters = filter_form.filters()
    page = Paginator(selectors.subscribers_filtered(coach=coach, **filters), SUBSCRIBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = urlencode({name: value for name, value in filters.items() if value})
    return render(
        request,
        "community/subscribers.html",
        {
            "coach": coach,
            "section": "community",
            "filter_form": filter_form,
            "filters": filters,
            "page": page,
            "counts": selectors.subscriber_counts(coach),
            "export_url": reverse("dashboard_subscribers_export") + (f"?{query}" if query else ""),
            "page_query": _page_query(request),
        },
    )


def _page_query(request: HttpRequest) -> str:
    """The filters of the current page, to keep in the pager's links."""
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "email",
    "first_name",
    "status",
    "source",
    "consented_at",
    "consent_text",
    "confirmed_at",
    "unsubscribed_at",
    "created_at",
)


def csv_safe(value: object) -> str:
    """A cell that a spreadsheet shows as text: a leading ``'`` defuses ``=HYPERLINK(…)`` and friends."""
    text = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@coach_required
def subscriber_export(request: HttpRequest, coach: Coach) -> StreamingHttpResponse:
    """All subscribers matching the list's filters, as CSV (streamed: a long list costs no memory)."""
    filters = SubscriberFilterForm(request.GET).filters()
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for row in selectors.subscriber_rows(coach=coach, columns=CSV_COLUMNS, **filters):
            yield writer.writerow([csv_safe(value) for value in row])

    stamp = timezone.now().astimezone(coach.zone).strftime("%Y-%m-%d")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{coach.slug}-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# Dashboard: broadcasts
# ---------------------------------------------------------------------------
def _broadcast_or_404(coach: Coach, pk: int) -> Broadcast:
    return found_or_404(
        selectors.coach_broadcast_get(coach=coach, pk=pk), "No email of yours with this number."
    )


def _draft_only(refusal: str) -> Callable[[DraftView], Callable[[HttpRequest, Coach, int], HttpResponse]]:
    """The view gets the coach's draft ``pk``; a sent email sends the coach back to its page with ``refusal``."""

    def decorate(view: DraftView) -> Callable[[HttpRequest, Coach, int], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
            broadcast = _broadcast_or_404(coach, pk)
            if broadcast.status != Broadcast.Status.DRAFT:
                messages.error(request, refusal)
                return redirect("dashboard_broadcast", pk=broadcast.pk)
            return view(request, coach, broadcast)

        return wrapper

    return decorate


@require_GET
@coach_required
def broadcast_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    page = Paginator(selectors.coach_broadcasts(coach=coach), BROADCASTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "community/broadcast_list.html",
        {
            "coach": coach,
            "section": "broadcasts",
            "page": page,
            "confirmed": selectors.subscriber_counts(coach)[Subscriber.Status.CONFIRMED],
        },
    )


def _broadcast_form(request: HttpRequest, coach: Coach, broadcast: Broadcast | None) -> HttpResponse:
    posted = request.method == "POST"
    form = BroadcastForm(request.POST if posted else None, instance=broadcast)
    previewing = posted and request.POST.get("action") == "preview"
    if posted and not previewing and form.is_valid():
        saved = services.broadcast_save_draft(coach=coach, broadcast=form.instance)
        messages.success(request, "Draft saved. Preview it, send yourself a test, then send it.")
        return redirect("dashboard_broadcast", pk=saved.pk)
    source = (
        request.POST.get("body_markdown", "") if posted else (broadcast.body_markdown if broadcast else "")
    )
    return render(
        request,
        "community/broadcast_form.html",
        {
            "coach": coach,
            "section": "broadcasts",
            "form": form,
            "broadcast": broadcast,
            "preview_html": render_markdown(source[:MAX_PREVIEW_LENGTH]),
            "previewing": previewing,
        },
    )


@require_http_methods(["GET", "POST"])
@coach_required
def broadcast_create(request: HttpRequest, coach: Coach) -> HttpResponse:
    return _broadcast_form(request, coach, None)


@require_http_methods(["GET", "POST"])
@coach_required
@_draft_only("This email has been sent, so it can't be changed any more.")
def broadcast_edit(request: HttpRequest, coach: Coach, broadcast: Broadcast) -> HttpResponse:
    return _broadcast_form(request, coach, broadcast)


def _progress(broadcast: Broadcast) -> dict[str, Any]:
    counts = selectors.broadcast_progress_counts(broadcast.pk)
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    total = counts["total"] or broadcast.recipient_count
    return {
        "status": broadcast.status,
        "status_label": broadcast.get_status_display(),
        "total": total,
        "sent": counts["sent"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "waiting": counts["pending"] + counts["sending"],
        "done": done,
        "finished": broadcast.status == Broadcast.Status.SENT,
        "planned": broadcast.planned_at is not None,
    }


@require_GET
@coach_required
def broadcast_detail(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    broadcast = _broadcast_or_404(coach, pk)
    return render(
        request,
        "community/broadcast_detail.html",
        {
            "coach": coach,
            "section": "broadcasts",
            "broadcast": broadcast,
            "body_html": render_markdown(broadcast.body_markdown),
            "progress": _progress(broadcast),
            "confirmed": selectors.subscriber_counts(coach)[Subscriber.Status.CONFIRMED],
        },
    )


@require_GET
@coach_required
def broadcast_progress(request: HttpRequest, coach: Coach, pk: int) -> JsonResponse:
    """Progress for static/js/broadcast-progress.js, which polls it while the email goes out."""
    broadcast = _broadcast_or_404(coach, pk)
    response = JsonResponse(_progress(broadcast))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@coach_required
def broadcast_test(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    broadcast = _broadcast_or_404(coach, pk)
    services.broadcast_send_test(broadcast=broadcast)
    messages.success(request, f"A test is on its way to {coach.user.email}.")
    return redirect("dashboard_broadcast", pk=broadcast.pk)


@require_http_methods(["GET", "POST"])
@coach_required
def broadcast_send(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET: "Send to N subscribers?" POST: start sending (once, whatever the clicks)."""
    broadcast = _broadcast_or_404(coach, pk)
    confirmed = selectors.subscriber_counts(coach)[Subscriber.Status.CONFIRMED]
    if broadcast.status != Broadcast.Status.DRAFT:
        messages.info(request, "This email is already on its way.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    if request.method == "POST":
        if not confirmed:
            messages.error(
                request, "Nobody has confirmed their subscription yet, so there is no one to send to."
            )
            return redirect("dashboard_broadcast", pk=broadcast.pk)
        services.broadcast_start(broadcast=broadcast)
        messages.success(request, f"Sending to {confirmed} subscriber{'s' if confirmed != 1 else ''}.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    return render(
        request,
        "community/broadcast_send.html",
        {"coach": coach, "section": "broadcasts", "broadcast": broadcast, "confirmed": confirmed},
    )


@require_http_methods(["GET", "POST"])
@coach_required
@_draft_only("Only drafts can be deleted; this email has been sent.")
def broadcast_delete(request: HttpRequest, coach: Coach, broadcast: Broadcast) -> HttpResponse:
    if request.method == "POST":
        services.broadcast_delete_draft(broadcast=broadcast)
        messages.success(request, f"Draft “{broadcast.subject}” deleted.")
        return redirect("dashboard_broadcasts")
    return render(
        request,
        "community/broadcast_delete.html",
        {"coach": coach, "section": "broadcasts", "broadcast": broadcast},
    )
