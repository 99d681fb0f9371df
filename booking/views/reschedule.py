"""One reschedule flow, shared by the client's manage link and the coach's dashboard.

GET: pick a new free slot of the same offering; GET ``?start=``: confirm the move;
POST: move it through ``booking_reschedule`` (which checks the slot and, for a
client, the policy again). Each side says only where it renders and what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from booking.display import picker_context
from booking.forms import RescheduleForm, iso_utc, parse_start
from booking.models import Booking
from booking.services import BookingError, SlotUnavailable, booking_reschedule
from booking.slots import offering_slot_is_free
from common.display import CallTime, VisitorZone
from common.timezones import is_valid_timezone


@dataclass(frozen=True)
class RescheduleSide:
    """Who is moving the booking, and how their pages look."""

    actor: str  # BookingEvent.Actor
    template: str
    path: str  # this flow's own address (the picker's links come back here)
    done_url: str  # where a successful move lands
    own_zone: str  # the zone this side reads times in by default
    other_zone: str  # the other side's zone, shown next to the new time
    done_message: Callable[[Booking], str]
    # Why this side can't move the booking at all ("" if it can), and the context key for it.
    refusal: str = ""
    refusal_key: str = "error"


def _unavailable(start: datetime, now: datetime) -> str:
    if start <= now:
        return "That time has already passed. Please pick another time."
    return "This time isn't free any more. Please pick another time."


def reschedule_flow(
    request: HttpRequest, *, booking: Booking, side: RescheduleSide, context: dict[str, Any], now: datetime
) -> HttpResponse:
    """The three steps of moving ``booking`` (see the module)."""
    raw_tz = request.GET.get("tz") or request.POST.get("tz", "")
    zone_name = raw_tz if is_valid_timezone(raw_tz) else side.own_zone
    if side.refusal:
        context[side.refusal_key] = side.refusal
        status = HTTPStatus.CONFLICT if request.method == "POST" else HTTPStatus.OK
        return render(request, side.template, context, status=status)

    status = HTTPStatus.OK
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if form.is_valid():
            new_start = form.cleaned_data["start"]
            try:
                booking = booking_reschedule(booking=booking, new_start=new_start, by=side.actor, now=now)
            except SlotUnavailable:
                context["error"] = (
                    "That time has already passed. Please pick another time."
                    if new_start <= now
                    else "This time was just taken. Please pick another time."
                )
                status = HTTPStatus.CONFLICT
            except BookingError as exc:
                context["error"] = exc.message
                status = HTTPStatus.CONFLICT
            else:
                messages.success(request, side.done_message(booking))
                return redirect(side.done_url)
        else:
            context["error"] = "That isn't a valid time. Please pick one of the free times."
            status = HTTPStatus.BAD_REQUEST
    elif "start" in request.GET:
        new_start = parse_start(request.GET.get("start"))
        if new_start is None:
            context["error"] = "That link doesn't name a valid time. Please pick one of the free times."
            status = HTTPStatus.BAD_REQUEST
        elif new_start == booking.start:
            context["error"] = "The call is already at this time. Please pick another time."
        elif not offering_slot_is_free(offering=booking.offering, start=new_start, now=now):
            context["error"] = _unavailable(new_start, now)
        else:
            new_end = new_start + booking.offering.duration
            context.update(
                new_time=CallTime.of(new_start, new_end, zone_name),
                new_other_time=CallTime.of(new_start, new_end, side.other_zone),
                new_start=iso_utc(new_start),
                zone_name=zone_name,
            )
            return render(request, side.template, context)

    context.update(
        picker_context(
            request,
            offering=booking.offering,
            choice=VisitorZone(zone_name, is_visitors=True),
            page_base=side.path,
            slot_base=side.path,
            now=now,
        )
    )
    return render(request, side.template, context, status=status)
