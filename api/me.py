"""The coach API under /api/v1/me/: every route needs a coach's personal access token
(api/auth.py). Each resource is a router of its own, mounted here.

``document_errors`` describes the error answers of every /me operation in the OpenAPI schema
(api/api.py calls it), in the words the API answers with, so each module only lists the
statuses its endpoints give.
"""

from __future__ import annotations

import re
from http.client import responses as reason_phrases
from typing import Any

from ninja import Router

from api import me_bookings, me_calendars, me_practice, me_setup, me_webhooks
from api.auth import READ_ONLY, UNAUTHORIZED, coach_token, rate_limited_message

router = Router(auth=coach_token, tags=["Coach API"])
router.add_router("/bookings", me_bookings.router)
router.add_router("/webhooks", me_webhooks.router)
router.add_router("/calendars", me_calendars.router)
router.add_router("", me_setup.router)
router.add_router("", me_practice.router)

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON.",
    401: "No token, an unknown one or a revoked one: send `Authorization: Bearer cc_...`.",
    403: "A read-only token asked for a change: use a token with write access.",
    404: "Nothing of yours at this address.",
    409: "Not possible in the current state: `detail` says why.",
    422: (
        "A parameter or field is not valid: each entry of `detail` names one in `loc` "
        '(e.g. `["query", "limit"]` or `["body", "title"]`) and says why in `msg`.'
    ),
    429: "Too many requests with this token: try again after `Retry-After` seconds.",
}
CLASHES_DESCRIPTION = (
    "Booked calls would fall outside the new hours: `clashes` lists them. Send `confirm_clashes` "
    "to save anyway (the bookings are kept)."
)
EXAMPLE_RETRY_AFTER = 12
ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"detail": "Cannot parse request body"},  # django-ninja's own
    401: {"detail": UNAUTHORIZED},
    403: {"detail": READ_ONLY},
    429: {"detail": rate_limited_message(EXAMPLE_RETRY_AFTER)},
}
# A 404 names what was not found: the last parameter of the path says what that is.
NOT_FOUND = {
    "reference": me_bookings.NOT_FOUND,
    "endpoint_id": me_webhooks.NOT_FOUND,
    "account_id": me_calendars.NOT_FOUND,
    "delivery_id": me_webhooks.DELIVERY_NOT_FOUND,
    "slug": me_setup.OFFERING_NOT_FOUND,
    "override_id": me_setup.OVERRIDE_NOT_FOUND,
    "package_id": me_practice.PACKAGE_NOT_FOUND,
    "pass_id": me_practice.PASS_NOT_FOUND,
}
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def document_errors(path: str, operation: dict[str, Any]) -> None:
    """Give each error answer of a /me operation its description and, where the words are
    known, an example. What an operation states itself (``openapi_extra``) is kept."""
    parameters = _PATH_PARAMETER.findall(path)
    for status, response in operation["responses"].items():
        code = int(status)
        if not 400 <= code < 500:
            continue
        media = response.get("content", {}).get("application/json", {})
        clashes = media.get("schema", {}).get("$ref", "").endswith("/ClashesOut")
        # django-ninja describes a status by its reason phrase ("Not Found"): ours says more.
        if response.get("description") in (None, "", reason_phrases.get(code)):
            ours = CLASHES_DESCRIPTION if clashes else ERROR_DESCRIPTIONS.get(code)
            response["description"] = ours or response.get("description") or str(code)
        example = ERROR_EXAMPLES.get(code)
        if code == 404 and parameters and parameters[-1] in NOT_FOUND:
            example = {"detail": NOT_FOUND[parameters[-1]]}
        if media and example is not None and "example" not in media and "examples" not in media:
            media["example"] = example
        if code == 429:
            response.setdefault("headers", {})["Retry-After"] = {
                "description": "Seconds until this token may send again",
                "schema": {"type": "integer", "example": EXAMPLE_RETRY_AFTER},
            }
