"""The coach API under /api/v1/me/: every route needs a coach's personal access token
(api/auth.py). Each resource is a router of its own, mounted here."""

from __future__ import annotations

from ninja import Router

from api import me_bookings, me_setup, me_webhooks
from api.auth import coach_token

router = Router(auth=coach_token, tags=["Coach API"])
router.add_router("/bookings", me_bookings.router)
router.add_router("/webhooks", me_webhooks.router)
router.add_router("", me_setup.router)
