"""What every page's template may show about the signed-in coach's bookings: the number of
bookings waiting for approval, next to "Bookings" in the dashboard's navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from booking import selectors


def pending_approvals(request: HttpRequest) -> dict[str, Any]:
    """``pending_approval_count``: lazy, so its one query runs only where a template shows it
    (the dashboard's navigation), never on the public pages. 0 for anyone who is not a coach."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pending_approval_count": 0}
    user_id = user.pk
    return {
        "pending_approval_count": SimpleLazyObject(
            lambda: selectors.pending_approval_count(user_id=user_id, now=timezone.now())
        )
    }
