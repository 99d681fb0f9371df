"""The JSON API: one NinjaAPI, one router tree, schema at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from api import bookings, coaches, me, passes, waitlist
from api.auth import READ_ONLY, TokenRateLimited, WriteScopeRequired, rate_limited_message


class OneValueEach(Parser):
    """A query parameter given twice is a 422 naming it, unless it is a list: which value was
    meant is a guess, and a silent guess is how a filter quietly shows the wrong rows."""

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        if data is request.GET:
            for key in data:
                if key not in list_fields and len(data.getlist(key)) > 1:
                    raise ValidationError(
                        [{"type": "value_error", "loc": ["query", key], "msg": f"Give `{key}` once."}]
                    )
        return super().parse_querydict(data, list_fields, request)


class CoachingApi(NinjaAPI):
    """The API, whose schema describes the coach API's error answers (api/me.py)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        me_prefix = f"{path_prefix.rstrip('/')}/me"
        for path, operations in schema["paths"].items():
            if path == me_prefix or path.startswith(f"{me_prefix}/"):
                for operation in operations.values():
                    me.document_errors(path, operation)
        return schema


api = CoachingApi(
    title="Coaching Calls API",
    version="1",
    description="Coach profiles, free slots and bookings. Times are ISO 8601 with offsets.",
    urls_namespace="api-v1",
    parser=OneValueEach(),
)
api.add_router("/coaches", coaches.router)
api.add_router("/bookings", bookings.router)
api.add_router("/passes", passes.router)
api.add_router("/waitlist", waitlist.router)
api.add_router("/me", me.router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(TokenRateLimited)
def token_rate_limited(request: HttpRequest, exc: TokenRateLimited) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": rate_limited_message(exc.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(WriteScopeRequired)
def write_scope_required(request: HttpRequest, exc: WriteScopeRequired) -> HttpResponse:
    return api.create_response(request, {"detail": READ_ONLY}, status=403)
