"""Secrets out of log lines: the tokens of manage, feed, community and account links.

Request paths carry secrets (``/b/<token>/``, ``/feeds/coach/<token>.ics``, allauth's
confirmation and password-reset keys), and Django's request logger, runserver and
gunicorn print the path of every request they log. ``RedactTokens`` is a logging filter
that every handler carries (config/settings.py LOGGING, config/gunicorn.py): it rewrites
the token segments of those paths, and sensitive query values, to ``[redacted]`` in the
message, the exception text and the request a record carries. The ``<id>.`` head of a
signed ``<id>.<mac>`` token stays: a booking reference or a row id names no one and is
what an operator looks for.

This module imports nothing of Django's at import time: gunicorn's master loads it
before the application.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

REDACTED = "[redacted]"

# Every prefix under which the next path segment is a secret (config/urls.py, booking/urls.py,
# community/urls.py, the API's bookings router and allauth's account URLs).
TOKEN_PREFIXES = (
    "b",
    "s",  # a standing series' link
    "w",  # a waitlist entry's link
    "feeds/coach",
    "feeds/client",
    "community/confirm",
    "community/unsubscribe",
    "api/v1/bookings",
    "passes",
    "api/v1/passes",
    "accounts/confirm-email",
    "accounts/password/reset/key",
)
# Query parameters whose values are secrets or addresses.
SENSITIVE_PARAMETERS = (
    "token",
    "key",
    "code",
    "state",
    "signature",
    "sig",
    "secret",
    "password",
    "access_token",
    "refresh_token",
    "id_token",
    "email",
    # A pass link's token on the offering and booking pages (?pass=...).
    "pass",
)

_TOKEN_SEGMENT = re.compile(
    r"(?P<prefix>/(?:" + "|".join(re.escape(p) for p in TOKEN_PREFIXES) + r")/)"
    # allauth's "…/reset/key/done/" is a page, not a key.
    r"(?!done(?:/|$|[?#\s\"']))"
    r"(?P<ident>[A-Za-z0-9-]{1,18}\.)?"
    r"(?P<secret>[^/?#&\s\"'<>]+)"
)
_SENSITIVE_QUERY = re.compile(
    r"(?P<name>[?&;](?:" + "|".join(SENSITIVE_PARAMETERS) + r")=)(?P<value>[^&;#\s\"'<>]*)",
    re.IGNORECASE,
)
# What a request carries that repeats the path or the query (WSGI environ, gunicorn's RAW_URI).
_REQUEST_META = ("PATH_INFO", "REQUEST_URI", "RAW_URI", "QUERY_STRING", "HTTP_REFERER", "SCRIPT_NAME")


def redact(text: str) -> str:
    """``text`` with every token path segment and sensitive query value replaced."""
    if "/" not in text and "=" not in text:
        return text  # nothing that could be a path or a query: the common case, fast
    text = _TOKEN_SEGMENT.sub(lambda m: f"{m['prefix']}{m['ident'] or ''}{REDACTED}", text)
    return _SENSITIVE_QUERY.sub(lambda m: f"{m['name']}{REDACTED}", text)


def redact_query(query: str) -> str:
    """A bare query string (``a=1&token=x``), as WSGI's QUERY_STRING holds it."""
    return redact(f"?{query}")[1:] if query else query


def redacted_request(request: Any) -> Any:
    """A shallow copy of a Django request whose path, query and referer are redacted.

    A copy, because the live request is still being answered when the record is logged.
    """
    clean = copy.copy(request)
    for name in ("path", "path_info"):
        value = getattr(request, name, None)
        if isinstance(value, str):
            setattr(clean, name, redact(value))
    meta = getattr(request, "META", None)
    if isinstance(meta, dict):
        clean.META = {
            key: (
                redact_query(value)
                if key == "QUERY_STRING" and isinstance(value, str)
                else redact(value)
                if key in _REQUEST_META and isinstance(value, str)
                else value
            )
            for key, value in meta.items()
        }
        if hasattr(request, "environ"):
            clean.environ = clean.META  # a WSGIRequest parses GET from environ
        from django.http import QueryDict

        clean.GET = QueryDict(clean.META.get("QUERY_STRING", ""))
    return clean


class RedactTokens(logging.Filter):
    """Rewrites a record's message, exception text and request so that no token is left.

    On a handler (not a logger), so it sees the records of every logger that reaches it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the handler's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            clean_text = redact(text)
            if clean_text != text:
                # A formatter that renders exc_info itself (the JSON one) would print the
                # token again: the redacted traceback joins the message, exc_info goes.
                record.msg, record.args = f"{clean}\n{clean_text}", ()
                record.exc_info, record.exc_text = None, None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        request = getattr(record, "request", None)
        if request is not None and not getattr(request, "_tokens_redacted", False):
            record.request = redacted_request(request)
            record.request._tokens_redacted = True
        return True
