"""Error answers in one shape: 4xx JSON that names the field."""

from __future__ import annotations

from ninja.errors import ValidationError


def field_error(location: str, field: str, message: str) -> ValidationError:
    """A 422 like pydantic's own, e.g. field_error("query", "tz", "Unknown time zone")."""
    return ValidationError([{"type": "value_error", "loc": [location, field], "msg": message}])
