"""12- or 24-hour clocks: which one a visitor reads, for this request or this email.

Placeholder: the middleware does nothing yet (issue 13 fills it in).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class HourCycleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
