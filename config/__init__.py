from __future__ import annotations

# Load Celery with Django so that @shared_task binds to this app and
# `delay_on_commit` works from any process that imports the project.
from config.celery import app as celery_app

__all__ = ("celery_app",)
