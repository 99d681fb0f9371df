"""View helpers every app shares."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404

T = TypeVar("T")


def found_or_404(found: T | None, message: str) -> T:
    """``found``, or a 404 saying what was not found: views load "this user's X" through a selector."""
    if found is None:
        raise Http404(message)
    return found
