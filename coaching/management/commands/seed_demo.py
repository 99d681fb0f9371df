"""Create the demo coach of the public contract; safe to run again and again."""

from __future__ import annotations

import os
import secrets
from datetime import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from coaching.models import Coach, Offering, WeeklyHours

DEMO_EMAIL = "coach@example.com"
DEMO_SLUG = "demo"
DEMO_ZONE = "America/New_York"
DEMO_OFFERINGS = (
    {
        "slug": "intro-call",
        "title": "Intro call",
        "description": "A free 30-minute call to get to know each other and find your next best move.",
        "duration_minutes": 30,
        "slot_step_minutes": 30,
        # Each booking gets its own video room (MEETING_ROOM_URL_TEMPLATE).
        "location_kind": "room",
        # Bookable, movable and cancellable until an hour ahead, so a newcomer can try
        # every step on the first free slot and watch the 1-hour reminder arrive.
        "min_notice_minutes": 60,
        "cancel_notice_minutes": 60,
        "reschedule_notice_minutes": 60,
    },
    {
        "slug": "coaching-session",
        "title": "Coaching session",
        "description": "A focused 60-minute session on what matters most to you right now.",
        "duration_minutes": 60,
        "slot_step_minutes": 30,
        "buffer_after_minutes": 15,
    },
)

DEMO_PITCH = "Tips, tools and small challenges for your next best move, about twice a month"
DEMO_INTRO = """\
Feeling stuck at work, or wondering what comes **next**? I help people find their *next best move* \
and take it: a new role, a conversation they keep putting off, or a first step towards their own thing.

## How I work

- A free **intro call** to see whether we're a good fit
- Focused **coaching sessions**, one at a time, no package to buy
- Small, concrete steps between sessions

Book a call below, or join my email community for tips, tools and challenges.
"""


class Command(BaseCommand):
    help = "Create or refresh the demo coach (slug 'demo') and print how to sign in."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", ""),
            help="Password for coach@example.com (default: a random one kept in var/demo-password).",
        )

    @transaction.atomic
    def handle(self, *args: Any, password: str, **options: Any) -> None:
        password = password or self._local_password()
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(email=DEMO_EMAIL, defaults={"name": "Dana Demo"})
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        self._mark_email_verified(user)

        coach, _ = Coach.objects.get_or_create(
            user=user,
            defaults={
                "slug": DEMO_SLUG,
                "display_name": "Dana Demo",
                "headline": "Career coaching for your next best move",
                "bio": "I help people find and take their next best move at work.",
                "time_zone": DEMO_ZONE,
                "default_meeting_url": "https://meet.example.com/dana-demo",
            },
        )
        if not coach.intro_markdown:
            # The landing page's introduction (older demo databases get it too).
            coach.intro_markdown = DEMO_INTRO
            coach.community_pitch = coach.community_pitch or DEMO_PITCH
            coach.save(update_fields=["intro_markdown", "community_pitch"])
        for spec in DEMO_OFFERINGS:
            Offering.objects.get_or_create(coach=coach, slug=spec["slug"], defaults=spec)
        if not coach.weekly_hours.exists():
            WeeklyHours.objects.bulk_create(
                WeeklyHours(coach=coach, weekday=day, start=time(9), end=time(17)) for day in range(5)
            )

        self.stdout.write(self.style.SUCCESS(f"Demo coach ready at /{coach.slug}/"))
        self.stdout.write(f"Sign in as {DEMO_EMAIL} with password: {password}  (local use only)")

    @staticmethod
    def _local_password() -> str:
        """A random password made once and kept beside the local database."""
        path = Path(settings.VAR_DIR) / "demo-password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(9))
            path.chmod(0o600)
        return path.read_text().strip()

    @staticmethod
    def _mark_email_verified(user: Any) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
