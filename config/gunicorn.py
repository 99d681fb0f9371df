"""gunicorn's settings: its access and error logs, redacted like Django's.

Load it with ``gunicorn config.wsgi --config python:config.gunicorn`` (options given on the
command line, such as ``--bind`` and ``--workers``, still win). gunicorn prints request
paths, and paths carry manage and feed tokens: both of its loggers go through
``common.logging.RedactTokens`` (docs/operations.md, "Logs"). The access line names the
request, status, size and duration only: no client address, referer or user agent.
"""

from __future__ import annotations

import os

_format = "json" if os.environ.get("LOG_FORMAT", "line") == "json" else "line"

access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'

# Setting logconfig_dict switches gunicorn's access log on; these replace its default handlers.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "filters": {"redact_tokens": {"()": "common.logging.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": _format,
            "filters": ["redact_tokens"],
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        # propagate off: Django's root handler (configured in each worker) would print them twice.
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
