"""Tasks that belong to the project rather than to one app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Record that beat and a worker are alive; /healthz and operators can read it."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=None)
    logger.debug("heartbeat %s", stamp)
    return stamp
