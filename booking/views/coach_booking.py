"""The coach books a call, or a standing series, for a client: /dashboard/bookings/new/.

The same services as the client's booking (``booking_create``, ``booking_series_create``) with
``by`` the coach: the slot must be free by the offering's rules, the booking is confirmed at once,
and both sides get the confirmation with the invite."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from booking.coach_booking_forms import CoachBookingForm
from booking.display import zone_options
from booking.models import BookingEvent
from booking.services import (
    Booker,
    BookingError,
    SeriesUnavailable,
    SlotUnavailable,
    booking_create,
    booking_series_create,
)
from coaching.models import Coach
from coaching.permissions import coach_required
from common.display import day_label
from common.errors import UserFacingError

COACH = BookingEvent.Actor.COACH


@coach_required
@require_http_methods(["GET", "HEAD", "POST"])
def booking_new(request: HttpRequest, coach: Coach) -> HttpResponse:
    zone_name = request.POST.get("time_zone") or request.GET.get("tz") or coach.time_zone
    zones = zone_options(zone_name if isinstance(zone_name, str) else coach.time_zone)
    unavailable: list[str] = []
    if request.method == "POST":
        form = CoachBookingForm(request.POST, coach=coach, zones=zones)
        if form.is_valid():
            data = form.cleaned_data
            booker = Booker(
                name=data["name"],
                email=data["email"],
                time_zone=data["time_zone"],
                phone=data["phone"] if data["offering"].asks_phone else "",
                note=data["note"],
                by=COACH,
            )
            offering = data["offering"]
            offering.coach = coach
            try:
                if data["repeat"]:
                    made = booking_series_create(
                        offering=offering,
                        start=data["start"],
                        interval_weeks=int(data["repeat"]),
                        count=data["repeat_count"],
                        skip_unavailable=data["skip_unavailable"],
                        booker=booker,
                    )
                    booking = made.bookings[0]
                    messages.success(request, f"Booked {len(made.bookings)} calls for {booker.name}.")
                else:
                    booking = booking_create(
                        offering=offering,
                        start=data["start"],
                        client_name=booker.name,
                        client_email=booker.email,
                        client_time_zone=booker.time_zone,
                        client_phone=booker.phone,
                        note=booker.note,
                        by=COACH,
                    ).booking
                    messages.success(
                        request, f"Booked for {booker.name}. They get the confirmation by email."
                    )
            except SeriesUnavailable as exc:
                unavailable = [f"{day_label(day)} {day:%Y}" for day in exc.dates]
                form.add_error(None, exc.message)
            except SlotUnavailable as exc:
                form.add_error(
                    "time", exc.message if data["start"] > timezone.now() else "This time has passed."
                )
            except (BookingError, UserFacingError) as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("dashboard_booking", reference=booking.reference)
    else:
        form = CoachBookingForm(initial={"time_zone": coach.time_zone}, coach=coach, zones=zones)
    context = {"section": "bookings", "coach": coach, "form": form, "unavailable": unavailable}
    return render(request, "booking/dashboard/booking_new.html", context)
