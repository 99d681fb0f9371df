"""Time-zone names: the one list every form and model validates against."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _all_zone_names() -> frozenset[str]:
    # available_timezones() walks the tz database on disk; read it once.
    return frozenset(zoneinfo.available_timezones())


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA zone names for pickers, sorted, without the legacy aliases nobody picks."""
    legacy = ("Etc/", "SystemV/", "US/", "posix/", "right/")
    return (*sorted(name for name in _all_zone_names() if "/" in name and not name.startswith(legacy)), "UTC")


def is_valid_timezone(name: str) -> bool:
    return bool(name) and name in _all_zone_names()


def validate_timezone(value: str) -> None:
    if not is_valid_timezone(value):
        raise ValidationError(
            "“%(value)s” is not a known time zone. Pick one like Europe/Berlin.",
            code="invalid_timezone",
            params={"value": value[:64]},
        )
