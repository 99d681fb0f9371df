"""The JSON API: one NinjaAPI, one router tree, schema at /api/v1/openapi.json."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from api import bookings, coaches, me
from api.auth import TokenRateLimited, WriteScopeRequired

api = NinjaAPI(
    title="Coaching Calls API",
    version="1",
    description="Coach profiles, free slots and bookings. Times are ISO 8601 with offsets.",
    urls_namespace="api-v1",
)
api.add_router("/coaches", coaches.router)
api.add_router("/bookings", bookings.router)
api.add_router("/me", me.router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(TokenRateLimited)
def token_rate_limited(request: HttpRequest, exc: TokenRateLimited) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": f"Too many requests with this token. Try again in {exc.retry_after} s."},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(WriteScopeRequired)
def write_scope_required(request: HttpRequest, exc: WriteScopeRequired) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "This token may only read. Create a token with write access to change things."},
        status=403,
    )
