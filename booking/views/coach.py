"""The coach's dashboard pages that read bookings: the preview of the coming week, the bookings
list (filters and search), a booking's detail and the actions on it. The agenda (the
dashboard's home) and the week calendar are in booking/views/agenda.py.

Every view gets the signed-in coach from ``coach_required`` and reads through that coach,
so another coach's booking answers 404. Every action has a confirmation step: a GET shows
what will happen, a POST does it through booking/services.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from booking import reminders, selectors
from booking.display import booking_rows, preview_context
from booking.filters import BookingFilterForm
from booking.forms import CancelForm, parse_start
from booking.models import Booking, BookingEvent, Reminder
from booking.services import (
    BookingError,
    InvalidTransition,
    booking_approve,
    booking_cancel,
    booking_decline,
    booking_mark_outcome,
    booking_reset_manage_link,
    booking_series_cancel_from,
)
from booking.views.reschedule import RescheduleSide, reschedule_flow
from coaching.models import Coach
from coaching.permissions import coach_required
from coaching.selectors import coach_offerings
from common.display import CallTime, moment_label

BOOKINGS_PER_PAGE = 20
PENDING_SHOWN = 10
Status = Booking.Status
Actor = BookingEvent.Actor


@dataclass(frozen=True)
class Action:
    title: str  # the confirmation page's question
    explain: str
    button: str
    done: str  # the message after it worked
    run: Callable[[Booking, str, datetime], Booking]
    asks_reason: bool = False
    danger: bool = False


ACTIONS: dict[str, Action] = {
    # name: Action(question, what happens, button, message after it worked, run, ...)
    "approve": Action(
        "Approve this booking?",
        "The client gets a confirmation with the calendar invite.",
        "Approve booking",
        "Booking approved. The client has been told.",
        lambda booking, reason, now: booking_approve(booking=booking, now=now),
    ),
    "decline": Action(
        "Decline this booking?",
        "The time becomes free again and the client is told.",
        "Decline booking",
        "Booking declined. The client has been told.",
        lambda booking, reason, now: booking_decline(booking=booking, reason=reason, now=now),
        asks_reason=True,
        danger=True,
    ),
    "cancel": Action(
        "Cancel this booking?",
        "The time becomes free again, and the client gets a cancellation for their calendar.",
        "Cancel booking",
        "Booking cancelled. The client has been told.",
        lambda booking, reason, now: booking_cancel(booking=booking, by=Actor.COACH, reason=reason, now=now),
        asks_reason=True,
        danger=True,
    ),
    "complete": Action(
        "Mark this call completed?",
        "Records that the call took place.",
        "Mark completed",
        "Marked completed.",
        lambda booking, reason, now: booking_mark_outcome(booking=booking, outcome=Status.COMPLETED, now=now),
    ),
    "no-show": Action(
        "Mark this call a no-show?",
        "Records that the client didn't come to the call.",
        "Mark no-show",
        "Marked no-show.",
        lambda booking, reason, now: booking_mark_outcome(booking=booking, outcome=Status.NO_SHOW, now=now),
    ),
    "cancel-rest": Action(
        "Cancel this call and the later ones of the series?",
        "Their times become free again, and the client gets one email with the shortened series "
        "for their calendar. The earlier calls stay.",
        "Cancel these calls",
        "Calls cancelled. The client has been told.",
        lambda booking, reason, now: _cancel_rest(booking, reason, now),
        asks_reason=True,
        danger=True,
    ),
    "new-link": Action(
        "Replace the client's link?",
        "The link in the client's emails stops working at once and they get a new one by email. "
        "Use this if the old link reached someone it shouldn't.",
        "Replace link",
        "Link replaced. The client gets the new one by email.",
        lambda booking, reason, now: booking_reset_manage_link(booking=booking, now=now),
        danger=True,
    ),
}


def _cancel_rest(booking: Booking, reason: str, now: datetime) -> Booking:
    """The coach cancels a series from this call on (every later call by the same rule)."""
    series = booking.series
    if series is None or booking.series_index is None:
        raise InvalidTransition("This call is not part of a series.")
    cancelled = booking_series_cancel_from(
        series=series, from_index=booking.series_index, by=Actor.COACH, reason=reason, now=now
    )
    return next((call for call in cancelled if call.pk == booking.pk), cancelled[0])


def available_actions(booking: Booking, now: datetime) -> list[str]:
    """The actions that make sense for the booking now (the services check again)."""
    actions = []
    if booking.status == Status.PENDING and booking.start > now:
        actions += ["approve", "decline"]
    if booking.is_active:
        actions += ["reschedule", "cancel", "new-link"]
        if booking.series_id is not None and booking.start > now:
            actions.append("cancel-rest")
    if booking.status in (Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW) and booking.start <= now:
        if booking.status != Status.COMPLETED:
            actions.append("complete")
        if booking.status != Status.NO_SHOW:
            actions.append("no-show")
    return actions


def _booking_or_404(coach: Coach, reference: str) -> Booking:
    booking = selectors.coach_booking_get(coach=coach, reference=reference[:16])
    if booking is None:
        raise Http404("No booking of yours with this reference.")
    booking.coach = coach
    booking.offering.coach = coach
    return booking


def _page_query(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return "?" + urlencode(sorted((k, v) for k, v in params.items() if v))


@coach_required
@require_GET
def booking_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Pending bookings to answer, then the filtered, searchable, paginated list."""
    now = timezone.now()
    filter_form = BookingFilterForm(request.GET or None, coach=coach)
    filters = filter_form.filters()
    page = Paginator(selectors.coach_bookings(coach=coach, now=now, **filters), BOOKINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    pending_qs = selectors.coach_pending_bookings(coach=coach, now=now)
    pending = list(pending_qs[: PENDING_SHOWN + 1])

    def coach_zone(booking: Booking) -> str:
        return coach.time_zone

    context = {
        "section": "bookings",
        "coach": coach,
        "filter_form": filter_form,
        "filters": filters,
        "searching": bool(filters["q"]),
        "page": page,
        "rows": booking_rows(page.object_list, coach_zone),
        "pending_rows": booking_rows(pending[:PENDING_SHOWN], coach_zone),
        "more_pending": len(pending) > PENDING_SHOWN,
        "prev_query": _page_query(request, page.previous_page_number()) if page.has_previous() else "",
        "next_query": _page_query(request, page.next_page_number()) if page.has_next() else "",
        "coach_zone": coach.time_zone,
    }
    return render(request, "booking/dashboard/list.html", context)


def _history(booking: Booking, zone_name: str) -> list[dict[str, str]]:
    def when(iso: object) -> str:
        start = parse_start(iso)
        return str(CallTime.of(start, start + booking.offering.duration, zone_name)) if start else ""

    rows = []
    for event in selectors.booking_history(booking=booking):
        detail = event.detail if isinstance(event.detail, dict) else {}
        note = ""
        if event.kind == BookingEvent.Kind.RESCHEDULED:
            note = f"From {when(detail.get('from'))} to {when(detail.get('to'))}"
        elif event.kind == BookingEvent.Kind.CREATED and detail.get("start"):
            note = f"For {when(detail.get('start'))}"
        elif detail.get("reason"):
            note = f"Reason: {detail['reason']}"
        rows.append(
            {
                "kind": event.get_kind_display(),
                "actor": event.get_actor_display(),
                "at": moment_label(event.at, zone_name),
                "at_iso": event.at.isoformat(),
                "note": note,
            }
        )
    return rows


# Reminder states as the booking page shows them: a label and the badge's look.
REMINDER_BADGES = {
    Reminder.Status.SCHEDULED: "pending",
    Reminder.Status.SENDING: "pending",
    Reminder.Status.SENT: "confirmed",
    Reminder.Status.CANCELLED: "cancelled",
    Reminder.Status.FAILED: "declined",
}


def _reminders(booking: Booking, zone_name: str) -> list[dict[str, Any]]:
    """The booking's reminders and follow-up, soonest first, with their state for the coach."""
    rows = []
    for reminder in selectors.booking_reminders(booking=booking):
        shown_at = reminder.sent_at if reminder.status == Reminder.Status.SENT else reminder.due_at
        rows.append(
            {
                "what": reminders.describe_kind(reminder.kind),
                "to": "You" if reminder.recipient == Reminder.Recipient.COACH else "Client",
                "status": reminder.get_status_display(),
                "badge": REMINDER_BADGES.get(reminder.status, "pending"),
                "failed": reminder.status == Reminder.Status.FAILED,
                "at": moment_label(shown_at or reminder.due_at, zone_name),
                "at_iso": (shown_at or reminder.due_at).isoformat(),
                "attempts": reminder.attempts,
                "error": reminder.last_error,
            }
        )
    return rows


def _detail_context(booking: Booking, coach: Coach, now: datetime) -> dict[str, Any]:
    return {
        "section": "bookings",
        "coach": coach,
        "booking": booking,
        "offering": booking.offering,
        "coach_time": CallTime.of(booking.start, booking.end, coach.time_zone),
        "client_time": CallTime.of(booking.start, booking.end, booking.client_time_zone),
        "same_zone": booking.client_time_zone == coach.time_zone,
        "actions": available_actions(booking, now),
    }


@coach_required
@require_GET
def booking_detail(request: HttpRequest, coach: Coach, reference: str) -> HttpResponse:
    """One booking: times, client, intake answers, note, history and the actions open now."""
    booking = _booking_or_404(coach, reference)
    context = _detail_context(booking, coach, timezone.now())
    # Stored as {question label: answer}; anything else (edited by hand in admin) shows nothing.
    answers = booking.answers if isinstance(booking.answers, dict) else {}
    context["answers"] = [(str(label), str(value)) for label, value in answers.items()]
    context["history"] = _history(booking, coach.time_zone)
    context["reminders"] = _reminders(booking, coach.time_zone)
    context["reminders_failed"] = sum(1 for row in context["reminders"] if row["failed"])
    if booking.series_id is not None:
        # The other calls of its standing series, each to its own page.
        context["series_rows"] = [
            {"booking": call, "when": CallTime.of(call.start, call.end, coach.time_zone)}
            for call in booking.series.occurrences.order_by("series_index")
        ]
    return render(request, "booking/dashboard/detail.html", context)


@coach_required
@require_http_methods(["GET", "POST"])
def booking_action(request: HttpRequest, coach: Coach, reference: str, action: str) -> HttpResponse:
    """GET: what the action will do, with a button. POST: do it."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    booking = _booking_or_404(coach, reference)
    now = timezone.now()
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                spec.run(booking, form.cleaned_data["reason"] if spec.asks_reason else "", now)
            except BookingError as exc:
                error = exc.message
                status = HTTPStatus.CONFLICT
            else:
                messages.success(request, spec.done)
                return redirect("dashboard_booking", reference=booking.reference)
        else:
            status = HTTPStatus.BAD_REQUEST
    context = _detail_context(booking, coach, now)
    context.update({"action": action, "spec": spec, "form": form, "error": error})
    return render(request, "booking/dashboard/confirm.html", context, status=status)


@coach_required
@require_http_methods(["GET", "POST"])
def booking_reschedule_view(request: HttpRequest, coach: Coach, reference: str) -> HttpResponse:
    """Pick a new free slot, confirm, move (booking/views/reschedule.py)."""
    booking = _booking_or_404(coach, reference)
    now = timezone.now()
    side = RescheduleSide(
        actor=Actor.COACH,
        template="booking/dashboard/reschedule.html",
        path=reverse("dashboard_booking_reschedule", kwargs={"reference": booking.reference}),
        done_url=reverse("dashboard_booking", kwargs={"reference": booking.reference}),
        own_zone=coach.time_zone,
        other_zone=booking.client_time_zone,
        done_message=lambda moved: (
            f"Booking moved to {CallTime.of(moved.start, moved.end, coach.time_zone)}. "
            "The client gets an updated invite."
        ),
        refusal="" if booking.is_active else "This booking is not active, so it cannot be moved.",
    )
    return reschedule_flow(
        request, booking=booking, side=side, context=_detail_context(booking, coach, now), now=now
    )


# ---------------------------------------------------------------------------
# The preview of the coming week
# ---------------------------------------------------------------------------
def _preview_page(request: HttpRequest, coach: Coach, template: str, section: str) -> HttpResponse:
    context: dict[str, Any] = {"coach": coach, "section": section}
    offerings = list(coach_offerings(coach=coach))
    context.update(preview_context(coach, offerings, request.GET.get("offering"), timezone.now()))
    return render(request, template, context)


@require_http_methods(["GET"])
@coach_required
def preview(request: HttpRequest, coach: Coach) -> HttpResponse:
    return _preview_page(request, coach, "booking/dashboard/preview.html", "preview")
