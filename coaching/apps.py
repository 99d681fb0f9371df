from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching"

    def ready(self) -> None:
        from accounts.services import register_account_data

        register_account_data(name="coach_profile", export=_coach_profile_export, delete=_nothing_to_forget)


def _coach_profile_export(user: Any, emails: list[str]) -> dict[str, str] | None:
    """A coach's public profile, in "download my data" (None for everyone else)."""
    if not user.is_coach:
        return None
    coach = user.coach
    return {
        "slug": coach.slug,
        "display_name": coach.display_name,
        "headline": coach.headline,
        "bio": coach.bio,
        "time_zone": coach.time_zone,
        "contact_email": coach.contact_email,
    }


def _nothing_to_forget(user: Any, emails: list[str], now: Any) -> int:
    # A coach's account is never deleted by its owner (accounts.services.user_delete refuses).
    return 0
