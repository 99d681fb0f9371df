"""The in-process benchmarks run against the configured database: only once it is migrated."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def skipped_unless_migrated() -> bool:
    """True (after saying why) when the database still has migrations to apply."""
    executor = MigrationExecutor(connection)
    unapplied = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    if unapplied:
        print(f"SKIPPED: the {connection.vendor} database has {unapplied} unapplied migrations;")
        print("run `.venv/bin/python manage.py migrate` first (make run does).")
    return bool(unapplied)
