from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    """What every app shares: tokens, outbound HTTP, email helpers, display helpers, rate limits."""

    name = "common"
    verbose_name = "Common"
