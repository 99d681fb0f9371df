"""View helpers every app shares."""

from __future__ import annotations

import re
from typing import TypeVar

from django.http import Http404

T = TypeVar("T")

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def is_slug(value: str) -> bool:
    """Whether ``value`` can be one of our slugs (what ``<slug:...>`` URLs accept); anything else,
    a NUL byte included, never reaches a query."""
    return bool(_SLUG.fullmatch(value))


def found_or_404(found: T | None, message: str) -> T:
    """``found``, or a 404 saying what was not found: views load "this user's X" through a selector."""
    if found is None:
        raise Http404(message)
    return found
