"""Security headers Django 5.2 does not set itself: a strict Content-Security-Policy.

No 'unsafe-inline' anywhere on our pages: every script and stylesheet is a file under
/static/. The API's Swagger UI page is the one exception for styles, because the
Swagger bundle sets inline styles (it still loads only our own script files).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy(*, path: str) -> str:
    form_action = "'self'"
    if settings.GOOGLE_LOGIN_ENABLED:
        # The Google button posts to us and we redirect to Google: form-action covers that redirect.
        form_action += " https://accounts.google.com"
    style_src = "'self' 'unsafe-inline'" if path.startswith("/api/v1/docs") else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(path=request.path))
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response
