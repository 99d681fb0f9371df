"""A signed-in client's own pages: "my bookings" (with their packages) and their calendar-feed link."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.services import user_emails
from booking import selectors
from booking.display import booking_rows, client_feed_url, webcal_url
from booking.models import Booking
from booking.views.feeds import feed_replace_page
from common.timezones import is_valid_timezone
from practice import selectors as practice_selectors
from practice.emails import pass_path, pass_summary

BOOKINGS_PER_PAGE = 10
MAX_PASSES_SHOWN = 20


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    """The signed-in client's bookings, upcoming and past, each linked to its manage page."""
    now = timezone.now()
    user = request.user
    zone = user.time_zone if is_valid_timezone(user.time_zone) else ""

    def zone_for(booking: Booking) -> str:
        return zone or booking.client_time_zone

    upcoming = Paginator(selectors.client_bookings(user=user, now=now, upcoming=True), BOOKINGS_PER_PAGE)
    past = Paginator(selectors.client_bookings(user=user, now=now, upcoming=False), BOOKINGS_PER_PAGE)
    upcoming_page = upcoming.get_page(request.GET.get("upcoming"))
    past_page = past.get_page(request.GET.get("past"))
    feed_url = client_feed_url(user)
    # Their packages, with what is left and a link to each pass's page (one query).
    passes = [
        {
            "pass": pass_obj,
            "summary": pass_summary(pass_obj, zone or pass_obj.coach.time_zone),
            "url": pass_path(pass_obj),
            "running": pass_obj.remaining > 0 and pass_obj.expires_at > now,
        }
        for pass_obj in practice_selectors.user_passes(user=user, emails=user_emails(user))[:MAX_PASSES_SHOWN]
    ]
    return render(
        request,
        "booking/my_bookings.html",
        {
            "upcoming_page": upcoming_page,
            "upcoming_rows": booking_rows(upcoming_page.object_list, zone_for),
            "past_page": past_page,
            "past_rows": booking_rows(past_page.object_list, zone_for),
            "zone": zone,
            "passes": passes,
            # The same calls in the client's calendar app: subscribe here, manage the link on its page.
            "feed_webcal": webcal_url(feed_url) if feed_url else "",
        },
    )


@login_required
@require_http_methods(["GET"])
def my_calendar(request: HttpRequest) -> HttpResponse:
    """A signed-in client's feed link (or a button to create it)."""
    feed_url = client_feed_url(request.user)
    return render(
        request,
        "booking/calendars/my_calendar.html",
        {"feed_url": feed_url, "feed_webcal": webcal_url(feed_url)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_calendar_replace(request: HttpRequest) -> HttpResponse:
    """Create the client's feed link, or replace it (with a confirmation)."""
    return feed_replace_page(
        request,
        owner=request.user,
        done="my_calendar",
        what="calls",
        template="booking/calendars/my_feed_replace.html",
        context={},
    )
