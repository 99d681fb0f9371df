"""The coach's Calendars and Emails pages: busy calendars, the feed link, emails that could not be sent.

The Calendars page joins coaching's connected calendars with booking's feed link and
failed-email count, so it lives here; every change goes through a service and
background work (a refresh, a resend) is enqueued on commit.
"""

from __future__ import annotations

from http import HTTPStatus

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from booking import selectors, services
from booking.calendar_writes import calendar_write_retry
from booking.display import coach_feed_url, webcal_url
from booking.emails import KIND_LABELS
from booking.models import CalendarWrite
from booking.views.feeds import feed_replace_page
from coaching import caldav, caldav_services
from coaching import selectors as coaching_selectors
from coaching import services as coaching_services
from coaching.caldav import CalDavError
from coaching.forms import MAX_CALENDARS, BusyCalendarForm, CalDavConnectForm
from coaching.models import BusyCalendar, CalDavAccount, Coach
from coaching.permissions import coach_required
from common.outbound import OutboundError, display_url
from common.queue import enqueue_on_commit
from common.shortcuts import found_or_404


def _calendar_or_404(coach: Coach, pk: int) -> BusyCalendar:
    calendar = coaching_selectors.coach_busy_calendar_get(coach=coach, pk=pk)
    return found_or_404(calendar, "No calendar of yours with this number.")


@coach_required
@require_http_methods(["GET", "POST"])
def calendar_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Connected busy calendars with their last fetch and error, the add form, and the feed link."""
    form = BusyCalendarForm(request.POST or None, coach=coach)
    if request.method == "POST" and form.is_valid():
        calendar = coaching_services.busy_calendar_add(
            coach=coach, name=form.cleaned_data["name"], url=form.cleaned_data["url"]
        )
        messages.success(
            request, f"“{calendar.name}” is connected. Its busy times are being read now; reload in a moment."
        )
        return redirect("dashboard_calendars")
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    return _list_page(request, coach, form=form, caldav_form=CalDavConnectForm(), status=status)


def _list_page(
    request: HttpRequest, coach: Coach, *, form: BusyCalendarForm, caldav_form: CalDavConnectForm, status: int
) -> HttpResponse:
    calendars = coaching_selectors.coach_busy_calendars(coach=coach)
    for calendar in calendars:
        calendar.display_url = display_url(calendar.url)
    feed_url = coach_feed_url(coach)
    accounts = list(CalDavAccount.objects.filter(coach=coach).prefetch_related("calendars").order_by("pk"))
    for account in accounts:
        account.display_server = display_url(caldav.server_url(account.server))
        account.writes_nowhere = not any(c.write_bookings for c in account.calendars.all())
        account.failed_writes = list(
            CalendarWrite.objects.filter(calendar__account=account, status=CalendarWrite.Status.FAILED)
            .select_related("booking")
            .order_by("-updated_at")[:20]
        )
    return render(
        request,
        "booking/calendars/list.html",
        {
            "section": "calendars",
            "coach": coach,
            "caldav_form": caldav_form,
            "caldav_accounts": accounts,
            "form": form,
            "calendars": calendars,
            "can_add": len(calendars) < MAX_CALENDARS,
            "feed_url": feed_url,
            "feed_webcal": webcal_url(feed_url),
            "failed_emails": selectors.coach_failed_email_count(coach=coach),
        },
        status=status,
    )


@coach_required
@require_http_methods(["GET", "POST"])
def calendar_remove(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Confirm, then disconnect a busy calendar; its busy blocks go with it."""
    calendar = _calendar_or_404(coach, pk)
    if request.method == "POST":
        name = calendar.name
        coaching_services.busy_calendar_remove(calendar=calendar)
        messages.success(request, f"“{name}” is disconnected; its busy times no longer block your slots.")
        return redirect("dashboard_calendars")
    return render(
        request,
        "booking/calendars/remove.html",
        {"section": "calendars", "calendar": calendar, "display_url": display_url(calendar.url)},
    )


@coach_required
@require_POST
def calendar_refresh(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Read a busy calendar again now, instead of at the next 10-minute tick."""
    calendar = _calendar_or_404(coach, pk)
    if coaching_services.busy_calendar_refresh_now(calendar=calendar):
        messages.success(
            request, f"“{calendar.name}” is being read again now; reload in a moment to see the result."
        )
    else:
        messages.info(
            request,
            f"“{calendar.name}” was refreshed moments ago, so it was not asked for again; reload in a "
            "moment to see the result. Every calendar is also read every ten minutes.",
        )
    return redirect("dashboard_calendars")


@coach_required
@require_http_methods(["GET", "POST"])
def coach_feed_replace(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Create the coach's feed link, or replace it (with a confirmation): the old link stops working."""
    return feed_replace_page(
        request,
        owner=coach,
        done="dashboard_calendars",
        what="bookings",
        template="booking/calendars/feed_replace.html",
        context={"section": "calendars", "coach": coach},
    )


@coach_required
@require_http_methods(["GET"])
def email_failures(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The latest emails about the coach's bookings that could not be sent, with "try again"."""
    failures = selectors.coach_failed_emails(coach=coach)
    for delivery in failures:
        delivery.kind_label = KIND_LABELS.get(delivery.kind, delivery.kind)
    return render(
        request,
        "booking/calendars/emails.html",
        {"section": "emails", "coach": coach, "failures": failures},
    )


@coach_required
@require_POST
def email_retry(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Send a failed email again (a fresh round of retries)."""
    delivery = found_or_404(
        selectors.coach_failed_email_get(coach=coach, pk=pk), "No failed email of yours with this number."
    )
    services.email_delivery_retry(delivery=delivery)
    messages.success(request, f"The email about {delivery.booking.reference} is being sent again.")
    return redirect("dashboard_emails")


# ---------------------------------------------------------------------------
# CalDAV accounts (issue 17): connect, choose calendars, sync now, disconnect
# ---------------------------------------------------------------------------
def _account_or_404(coach: Coach, pk: int) -> CalDavAccount:
    return found_or_404(
        CalDavAccount.objects.filter(coach=coach, pk=pk).prefetch_related("calendars").first(),
        "No calendar account of yours with this number.",
    )


@coach_required
@require_POST
def caldav_connect(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Find the account's calendars (this talks to the server: the button says so) and keep them."""
    form = CalDavConnectForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            account = caldav_services.caldav_connect(
                coach=coach, server=data["server"], username=data["username"], password=data["password"]
            )
        except CalDavError as exc:
            field = "password" if getattr(exc, "status", None) in (401, 403) else "server"
            form.add_error(field, exc.message)
        except OutboundError as exc:
            form.add_error("server", exc.message)
        else:
            count = account.calendars.count()
            messages.success(
                request,
                f"Connected: {count} calendar{'s' if count != 1 else ''} found. Each counts as busy until you "
                "choose; pick one to receive your bookings.",
            )
            return redirect("dashboard_calendars")
    return _list_page(
        request, coach, form=BusyCalendarForm(coach=coach), caldav_form=form, status=HTTPStatus.BAD_REQUEST
    )


@coach_required
@require_POST
def caldav_choose(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    account = _account_or_404(coach, pk)
    ids = {c.pk for c in account.calendars.all()}
    busy = {int(v) for v in request.POST.getlist("busy") if v.isascii() and v.isdigit() and int(v) in ids}
    write_value = request.POST.get("write", "")
    write = (
        int(write_value)
        if write_value.isascii() and write_value.isdigit() and int(write_value) in ids
        else None
    )
    CalDavAccount.objects.filter(pk=account.pk).update(
        block_all_day=request.POST.get("block_all_day") == "on"
    )
    caldav_services.caldav_calendars_choose(account=account, busy=busy, write=write)
    messages.success(request, "Saved. Busy times are being read again.")
    return redirect("dashboard_calendars")


@coach_required
@require_POST
def caldav_sync(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    account = _account_or_404(coach, pk)
    from coaching import tasks as coaching_tasks

    for calendar in account.calendars.all():
        if calendar.busy:
            enqueue_on_commit(coaching_tasks.sync_caldav_calendar, calendar.pk)
    messages.success(request, "Reading your busy calendars again now; reload in a moment.")
    return redirect("dashboard_calendars")


@coach_required
@require_http_methods(["GET", "POST"])
def caldav_remove(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Confirm, then disconnect the account: its busy times go, nothing is written any more."""
    account = _account_or_404(coach, pk)
    if request.method == "POST":
        caldav_services.caldav_account_remove(account=account)
        messages.success(request, f"{account.username} is disconnected.")
        return redirect("dashboard_calendars")
    return render(
        request,
        "booking/calendars/caldav_remove.html",
        {
            "section": "calendars",
            "account": account,
            "server": display_url(caldav.server_url(account.server)),
        },
    )


@coach_required
@require_POST
def caldav_write_retry(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Write a booking into the calendar again after its attempts ran out."""
    write = found_or_404(
        CalendarWrite.objects.filter(calendar__coach=coach, pk=pk).select_related("booking").first(),
        "No calendar write of yours with this number.",
    )
    if calendar_write_retry(write=write):
        messages.success(request, f"{write.booking.reference} is being written to your calendar again.")
    return redirect("dashboard_calendars")
