"""The client's manage link, /b/<token>/: the confirmation, the booking, cancel, reschedule, the invite.

No login: the token is the secret (booking/tokens.py). Every view is behind
``manage_link``, which throttles lookups per address, resolves the token (404 for
anything unknown, tampered or revoked) and passes the booking in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from http import HTTPStatus
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from booking import credits, invites
from booking.calendar_links import calendar_links
from booking.display import policy_lines
from booking.emails import Recipient, credit_line
from booking.forms import CancelForm
from booking.models import Booking, BookingEvent
from booking.services import BookingError, booking_cancel, client_cancel_problem, client_reschedule_problem
from booking.tokens import booking_for_manage_token, series_manage_token
from booking.views.reschedule import RescheduleSide, reschedule_flow
from common.display import CallTime, moment_label
from common.ratelimit import manage_lookup_throttle, too_many_requests
from common.shortcuts import found_or_404
from practice.policy import FORFEITED

P = ParamSpec("P")
ManageView = Callable[Concatenate[HttpRequest, Booking, str, P], HttpResponse]


def manage_link(view: ManageView[P]) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """Throttle, resolve ``token`` to its booking (or 404), and call ``view(request, booking, token)``."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not manage_lookup_throttle().allow_request(request):
            return too_many_requests(request)
        booking = found_or_404(booking_for_manage_token(token), "No booking for this link.")
        booking.offering.coach = booking.coach
        response = view(request, booking, token, *args, **kwargs)
        # The token in the address is the secret: no cache keeps the page, no search engine lists it.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _booking_context(request: HttpRequest, booking: Booking, token: str) -> dict[str, Any]:
    coach = booking.coach
    manage_path = reverse("booking_manage", kwargs={"token": token})
    return {
        "booking": booking,
        "coach": coach,
        "offering": booking.offering,
        "token": token,
        "client_time": CallTime.of(booking.start, booking.end, booking.client_time_zone),
        "coach_time": CallTime.of(booking.start, booking.end, coach.time_zone),
        "same_zone": booking.client_time_zone == coach.time_zone,
        "manage_path": manage_path,
        "manage_link": request.build_absolute_uri(manage_path),
        "invite_path": f"{manage_path}invite.ics",
        "calendar_links": calendar_links(booking) if booking.is_active else {},
        "contact_email": coach.contact_email,
        "is_pending": booking.status == Booking.Status.PENDING,
        "is_active": booking.is_active,
        "policy": policy_lines(
            booking.offering, start=booking.start, zone_name=booking.client_time_zone, booking=booking
        ),
        # One call of a standing series: the way back to all of them.
        "series_path": reverse("series_manage", kwargs={"token": series_manage_token(booking.series)})
        if booking.series_id
        else "",
    }


@require_GET
@manage_link
def confirmation(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """Where the booking form lands: the time in both zones, the status and the manage link."""
    return render(request, "booking/confirmed.html", _booking_context(request, booking, token))


@require_GET
@manage_link
def manage(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """The booking behind a manage link, with cancel and reschedule when the policy allows."""
    now = timezone.now()
    context = _booking_context(request, booking, token)
    context["cancel_problem"] = client_cancel_problem(booking, now=now) if booking.is_active else ""
    context["reschedule_problem"] = client_reschedule_problem(booking, now=now) if booking.is_active else ""
    return render(request, "booking/manage.html", context)


def _credit_notice(booking: Booking, *, now: datetime) -> tuple[str, bool]:
    """``(words, is_late)``: what cancelling now does to the package session the booking uses,
    by the policy it was booked under; ``("", False)`` for a booking paid without a pass."""
    outcome = credits.outcome(booking, status=Booking.Status.CANCELLED, by=BookingEvent.Actor.CLIENT, now=now)
    if outcome is None:
        return "", False
    name = booking.client_pass.name
    if outcome.credit != FORFEITED and not outcome.late:
        return f"Your session goes back on your package “{name}”.", False
    deadline = booking.start - timedelta(minutes=credits.policy_of(booking).notice_minutes)
    fate = (
        f"uses up the session of your package “{name}”"
        if outcome.credit == FORFEITED
        else f"puts the session back on your package “{name}”, marked late"
    )
    passed = moment_label(deadline, booking.client_time_zone)
    return f"The cancellation deadline ({passed}) has passed: cancelling now {fate}.", True


def _cancelled_message(booking: Booking) -> str:
    """The confirmation, with what became of the package session (the words of the client's email)."""
    words = "Your booking is cancelled. We've let your coach know."
    event = booking.events.filter(kind=BookingEvent.Kind.CANCELLED).order_by("-pk").first()
    credit = credit_line(event, Recipient.CLIENT) if event is not None else ""
    return f"{words} {credit}" if credit else words


@require_http_methods(["GET", "POST"])
@manage_link
def manage_cancel(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """A confirmation step with an optional reason; POST cancels within the policy."""
    now = timezone.now()
    context = _booking_context(request, booking, token)
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    if request.method == "POST" and form.is_valid():
        try:
            booking_cancel(
                booking=booking, by=BookingEvent.Actor.CLIENT, reason=form.cleaned_data["reason"], now=now
            )
        except BookingError as exc:
            context["error"] = exc.message
            status = HTTPStatus.CONFLICT
        else:
            messages.success(request, _cancelled_message(booking))
            return redirect("booking_manage", token=token)
    context["form"] = form
    context["problem"] = client_cancel_problem(booking, now=now)
    if not context["problem"]:
        context["credit_notice"], context["credit_late"] = _credit_notice(booking, now=now)
    return render(request, "booking/manage_cancel.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manage_link
def manage_reschedule(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """Pick a new free slot of the same offering, confirm, move (booking/views/reschedule.py)."""
    now = timezone.now()
    side = RescheduleSide(
        actor=BookingEvent.Actor.CLIENT,
        template="booking/manage_reschedule.html",
        path=reverse("booking_manage_reschedule", kwargs={"token": token}),
        done_url=reverse("booking_manage", kwargs={"token": token}),
        own_zone=booking.client_time_zone,
        other_zone=booking.coach.time_zone,
        done_message=lambda moved: (
            f"Your call is moved to {CallTime.of(moved.start, moved.end, moved.client_time_zone)}. "
            "We've sent you an updated invite."
        ),
        refusal=client_reschedule_problem(booking, now=now),
        refusal_key="problem",
    )
    return reschedule_flow(
        request, booking=booking, side=side, context=_booking_context(request, booking, token), now=now
    )


@require_safe
@manage_link
def invite_ics(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """The client's invite for the booking, as it is now (REQUEST, or CANCEL once it is off)."""
    method = invites.current_method(booking)
    body = invites.invite_bytes(booking, method=method, now=timezone.now())
    response = HttpResponse(body, content_type=f"{invites.CALENDAR_TYPE}; method={method}")
    response["Content-Disposition"] = 'attachment; filename="invite.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
