"""The coach API's authentication: ``Authorization: Bearer <personal access token>``.

Never cookies, so the coach API needs no CSRF token. No token, an unknown one or a revoked
one: 401. A read-only token on a write: 403 (``require_write``). Each token is rate-limited
on its own (``API_TOKEN_RATE``): 429 with ``Retry-After``.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from coaching import services
from coaching.models import ApiToken, Coach
from coaching.selectors import api_token_for_key
from common.ratelimit import KeyRateThrottle

# A token we issue is "cc_" and 43 URL-safe characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 100


# The answers' words, here so the handlers (api/api.py) and the schema's examples agree.
UNAUTHORIZED = "Unauthorized"  # django-ninja's own 401 for a missing or unknown token
READ_ONLY = "This token may only read. Create a token with write access to change things."


def rate_limited_message(retry_after: int) -> str:
    return f"Too many requests with this token. Try again in {retry_after} s."


class TokenRateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests with this token.")
        self.retry_after = retry_after


class WriteScopeRequired(Exception):
    """A read-only token asked for a change."""


class CoachToken(HttpBearer):
    """The signed-in coach's token, in ``request.auth`` (its ``coach`` loaded)."""

    openapi_description = (
        "A personal access token from the dashboard (API tokens) or `manage.py create_api_token`: "
        "`Authorization: Bearer cc_...`. Read tokens may only read."
    )

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        found = api_token_for_key(key_hash=services.api_token_hash(token))
        if found is None:
            return None
        throttle = KeyRateThrottle("api-token", settings.API_TOKEN_RATE, str(found.pk))
        if not throttle.allow_request(request):
            raise TokenRateLimited(max(1, math.ceil(throttle.wait() or 1)))
        services.api_token_touch(token=found, now=timezone.now())
        return found


coach_token = CoachToken()


def token_coach(request: HttpRequest) -> Coach:
    """The coach whose token signed the request."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return token.coach


def require_write(request: HttpRequest) -> Coach:
    """The coach, for an endpoint that changes something: a read token gets 403."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if not token.can_write:
        raise WriteScopeRequired()
    return token.coach
