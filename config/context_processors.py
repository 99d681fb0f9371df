from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """The site's name and whether Google login is offered, for every template."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "GOOGLE_LOGIN_ENABLED": settings.GOOGLE_LOGIN_ENABLED,
    }
