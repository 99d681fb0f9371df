"""/healthz: is the database reachable, is the broker reachable."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("healthz: database check failed")
        return False
    return True


def broker_ok() -> bool:
    # A fresh connection each time: a cached pool would hide a broker that has
    # just gone away. One attempt, a short timeout: a probe must not hang.
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("healthz: broker check failed", exc_info=True)
        return False
    return True


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if database_ok() else "down",
        "broker": "ok" if broker_ok() else "down",
    }
    healthy = all(value == "ok" for value in checks.values())
    status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
    return JsonResponse(checks, status=status)
