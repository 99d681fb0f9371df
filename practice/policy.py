"""What a cancellation, a decline or a no-show does to the credit a booking used. Pure.

The policy is the one in force when the session was booked: booking keeps a copy of the
offering's cancellation window, grace period and late-cancellation rule on each booking, and
passes it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The offering's choice for a client's cancellation inside the notice window.
LATE_FORFEIT = "forfeit"
LATE_RETURN = "return_late"

RETURNED = "returned"
FORFEITED = "forfeited"


@dataclass(frozen=True)
class CancelPolicy:
    """The cancellation rules a booking was made under."""

    notice_minutes: int
    grace_minutes: int = 0
    late_credit: str = LATE_FORFEIT


@dataclass(frozen=True)
class CreditOutcome:
    """``credit`` is RETURNED or FORFEITED; ``late`` marks a credit returned for a late cancellation."""

    credit: str
    late: bool = False


def in_free_window(*, policy: CancelPolicy, start: datetime, booked_at: datetime, now: datetime) -> bool:
    """Whether a client may cancel now without consequence: before the notice window, or in
    the grace period right after booking (however close the call), and before the start."""
    if now >= start:
        return False
    if policy.grace_minutes and now <= booked_at + timedelta(minutes=policy.grace_minutes):
        return True
    return now <= start - timedelta(minutes=policy.notice_minutes)


def credit_outcome(
    *, status: str, by: str, policy: CancelPolicy, start: datetime, booked_at: datetime, now: datetime
) -> CreditOutcome:
    """The credit's fate when a booking becomes ``status`` ("cancelled", "declined", "no_show").

    The coach cancelling or declining, or the system calling a session off, gives it back; a
    no-show forfeits it; a client's cancellation gives it back in the free window and, inside
    it, forfeits it or gives it back marked late, as the offering said.
    """
    if status == "no_show":
        return CreditOutcome(FORFEITED)
    if by != "client":
        return CreditOutcome(RETURNED)
    if in_free_window(policy=policy, start=start, booked_at=booked_at, now=now):
        return CreditOutcome(RETURNED)
    if policy.late_credit == LATE_RETURN:
        return CreditOutcome(RETURNED, late=True)
    return CreditOutcome(FORFEITED)
