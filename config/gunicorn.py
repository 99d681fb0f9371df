"""gunicorn's settings: its access and error logs, redacted like Django's.

Load it with ``gunicorn config.wsgi --config python:config.gunicorn`` (options given on the
command line, such as ``--bind`` and ``--workers``, still win). gunicorn prints request
paths, and paths carry manage and feed tokens: both of its loggers go through
``common.logging.RedactTokens`` (docs/operations.md, "Logs"). The access line names the
request, status, size and duration only: no client address, referer or user agent.
"""

from __future__ import annotations

from config.settings import LOGGING

access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'

# Setting logconfig_dict switches gunicorn's access log on; Django's formatter, redacting
# filter and console handler (config/settings.py LOGGING) replace gunicorn's defaults.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": LOGGING["formatters"],
    "filters": LOGGING["filters"],
    "handlers": {"console": {**LOGGING["handlers"]["console"], "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        # propagate off: Django's root handler (configured in each worker) would print them twice.
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
