"""12- or 24-hour clocks: which one a visitor reads, for this request or this email.

The current cycle lives in a ContextVar: ``HourCycleMiddleware`` sets it for each request
from ``Accept-Language``, and ``hour_cycle_for(locale)`` sets it around a block (an email
rendered in a worker, per recipient). common/display.py reads it with ``is_12_hour()``.

Which locales read 12-hour times is CLDR's answer, read through Babel: a locale whose
short time format has an ``h`` or ``K`` is a 12-hour one. Anything unknown reads 24-hour,
the safe choice for a page written in international English.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django.http import HttpRequest, HttpResponse

MAX_TAG_LENGTH = 35  # Booking.client_locale's length; longer tags are not real ones
MAX_HEADER_LENGTH = 1000  # a real Accept-Language is short; parse no more than this
MAX_HEADER_ENTRIES = 30

_TAG_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}$")

_twelve_hour: ContextVar[bool] = ContextVar("twelve_hour", default=False)


def _clean_tag(raw: str) -> str:
    """A language tag in ``[A-Za-z0-9-]`` (``_`` read as ``-``), cut to 35 characters, or ""
    when it isn't one (any other character, or a first part that is not a language)."""
    raw = raw.strip()
    if not _TAG_CHARACTERS.fullmatch(raw):
        return ""
    tag = raw.replace("_", "-")[:MAX_TAG_LENGTH].strip("-")
    parts = tag.split("-")
    if not tag or not _LANGUAGE.match(parts[0]) or not all(_SUBTAG.match(p) for p in parts):
        return ""
    return tag


@lru_cache(maxsize=512)
def _cldr_12_hour(tag: str) -> bool:
    """CLDR's answer (through Babel): the locale's short time format has an ``h`` or ``K``
    (``h:mm a``, ``a h:mm``, ``Bh:mm``); ``HH:mm`` and ``H:mm`` are 24-hour. A tag Babel
    doesn't know falls back to its language, then to 24-hour."""
    for candidate in (tag, tag.split("-")[0]):
        try:
            pattern = Locale.parse(candidate, sep="-").time_formats["short"].pattern
        except (ValueError, TypeError, KeyError, UnknownLocaleError):
            continue
        return bool(re.search(r"[hK]", re.sub(r"'[^']*'", "", pattern)))
    return False


def uses_12_hour(locale: str) -> bool:
    """Whether people of ``locale`` (a BCP 47 tag: "en-US", "de-DE") read 12-hour times.

    A ``-u-hc-`` extension (``en-GB-u-hc-h12``) wins; unknown or garbage tags read 24-hour.
    """
    try:
        tag = _clean_tag(str(locale or ""))
        if not tag:
            return False
        parts = [p.lower() for p in tag.split("-")]
        if "u" in parts:
            extension = parts[parts.index("u") + 1 :]
            if "hc" in extension[:-1]:
                cycle = extension[extension.index("hc") + 1]
                if cycle in {"h11", "h12"}:
                    return True
                if cycle in {"h23", "h24"}:
                    return False
            parts = parts[: parts.index("u")]
        return _cldr_12_hour("-".join(parts))
    except Exception:
        return False


def locale_from_accept_language(header: str) -> str:
    """The tag of highest quality in an ``Accept-Language`` header (the first of equals), else ""."""
    best, best_q = "", 0.0
    for entry in str(header or "")[:MAX_HEADER_LENGTH].split(",")[:MAX_HEADER_ENTRIES]:
        tag, _, params = entry.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if not math.isfinite(quality) or quality <= 0:
            continue
        cleaned = "" if tag.strip() == "*" else _clean_tag(tag)
        if cleaned and quality > best_q:
            best, best_q = cleaned, min(quality, 1.0)
    return best


def locale_from_request(request: HttpRequest) -> str:
    """The visitor's preferred locale from the request's ``Accept-Language`` ("" when none)."""
    return locale_from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


def is_12_hour() -> bool:
    """Whether times shown now are 12-hour ("4:00 PM"); 24-hour ("16:00") by default."""
    return _twelve_hour.get()


@contextmanager
def hour_cycle_for(locale: str) -> Iterator[bool]:
    """Show times in ``locale``'s clock inside the block; the previous cycle comes back after."""
    token = _twelve_hour.set(uses_12_hour(locale))
    try:
        yield _twelve_hour.get()
    finally:
        _twelve_hour.reset(token)


class HourCycleMiddleware:
    """Each request shows times in the clock of the visitor's ``Accept-Language``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with hour_cycle_for(locale_from_request(request)):
            return self.get_response(request)
