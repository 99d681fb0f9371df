"""Settings come from the environment; production without a secret key refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 60 + "-production-like-secret-key-for-the-deploy-check",
    "DJANGO_ALLOWED_HOSTS": "coaching.example.com",
    "SITE_URL": "https://coaching.example.com",
}


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    clean.update({"VAR_DIR": str(tmp_path / "var")}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    """DJANGO_DEBUG=false and no DJANGO_SECRET_KEY is a clear start-up error."""
    result = run_manage("check", env={"DJANGO_DEBUG": "false"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_it_passes_the_deploy_check_with_production_settings(tmp_path: Path) -> None:
    """`manage.py check --deploy` reports no warnings with a production-like environment."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_keeps_a_generated_local_secret_key_between_starts(tmp_path: Path) -> None:
    """With DEBUG on and no key set, a random key is made once under var/ and reused."""
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage("shell", "-v", "0", "-c", code, env={"DJANGO_DEBUG": "true"}, tmp_path=tmp_path)
    second = run_manage("shell", "-v", "0", "-c", code, env={"DJANGO_DEBUG": "true"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip()
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "var" / "secret_key").read_text().strip() == first.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "django.db.backends.sqlite3 filesystem://localhost/ LocMemCache console True"),
        (
            {
                "DATABASE_URL": "postgres://u@db.example:5432/coach",
                "REDIS_URL": "redis://cache.example:6379/0",
                "EMAIL_URL": "smtp://mail.example:1025",
            },
            "django.db.backends.postgresql redis://cache.example:6379/0 ResilientRedisCache smtp False",
        ),
    ],
)
def test_it_reads_services_from_the_environment(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    """No environment gives SQLite, the embedded broker and console email (printed whole by the
    worker, links included: its stdout is not sent through the redacting logs); URLs switch each one."""
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.CACHES['default']['BACKEND'].rsplit('.')[-1], s.EMAIL_BACKEND.split('.')[-2],"
        " not s.CELERY_WORKER_REDIRECT_STDOUTS)"
    )
    result = run_manage("shell", "-v", "0", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_it_uses_wal_and_a_busy_timeout_for_local_sqlite(tmp_path: Path) -> None:
    """Web and worker write side by side: journal_mode is WAL and writers wait for the lock."""
    code = (
        "from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    result = run_manage("shell", "-v", "0", "-c", code, env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000"]


def test_it_configures_celery_for_reliable_delivery() -> None:
    """Late acks, redelivery on worker loss, prefetch 1 and limits under the visibility timeout."""
    from config.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit < 3600 / 2
    assert "heartbeat" in conf.beat_schedule
