"""Pages of the email community and the landing-page editor.

Public: the signup form (also on the landing page), "check your inbox", the
confirmation link, the one-click unsubscribe, the privacy policy. Dashboard (the
signed-in coach, through ``coach_required``): the landing page editor with a live
preview, subscribers with a CSV export, and broadcasts.

Every problem a visitor can cause ends as a page that says what went wrong: a form
with messages, 404 for a tampered link, 400 for an expired one, 429 when too fast.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import community
from coaching.community_forms import (
    MAX_PREVIEW_LENGTH,
    BroadcastForm,
    CommunitySignupForm,
    LandingForm,
    PreviewForm,
    SubscriberFilterForm,
)
from coaching.markdown import render_markdown
from coaching.models import Broadcast, Coach, SitePage, Subscriber
from coaching.permissions import coach_required
from config.ratelimit import AddressRateThrottle

SUBSCRIBERS_PER_PAGE = 50
BROADCASTS_PER_PAGE = 20
TOO_MANY_MESSAGE = "Too many signups from your address. Please wait a minute and try again."


def signup_throttle() -> AddressRateThrottle:
    return AddressRateThrottle("community-signup", getattr(settings, "COMMUNITY_SIGNUP_RATE", "5/m"))


def _public_coach_or_404(slug: str) -> Coach:
    coach = Coach.objects.filter(slug=slug).first()
    if coach is None or not coach.community_enabled:
        raise Http404("No email community at this address.")
    return coach


# ---------------------------------------------------------------------------
# Privacy policy
# ---------------------------------------------------------------------------
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The site's privacy policy as staff wrote it in admin, or the default text until they do."""
    page = SitePage.objects.filter(slug=SitePage.Slug.PRIVACY).first()
    context = {
        "page": page,
        "body_html": render_markdown(page.body_markdown) if page else "",
    }
    return render(request, "pages/privacy.html", context)


# ---------------------------------------------------------------------------
# Signup, confirm, unsubscribe
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, coach: str) -> HttpResponse:
    """GET: the signup form on its own. POST (also from the landing page): sign up, then "check your inbox"."""
    found = _public_coach_or_404(coach)
    if request.method == "GET":
        form = CommunitySignupForm(coach=found)
        return render(request, "coaching/community/signup.html", {"coach": found, "form": form})

    form = CommunitySignupForm(request.POST, coach=found)
    if not signup_throttle().allow_request(request):
        return render(
            request,
            "booking/too_many_requests.html",
            {"message": TOO_MANY_MESSAGE},
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
    if form.is_bot:
        # Bots get the same answer as people and nothing else: no row, no email.
        return redirect("community_check_inbox", coach=found.slug)
    if not form.is_valid():
        return render(
            request,
            "coaching/community/signup.html",
            {"coach": found, "form": form},
            status=HTTPStatus.BAD_REQUEST,
        )
    data = form.cleaned_data
    community.subscriber_subscribe(
        coach=found,
        email=data["email"],
        first_name=data["first_name"],
        source=Subscriber.Source.FORM,
        consent_text=form.fields["consent"].label,
    )
    return redirect("community_check_inbox", coach=found.slug)


@require_GET
def check_inbox(request: HttpRequest, coach: str) -> HttpResponse:
    found = _public_coach_or_404(coach)
    return render(request, "coaching/community/check_inbox.html", {"coach": found})


def _subscriber_for_confirm(request: HttpRequest, token: str) -> Subscriber | HttpResponse:
    try:
        found = community.subscriber_for_confirm_token(token)
    except community.ConfirmLinkExpired as expired:
        return render(
            request,
            "coaching/community/link_expired.html",
            {"coach": expired.coach, "days": community.CONFIRM_MAX_AGE.days},
            status=HTTPStatus.BAD_REQUEST,
        )
    if found is None:
        raise Http404("No subscription for this link.")
    return found


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a "Confirm" button (mail scanners that follow links confirm nothing). POST: confirm."""
    found = _subscriber_for_confirm(request, token)
    if isinstance(found, HttpResponse):
        return found
    context: dict[str, Any] = {"coach": found.coach, "subscriber": found}
    if request.method == "POST":
        outcome = community.subscriber_confirm(subscriber=found)
        return render(request, "coaching/community/confirmed.html", {**context, "outcome": outcome})
    if found.status != Subscriber.Status.PENDING:
        outcome = "already" if found.status == Subscriber.Status.CONFIRMED else "unsubscribed"
        return render(request, "coaching/community/confirmed.html", {**context, "outcome": outcome})
    return render(request, "coaching/community/confirm.html", context)


@csrf_exempt  # RFC 8058 one-click: mail systems POST here without our cookie; the token is the secret.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: "Unsubscribe?" with a button. POST (the button, or a mail system's one-click): unsubscribe."""
    found = community.subscriber_for_unsubscribe_token(token)
    if found is None:
        raise Http404("No subscription for this link.")
    context: dict[str, Any] = {"coach": found.coach, "subscriber": found, "token": token}
    if request.method == "POST":
        changed = community.subscriber_unsubscribe(subscriber=found)
        return render(request, "coaching/community/unsubscribed.html", {**context, "already": not changed})
    if found.status == Subscriber.Status.UNSUBSCRIBED:
        return render(request, "coaching/community/unsubscribed.html", {**context, "already": True})
    return render(request, "coaching/community/unsubscribe.html", context)


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
        form.save()
        messages.success(request, "Landing page saved.")
        return redirect("dashboard_landing")
    source = request.POST.get("intro_markdown", "") if posted else coach.intro_markdown
    # Re-read the saved coach: a failed form leaves the instance half-updated.
    saved = Coach.objects.get(pk=coach.pk) if posted else coach
    return render(
        request,
        "coaching/landing/edit.html",
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
def _filtered_subscribers(coach: Coach, filters: dict[str, str]) -> Any:
    rows = Subscriber.objects.filter(coach=coach).order_by("-created_at", "-pk")
    if filters["status"]:
        rows = rows.filter(status=filters["status"])
    if filters["q"]:
        rows = rows.filter(Q(email__icontains=filters["q"]) | Q(first_name__icontains=filters["q"]))
    return rows


@require_GET
@coach_required
def subscriber_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    filter_form = SubscriberFilterForm(request.GET)
    filters = filter_form.filters()
    page = Paginator(_filtered_subscribers(coach, filters), SUBSCRIBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = urlencode({name: value for name, value in filters.items() if value})
    return render(
        request,
        "coaching/community/subscribers.html",
        {
            "coach": coach,
            "section": "community",
            "filter_form": filter_form,
            "filters": filters,
            "page": page,
            "counts": community.subscriber_counts(coach),
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
    rows = _filtered_subscribers(coach, filters).values_list(*CSV_COLUMNS)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for row in rows.iterator(chunk_size=1000):
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
    return get_object_or_404(Broadcast.objects.select_related("coach__user"), pk=pk, coach=coach)


@require_GET
@coach_required
def broadcast_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    page = Paginator(
        Broadcast.objects.filter(coach=coach).order_by("-created_at", "-pk"), BROADCASTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "coaching/community/broadcast_list.html",
        {
            "coach": coach,
            "section": "broadcasts",
            "page": page,
            "confirmed": community.subscriber_counts(coach)[Subscriber.Status.CONFIRMED],
        },
    )


def _broadcast_form(request: HttpRequest, coach: Coach, broadcast: Broadcast | None) -> HttpResponse:
    posted = request.method == "POST"
    form = BroadcastForm(request.POST if posted else None, instance=broadcast)
    previewing = posted and request.POST.get("action") == "preview"
    if posted and not previewing and form.is_valid():
        saved = form.save(commit=False)
        saved.coach = coach
        saved.save()
        messages.success(request, "Draft saved. Preview it, send yourself a test, then send it.")
        return redirect("dashboard_broadcast", pk=saved.pk)
    source = (
        request.POST.get("body_markdown", "") if posted else (broadcast.body_markdown if broadcast else "")
    )
    return render(
        request,
        "coaching/community/broadcast_form.html",
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
def broadcast_edit(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    broadcast = _broadcast_or_404(coach, pk)
    if broadcast.status != Broadcast.Status.DRAFT:
        messages.error(request, "This email has been sent, so it can't be changed any more.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    return _broadcast_form(request, coach, broadcast)


def _progress(broadcast: Broadcast) -> dict[str, Any]:
    counts = community.broadcast_progress_counts(broadcast.pk)
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
        "coaching/community/broadcast_detail.html",
        {
            "coach": coach,
            "section": "broadcasts",
            "broadcast": broadcast,
            "body_html": render_markdown(broadcast.body_markdown),
            "progress": _progress(broadcast),
            "confirmed": community.subscriber_counts(coach)[Subscriber.Status.CONFIRMED],
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
    community.broadcast_send_test(broadcast=broadcast)
    messages.success(request, f"A test is on its way to {coach.user.email}.")
    return redirect("dashboard_broadcast", pk=broadcast.pk)


@require_http_methods(["GET", "POST"])
@coach_required
def broadcast_send(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET: "Send to N subscribers?" POST: start sending (once, whatever the clicks)."""
    broadcast = _broadcast_or_404(coach, pk)
    confirmed = community.subscriber_counts(coach)[Subscriber.Status.CONFIRMED]
    if broadcast.status != Broadcast.Status.DRAFT:
        messages.info(request, "This email is already on its way.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    if request.method == "POST":
        if not confirmed:
            messages.error(
                request, "Nobody has confirmed their subscription yet, so there is no one to send to."
            )
            return redirect("dashboard_broadcast", pk=broadcast.pk)
        community.broadcast_start(broadcast=broadcast)
        messages.success(request, f"Sending to {confirmed} subscriber{'s' if confirmed != 1 else ''}.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    return render(
        request,
        "coaching/community/broadcast_send.html",
        {"coach": coach, "section": "broadcasts", "broadcast": broadcast, "confirmed": confirmed},
    )


@require_http_methods(["GET", "POST"])
@coach_required
def broadcast_delete(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    broadcast = _broadcast_or_404(coach, pk)
    if broadcast.status != Broadcast.Status.DRAFT:
        messages.error(request, "Only drafts can be deleted; this email has been sent.")
        return redirect("dashboard_broadcast", pk=broadcast.pk)
    if request.method == "POST":
        Broadcast.objects.filter(pk=broadcast.pk, coach=coach, status=Broadcast.Status.DRAFT).delete()
        messages.success(request, f"Draft “{broadcast.subject}” deleted.")
        return redirect("dashboard_broadcasts")
    return render(
        request,
        "coaching/community/broadcast_delete.html",
        {"coach": coach, "section": "broadcasts", "broadcast": broadcast},
    )
