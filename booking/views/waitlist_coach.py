"""The coach's waitlist page, /dashboard/waitlist/: who is in line for which days, the time held
for each now, emails that could not be sent (with "try again"), and taking someone off the line."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import selectors
from booking.waitlist import waitlist_email_retry, waitlist_remove
from coaching.models import Coach
from coaching.permissions import coach_required
from common.display import CallTime, day_label
from common.shortcuts import found_or_404


@coach_required
@require_safe
def waitlist_page(request: HttpRequest, coach: Coach) -> HttpResponse:
    now = timezone.now()
    rows = [
        {
            "entry": entry,
            "days": day_label(entry.date_from)
            if entry.date_from == entry.date_to
            else f"{day_label(entry.date_from)} to {day_label(entry.date_to)}",
            "held": CallTime.of(entry.live_hold.start, entry.live_hold.end, coach.time_zone)
            if entry.live_hold
            else None,
            "until": CallTime.of(entry.live_hold.expires_at, None, coach.time_zone)
            if entry.live_hold
            else None,
        }
        for entry in selectors.coach_waitlist(coach=coach, now=now)
    ]
    context = {
        "section": "waitlist",
        "coach": coach,
        "rows": rows,
        "unconfirmed": selectors.coach_waitlist_unconfirmed_count(coach=coach, now=now),
        "failures": selectors.coach_waitlist_failed_emails(coach=coach),
        "hold_minutes": settings.WAITLIST_HOLD_MINUTES,
    }
    return render(request, "booking/dashboard/waitlist.html", context)


@coach_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_remove_view(request: HttpRequest, coach: Coach, reference: str) -> HttpResponse:
    """GET asks first; POST takes the entry off the line."""
    entry = found_or_404(
        selectors.coach_waitlist_entry_get(coach=coach, reference=reference),
        "No waitlist entry of yours here.",
    )
    if request.method == "POST":
        if waitlist_remove(entry=entry):
            messages.success(request, f"{entry.name} is off the waitlist; a time held for them passes on.")
        return redirect("dashboard_waitlist")
    return render(
        request,
        "booking/dashboard/waitlist_remove.html",
        {"section": "waitlist", "coach": coach, "entry": entry},
    )


@coach_required
@require_POST
def waitlist_email_retry_view(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    email = found_or_404(
        selectors.coach_waitlist_email_get(coach=coach, pk=pk), "No failed waitlist email of yours here."
    )
    waitlist_email_retry(email=email)
    messages.success(request, "The email is being sent again.")
    return redirect("dashboard_waitlist")
