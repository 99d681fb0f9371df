"""A booking as the coach API shows it, and as webhooks carry it: one JSON-ready dict.

Pure: a booking with ``offering`` (and ``coach``) loaded in, plain values out. Instants are
ISO 8601 in UTC; the client's own zone is a field of its own. The client's manage link is
not here: it is the client's secret (the coach can replace it from the dashboard).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from booking.credits import credit_state
from booking.invites import dashboard_url
from booking.location import place_of
from booking.models import Booking


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def coach_booking_data(booking: Booking, *, credit: str | None = None) -> dict[str, Any]:
    """The booking's fields a coach's tools need, in a stable shape (docs/architecture.md).

    ``credit``: the credit's state when the caller knows it (a booking being made: "used"),
    sparing the ledger's read."""
    place = place_of(booking, audience="coach")
    answers = booking.answers if isinstance(booking.answers, dict) else {}
    return {
        "reference": booking.reference,
        "status": booking.status,
        "start": _iso(booking.start),
        "end": _iso(booking.end),
        "offering": {"slug": booking.offering.slug, "title": booking.offering.title},
        "client": {
            "name": booking.client_name,
            "email": booking.client_email,
            "time_zone": booking.client_time_zone,
            "phone": booking.client_phone,
        },
        "answers": {str(label): str(value) for label, value in answers.items()},
        "note": booking.note,
        "location": {"kind": place.kind, "join_url": place.join_url, "text": place.location},
        # The package session this booking uses, and what became of its credit.
        "pass": booking.client_pass.reference if booking.client_pass_id else None,
        "credit": credit or credit_state(booking) or None,
        # One call of a standing series: which series, and which of its calls (0 for the first).
        "series": {"reference": booking.series.reference, "index": booking.series_index}
        if booking.series_id is not None and booking.series is not None
        else None,
        "reschedule_count": booking.reschedule_count,
        "cancel_reason": booking.cancel_reason,
        "cancelled_by": booking.cancelled_by,
        "created_at": _iso(booking.created_at),
        "updated_at": _iso(booking.updated_at),
        "dashboard_url": dashboard_url(booking),
    }
