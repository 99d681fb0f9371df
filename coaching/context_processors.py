"""What every page's template may show about becoming a coach: ``can_become_coach``, for the
"Become a coach" links in the navigation, on the home page and on "My bookings"."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from coaching.permissions import coach_signup_open
from coaching.selectors import user_email_verified


def become_coach(request: HttpRequest) -> dict[str, Any]:
    """``can_become_coach``: a signed-in, verified person who is not a coach, while
    ``COACH_SIGNUP=open``. Lazy, so its queries run only where a template asks, and never
    while signup is closed or for visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not coach_signup_open():
        return {"can_become_coach": False}
    return {
        # ``is_coach`` caches the profile on the user, so the navigation's own check shares it.
        "can_become_coach": SimpleLazyObject(lambda: not user.is_coach and user_email_verified(user))
    }
