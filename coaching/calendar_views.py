"""Calendar pages: a coach's busy calendars and feed link, emails that could not be sent,
and a signed-in client's feed link.

Coach pages get the signed-in coach from ``coach_required`` and reach rows only
through that coach, so another coach's ids answer 404. Every change is a POST;
background work (a refresh, a resend) is enqueued on commit, and a broker that is
down only delays it (``robust``), never turns the page into an error.
"""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from booking import tasks as booking_tasks
from booking.calendar_views import client_feed_url, coach_feed_url, replace_feed_key, webcal_url
from booking.emails import KIND_LABELS
from booking.models import EmailDelivery
from coaching import tasks
from coaching.busy_calendars import BusyCalendarError, check_address, display_url
from coaching.models import BusyCalendar, Coach
from coaching.permissions import coach_required

MAX_CALENDARS = 10
FAILED_EMAILS_SHOWN = 50


class BusyCalendarForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="For you: “Work calendar”, “Family”.",
    )
    url = forms.CharField(
        label="Secret address in iCal format",
        max_length=2000,
        help_text=(
            "Google Calendar: Settings › your calendar › “Secret address in iCal format”. "
            "Outlook: Settings › Calendar › Shared calendars › Publish a calendar (ICS link). "
            "iCloud and Fastmail: share the calendar publicly and copy its link (webcal:// works too)."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, coach: Coach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coach = coach

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_url(self) -> str:
        try:
            url = check_address(self.cleaned_data["url"])
        except BusyCalendarError as exc:
            raise forms.ValidationError(exc.message, code="bad_address") from exc
        if BusyCalendar.objects.filter(coach=self.coach, url=url).exists():
            raise forms.ValidationError("This calendar is already connected.", code="duplicate")
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if BusyCalendar.objects.filter(coach=self.coach).count() >= MAX_CALENDARS:
            raise forms.ValidationError(
                f"You can connect up to {MAX_CALENDARS} calendars. Remove one to add another.",
                code="too_many",
            )
        return cleaned


def _enqueue_refresh(calendar_id: int) -> None:
    transaction.on_commit(partial(tasks.refresh_busy_calendar.delay, calendar_id), robust=True)


# ---------------------------------------------------------------------------
# Coach: busy calendars and the feed link
# ---------------------------------------------------------------------------
@coach_required
@require_http_methods(["GET", "POST"])
def calendar_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Connected busy calendars with their last fetch and error, the add form, and the feed link."""
    form = BusyCalendarForm(request.POST or None, coach=coach)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            calendar = BusyCalendar.objects.create(
                coach=coach, name=form.cleaned_data["name"], url=form.cleaned_data["url"]
            )
            _enqueue_refresh(calendar.pk)
        messages.success(
            request, f"“{calendar.name}” is connected. Its busy times are being read now; reload in a moment."
        )
        return redirect("dashboard_calendars")
    calendars = list(coach.busy_calendars.annotate(block_count=Count("blocks")).order_by("name", "pk"))
    for calendar in calendars:
        calendar.display_url = display_url(calendar.url)
    feed_url = coach_feed_url(coach)
    failed_emails = EmailDelivery.objects.filter(
        booking__coach=coach, status=EmailDelivery.Status.FAILED
    ).count()
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    return render(
        request,
        "coaching/calendars/list.html",
        {
            "section": "calendars",
            "coach": coach,
            "form": form,
            "calendars": calendars,
            "can_add": len(calendars) < MAX_CALENDARS,
            "feed_url": feed_url,
            "feed_webcal": webcal_url(feed_url),
            "failed_emails": failed_emails,
        },
        status=status,
    )


@coach_required
@require_http_methods(["GET", "POST"])
def calendar_remove(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Confirm, then disconnect a busy calendar; its busy blocks go with it."""
    calendar = get_object_or_404(BusyCalendar, pk=pk, coach=coach)
    if request.method == "POST":
        name = calendar.name
        calendar.delete()
        messages.success(request, f"“{name}” is disconnected; its busy times no longer block your slots.")
        return redirect("dashboard_calendars")
    return render(
        request,
        "coaching/calendars/remove.html",
        {"section": "calendars", "calendar": calendar, "display_url": display_url(calendar.url)},
    )


@coach_required
@require_POST
def calendar_refresh(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Read a busy calendar again now, instead of at the next 10-minute tick."""
    calendar = get_object_or_404(BusyCalendar, pk=pk, coach=coach)
    _enqueue_refresh(calendar.pk)
    messages.success(
        request, f"“{calendar.name}” is being read again now; reload in a moment to see the result."
    )
    return redirect("dashboard_calendars")


@coach_required
@require_http_methods(["GET", "POST"])
def coach_feed_replace(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Create the coach's feed link, or replace it (with a confirmation): the old link stops working."""
    if request.method == "POST":
        had_feed = bool(coach.feed_key)
        replace_feed_key(coach)
        messages.success(
            request,
            "Your feed has a new link. Subscribe to it again in your calendar app; the old link no longer works."
            if had_feed
            else "Your feed link is ready. Add it to your calendar app to see your bookings there.",
        )
        return redirect("dashboard_calendars")
    if not coach.feed_key:
        return redirect("dashboard_calendars")
    return render(request, "coaching/calendars/feed_replace.html", {"section": "calendars", "coach": coach})


# ---------------------------------------------------------------------------
# Coach: emails that could not be sent
# ---------------------------------------------------------------------------
@coach_required
@require_http_methods(["GET"])
def email_failures(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The latest emails about the coach's bookings that could not be sent, with "try again"."""
    failures = list(
        EmailDelivery.objects.filter(booking__coach=coach, status=EmailDelivery.Status.FAILED)
        .select_related("booking")
        .order_by("-last_attempt_at", "-pk")[:FAILED_EMAILS_SHOWN]
    )
    for delivery in failures:
        delivery.kind_label = KIND_LABELS.get(delivery.kind, delivery.kind)
    return render(
        request,
        "coaching/calendars/emails.html",
        {"section": "emails", "coach": coach, "failures": failures},
    )


@coach_required
@require_POST
def email_retry(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Send a failed email again (a fresh round of retries)."""
    delivery = get_object_or_404(
        EmailDelivery, pk=pk, booking__coach=coach, status=EmailDelivery.Status.FAILED
    )
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk, status=EmailDelivery.Status.FAILED).update(
            status=EmailDelivery.Status.PENDING, locked_until=None
        )
        transaction.on_commit(partial(booking_tasks.send_booking_email.delay, delivery.pk), robust=True)
    messages.success(request, f"The email about {delivery.booking.reference} is being sent again.")
    return redirect("dashboard_emails")


# ---------------------------------------------------------------------------
# Client: their feed link
# ---------------------------------------------------------------------------
@login_required
@require_http_methods(["GET"])
def my_calendar(request: HttpRequest) -> HttpResponse:
    """A signed-in client's feed link (or a button to create it)."""
    feed_url = client_feed_url(request.user)
    return render(
        request,
        "coaching/calendars/my_calendar.html",
        {"feed_url": feed_url, "feed_webcal": webcal_url(feed_url)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_calendar_replace(request: HttpRequest) -> HttpResponse:
    """Create the client's feed link, or replace it (with a confirmation)."""
    user = request.user
    if request.method == "POST":
        had_feed = bool(user.feed_key)
        replace_feed_key(user)
        messages.success(
            request,
            "Your feed has a new link. Subscribe to it again in your calendar app; the old link no longer works."
            if had_feed
            else "Your feed link is ready. Add it to your calendar app to see your calls there.",
        )
        return redirect("my_calendar")
    if not user.feed_key:
        return redirect("my_calendar")
    return render(request, "coaching/calendars/my_feed_replace.html")
