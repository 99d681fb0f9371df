"""The JSON API: one NinjaAPI, one router tree, schema at /api/v1/openapi.json."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from api import bookings, coaches

api = NinjaAPI(
    title="Coaching Calls API",
    version="1",
    description="Coach profiles, free slots and bookings. Times are ISO 8601 with offsets.",
    urls_namespace="api-v1",
)
api.add_router("/coaches", coaches.router)
api.add_router("/bookings", bookings.router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)
