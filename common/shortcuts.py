"""View helpers every app shares."""

from __future__ import annotations

import re
from typing import TypeVar

from django.http import Http404, HttpRequest
from django.middleware.csrf import CsrfViewMiddleware

T = TypeVar("T")

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def is_slug(value: str) -> bool:
    """Whether ``value`` can be one of our slugs (what ``<slug:...>`` URLs accept); anything else,
    a NUL byte included, never reaches a query."""
    return bool(_SLUG.fullmatch(value))


def csrf_passes(request: HttpRequest) -> bool:
    """Whether an unsafe request carries a valid CSRF token (and origin), as Django's middleware checks.

    For views the middleware skips (the JSON API): a request authenticated by the session
    cookie must prove it comes from our own pages, or another site could act as the user.
    """
    refusal = CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})
    return refusal is None


def found_or_404(found: T | None, message: str) -> T:
    """``found``, or a 404 saying what was not found: views load "this user's X" through a selector."""
    if found is None:
        raise Http404(message)
    return found
