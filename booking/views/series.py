"""A standing series' own link, /s/<token>/: its calls, cancel the rest from one of them on,
the series' invite. No login: the token is the secret (booking/tokens.py), as for /b/."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from booking import invites
from booking.forms import CancelForm
from booking.models import BookingEvent, BookingSeries
from booking.services import BookingError, booking_series_cancel_from, client_cancel_problem
from booking.tokens import manage_token, series_for_manage_token
from common.display import CallTime
from common.ratelimit import manage_lookup_throttle, too_many_requests
from common.shortcuts import found_or_404


def _series_or_response(request: HttpRequest, token: str) -> BookingSeries | HttpResponse:
    if not manage_lookup_throttle().allow_request(request):
        return too_many_requests(request)
    return found_or_404(series_for_manage_token(token), "No series for this link.")


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the address is the secret: no cache keeps the page, no search engine lists it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _context(series: BookingSeries, token: str) -> dict[str, Any]:
    now = timezone.now()
    calls = invites.series_calls(series)
    rows = []
    for booking in calls:
        booking.offering.coach = booking.coach
        rows.append(
            {
                "booking": booking,
                "when": CallTime.of(booking.start, booking.end, series.client_time_zone),
                "manage_path": reverse("booking_manage", kwargs={"token": manage_token(booking)}),
                "is_active": booking.is_active,
                "can_cancel_from": booking.is_active and booking.start > now,
            }
        )
    return {
        "series": series,
        "coach": series.coach,
        "offering": series.offering,
        "token": token,
        "rows": rows,
        "any_active": any(row["is_active"] for row in rows),
        "series_path": reverse("series_manage", kwargs={"token": token}),
        "invite_path": reverse("series_invite_ics", kwargs={"token": token}),
    }


@require_GET
def series_manage(request: HttpRequest, token: str) -> HttpResponse:
    """The series' calls in the client's zone, each with its own page (move or cancel one)."""
    found = _series_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    return _private(render(request, "booking/series_manage.html", _context(found, token)))


@require_http_methods(["GET", "POST"])
def series_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel the calls from one of them on (``?from=<call number>``), after a confirmation."""
    found = _series_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    series = found
    context = _context(series, token)
    try:
        from_index = int(request.POST.get("from") or request.GET.get("from") or "")
    except ValueError:
        from_index = -1
    chosen = [
        row for row in context["rows"] if row["booking"].series_index == from_index and row["can_cancel_from"]
    ]
    if not chosen:
        return _private(redirect("series_manage", token=token))
    doomed = [
        row for row in context["rows"] if row["is_active"] and row["booking"].series_index >= from_index
    ]
    now = timezone.now()
    problems = [p for p in (client_cancel_problem(row["booking"], now=now) for row in doomed) if p]
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    if request.method == "POST" and form.is_valid() and not problems:
        try:
            booking_series_cancel_from(
                series=series,
                from_index=from_index,
                by=BookingEvent.Actor.CLIENT,
                reason=form.cleaned_data["reason"],
                now=now,
            )
        except BookingError as exc:
            context["error"] = exc.message
            status = HTTPStatus.CONFLICT
        else:
            messages.success(request, f"{len(doomed)} calls cancelled. We've let your coach know.")
            return _private(redirect("series_manage", token=token))
    context.update(
        form=form,
        from_index=from_index,
        first=chosen[0],
        doomed=doomed,
        problem=problems[0] if problems else "",
    )
    return _private(render(request, "booking/series_cancel.html", context, status=status))


@require_safe
def series_invite_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The series as one calendar file (the REQUEST of its calls, or its CANCEL)."""
    found = _series_or_response(request, token)
    if isinstance(found, HttpResponse):
        return found
    method, body = invites.series_invite(found, now=timezone.now())
    response = HttpResponse(body, content_type=f"{invites.CALENDAR_TYPE}; method={method}")
    response["Content-Disposition"] = f'attachment; filename="{found.reference}.ics"'
    return _private(response)
