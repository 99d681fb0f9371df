"""Logs are one JSON object per line when LOG_FORMAT=json, and no line carries a token."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse

from common.logging import RedactTokens, redact
from config.logging import JsonFormatter


def test_it_formats_a_record_as_one_json_line() -> None:
    record = logging.LogRecord(
        "booking.tasks", logging.INFO, __file__, 1, "booking %s: sent", ("BK-1",), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "booking.tasks"
    assert entry["message"] == "booking BK-1: sent"
    assert entry["time"].endswith("+00:00")


# ---------------------------------------------------------------------------
# Tokens never reach a log line (common/logging.py, on every handler of LOGGING)
# ---------------------------------------------------------------------------
MAC = "s3cretMacXyz_-42"
TOKEN = f"BK-7Q2M9XHD.{MAC}"
SENSITIVE_PARAMETERS = {"token", "key", "uidb36"}


def _explode(request: HttpRequest, token: str) -> HttpResponse:
    raise RuntimeError(f"could not load {request.path}")


# Only this module's tests route here (pytest.mark.urls): a view that fails on a token URL.
urlpatterns = [path("b/<str:token>/", _explode)]


def _console_handler() -> logging.Handler:
    """The handler LOGGING configured on the root logger (pytest adds its own next to it)."""
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactTokens) for f in h.filters)
    ]
    assert len(handlers) == 1, logging.getLogger().handlers
    return handlers[0]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes, in line format, while the test runs."""
    handler = _console_handler()
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    previous_formatter = handler.formatter
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    try:
        yield buffer
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
def test_a_500_on_a_token_url_logs_the_error_without_the_token(
    client: Client, log_output: io.StringIO
) -> None:
    client.raise_request_exception = False
    response = client.get(f"/b/{TOKEN}/?token={MAC}&tz=Europe/Berlin")
    assert response.status_code == 500

    text = log_output.getvalue()
    assert "ERROR django.request Internal Server Error: /b/BK-7Q2M9XHD.[redacted]/" in text
    assert "RuntimeError: could not load /b/BK-7Q2M9XHD.[redacted]/" in text  # the traceback too
    assert MAC not in text


def test_every_url_that_carries_a_token_is_redacted() -> None:
    """Walks the whole URL tree: a new URL with a token, key or uid that the filter misses fails here."""

    def walk(patterns: list, namespace: str = "") -> Iterator[tuple[str, set[str]]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names = set(getattr(pattern.pattern, "converters", {})) | set(
                    pattern.pattern.regex.groupindex
                )
                if names & SENSITIVE_PARAMETERS:
                    yield f"{namespace}{pattern.name}", names

    samples = {"token": f"42.{MAC}", "key": f"Mg:1tq:{MAC}", "uidb36": "2"}
    paths = [
        reverse(name, kwargs={n: samples[n] for n in names})
        for name, names in walk(get_resolver().url_patterns)
    ]
    assert len(paths) >= 17  # manage (5), series (3), feeds (2), community (2), API (3), allauth (2)
    for url_path in paths:
        for line in (
            f"Internal Server Error: {url_path}",
            f'"GET {url_path}?tz=UTC HTTP/1.1" 500 0',
            f"https://coaching.example.com{url_path}",
        ):
            assert MAC not in redact(line), url_path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '"GET /feeds/coach/12.abcDEF.ics HTTP/1.1" 200 90',
            '"GET /feeds/coach/12.[redacted] HTTP/1.1" 200 90',
        ),
        ("/community/unsubscribe/7.abc/", "/community/unsubscribe/7.[redacted]/"),
        ("/accounts/password/reset/key/2-set-password/", "/accounts/password/reset/key/[redacted]/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        ("/ada/intro-call/?tz=Europe/Berlin&week=2", "/ada/intro-call/?tz=Europe/Berlin&week=2"),
        (
            "/accounts/google/login/callback/?state=abc&code=4/0Ad&scope=email",
            "/accounts/google/login/callback/?state=[redacted]&code=[redacted]&scope=email",
        ),
        ("/community/ada/join/?email=a%40b.example", "/community/ada/join/?email=[redacted]"),
    ],
)
def test_it_redacts_token_segments_and_sensitive_query_values_only(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_it_redacts_the_request_a_record_carries_and_leaves_the_live_request_alone(
    rf: RequestFactory,
) -> None:
    request = rf.get(
        f"/b/{TOKEN}/cancel/", {"token": MAC}, headers={"referer": f"https://x.example/b/{TOKEN}/"}
    )
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "%s: %s", ("Internal Server Error", request.path), None
    )
    record.request = request

    assert RedactTokens().filter(record) is True
    assert record.getMessage() == "Internal Server Error: /b/BK-7Q2M9XHD.[redacted]/cancel/"
    clean = record.request
    assert clean.path == clean.path_info == "/b/BK-7Q2M9XHD.[redacted]/cancel/"
    assert MAC not in repr(clean.META)
    assert clean.GET["token"] == "[redacted]"
    assert MAC in request.path and request.GET["token"] == MAC  # the request being answered is untouched


def test_runservers_access_line_is_redacted(log_output: io.StringIO) -> None:
    logging.getLogger("django.server").info('"%s" %s %s', f"GET /b/{TOKEN}/ HTTP/1.1", 200, 512)
    assert '"GET /b/BK-7Q2M9XHD.[redacted]/ HTTP/1.1" 200 512' in log_output.getvalue()
    assert MAC not in log_output.getvalue()


def test_gunicorns_access_and_error_logs_go_through_the_filter() -> None:
    from gunicorn.glogging import SafeAtoms

    from config import gunicorn as gunicorn_config

    config = gunicorn_config.logconfig_dict
    for name in ("gunicorn.access", "gunicorn.error"):
        for handler in config["loggers"][name]["handlers"]:
            assert "redact_tokens" in config["handlers"][handler]["filters"]
    assert config["filters"]["redact_tokens"]["()"] == "common.logging.RedactTokens"
    # An access record as gunicorn's Logger.access makes it: the format string and a dict of atoms.
    atoms = SafeAtoms({"r": f"GET /b/{TOKEN}/?token={MAC} HTTP/1.1", "s": "200", "b": "512", "M": "3"})
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, gunicorn_config.access_log_format, (atoms,), None
    )
    RedactTokens().filter(record)
    assert record.getMessage() == '"GET /b/BK-7Q2M9XHD.[redacted]/?token=[redacted] HTTP/1.1" 200 512 3ms'
    # No client address, referer or user agent in the line.
    assert "%(h)s" not in gunicorn_config.access_log_format
    assert "%(f)s" not in gunicorn_config.access_log_format


def test_a_traceback_that_names_the_token_is_redacted_in_the_json_format_too() -> None:
    try:
        raise RuntimeError(f"could not load /b/{TOKEN}/")
    except RuntimeError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "%s", ("Internal Server Error",), sys.exc_info()
        )
    RedactTokens().filter(record)
    line = JsonFormatter().format(record)
    assert MAC not in line
    assert "RuntimeError: could not load /b/BK-7Q2M9XHD.[redacted]/" in json.loads(line)["message"]


def test_the_json_format_carries_the_redacted_message() -> None:
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "%s: %s",
        ("Internal Server Error", f"/b/{TOKEN}/"),
        None,
    )
    RedactTokens().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Internal Server Error: /b/BK-7Q2M9XHD.[redacted]/"
