"""A client's pass by its link's token: the balance, the ledger and what it books.

The token is the secret (practice/tokens.py), as a booking's manage token is: no account is
needed, and anything unknown, malformed or tampered is a 404. Lookups are throttled per
address like the manage links, so tokens can't be guessed at speed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest
from ninja import Router, Status

from api.schemas import ErrorOut, PassOut, ValidationErrorOut, isoformat_in
from common.emails import absolute_url
from common.ratelimit import TOO_MANY_MESSAGE, manage_lookup_throttle
from practice.emails import book_path
from practice.models import Pass
from practice.selectors import passes_with_ledger
from practice.tokens import pass_for_token

router = Router(tags=["passes"])

NOT_FOUND = "No pass for this link."


def pass_data(pass_obj: Pass, token: str) -> dict[str, Any]:
    """The pass as its holder sees it (a pass read through ``passes_with_ledger``)."""
    coach = pass_obj.coach
    zone = ZoneInfo(coach.time_zone)
    return {
        "coach": coach.slug,
        "package": pass_obj.name,
        "sessions": pass_obj.sessions,
        "remaining": pass_obj.remaining,
        "expires_at": isoformat_in(pass_obj.expires_at, zone),
        "ledger": [
            {
                "kind": entry.kind,
                "amount": entry.amount,
                "booking": entry.booking.reference if entry.booking_id else None,
                "by": entry.actor,
                "reason": entry.reason,
                "late": entry.late,
                "at": isoformat_in(entry.at, zone),
            }
            for entry in pass_obj.entries.all()
        ],
        "offerings": [
            {
                "slug": offering.slug,
                "title": offering.title,
                # The booking page, carrying the pass (?pass=<token>) as the pass's emails do.
                "book_url": absolute_url(book_path(pass_obj, offering, token=token)),
            }
            for offering in pass_obj.package.offerings.all()
        ],
    }


@router.get(
    "/{token}",
    response={200: PassOut, 404: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut},
    summary="A pass: its balance, its ledger and the calls it books",
    description=(
        "The token is the one in the pass's link (and what `POST /api/v1/bookings` takes as `pass`). "
        "Unknown or altered tokens answer 404."
    ),
)
def get_pass(request: HttpRequest, token: str):
    if not manage_lookup_throttle().allow_request(request):
        return Status(HTTPStatus.TOO_MANY_REQUESTS, {"detail": TOO_MANY_MESSAGE})
    token = token.strip()
    pass_obj = pass_for_token(token, queryset=passes_with_ledger())
    if pass_obj is None:
        raise Http404(NOT_FOUND)
    return pass_data(pass_obj, token)
