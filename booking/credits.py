"""Bookings paid with a pass: the policy each booking keeps, and what becomes of its credit.

Called by booking/services.py inside the booking's transaction, after the coach's and the
booking's locks: practice/services.py locks the pass last, so a credit moves together with
the booking's change or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking.models import Booking
from coaching.models import Offering
from practice import policy
from practice import services as practice
from practice.models import Pass

Status = Booking.Status


def policy_fields(offering: Offering) -> dict[str, Any]:
    """The copy of the cancellation policy a new booking keeps."""
    return {
        "policy_cancel_notice_minutes": offering.cancel_notice_minutes,
        "policy_grace_minutes": offering.cancel_grace_minutes,
        "policy_late_credit": offering.late_cancel_credit,
    }


def policy_of(booking: Booking) -> policy.CancelPolicy:
    """The policy the booking was made under (the offering's today for older bookings)."""
    offering = booking.offering
    notice = booking.policy_cancel_notice_minutes
    grace = booking.policy_grace_minutes
    return policy.CancelPolicy(
        notice_minutes=offering.cancel_notice_minutes if notice is None else notice,
        grace_minutes=offering.cancel_grace_minutes if grace is None else grace,
        late_credit=booking.policy_late_credit or offering.late_cancel_credit,
    )


def in_free_window(booking: Booking, *, now: datetime) -> bool:
    return policy.in_free_window(
        policy=policy_of(booking), start=booking.start, booked_at=booking.created_at, now=now
    )


def check_pass(*, client_pass: Pass | None, offering: Offering, start: datetime, client_email: str) -> None:
    """Raise the PassError that stops this booking, before any lock: a clear answer early."""
    if client_pass is None:
        if offering.package_only:
            raise practice.PassRequired()
        return
    if client_pass.client.email != client_email.strip().lower():
        raise practice.PassNotValidHere("This pass belongs to another email address.")
    practice.pass_check(pass_obj=client_pass, offering=offering, start=start)


def use_credit(booking: Booking, *, now: datetime) -> None:
    """The new booking's credit, in its transaction (PassExhausted / PassExpired roll it back)."""
    if booking.client_pass_id:
        practice.pass_use(
            pass_obj=booking.client_pass,
            booking=booking,
            start=booking.start,
            actor="client",
            now=now,
        )


def move_problem(booking: Booking, *, new_start: datetime) -> str:
    """Why a session paid with a pass can't move to ``new_start`` (it must start before the pass ends)."""
    if booking.client_pass_id and new_start >= booking.client_pass.expires_at:
        return "The package this session uses ends before that time; pick an earlier one."
    return ""


def outcome(booking: Booking, *, status: str, by: str, now: datetime) -> policy.CreditOutcome | None:
    """What the call-off or no-show does to the booking's credit (None: no pass). Pure."""
    if not booking.client_pass_id:
        return None
    return policy.credit_outcome(
        status=status,
        by=by,
        policy=policy_of(booking),
        start=booking.start,
        booked_at=booking.created_at,
        now=now,
    )


def detail(result: policy.CreditOutcome | None) -> dict[str, Any]:
    """The history event's words for it: ``{"credit": "returned" | "forfeited", "late": bool}`` or ``{}``."""
    return {"credit": result.credit, "late": result.late} if result is not None else {}


def settle(
    booking: Booking, result: policy.CreditOutcome | None, *, by: str, reason: str = "", now: datetime
) -> None:
    """Write ``result`` to the pass's ledger, after the booking's own history event."""
    if result is not None:
        practice.credit_settle(
            pass_id=booking.client_pass_id,
            booking_id=booking.pk,
            outcome=result,
            actor=by,
            reason=reason,
            now=now,
        )


def credit_state(booking: Booking) -> str:
    """ "used", "returned", "forfeited" or "" (no pass): what the booking's credit is now."""
    if not booking.client_pass_id:
        return ""
    kinds = {entry.kind for entry in booking.pass_entries.all()}
    if "return" in kinds:
        return policy.RETURNED
    if "forfeit" in kinds and booking.status in (Status.CANCELLED, Status.NO_SHOW):
        return policy.FORFEITED
    return "used"
