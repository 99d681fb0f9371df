"""No two active bookings of one coach overlap, buffers included (DESIGN.md invariant 2).

PostgreSQL enforces it with an exclusion constraint over the buffered tstzrange of
pending and confirmed bookings. SQLite has no such constraint: there, bookings are
written in IMMEDIATE transactions with a re-check (booking/services.py).
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_booking
    ADD CONSTRAINT booking_no_overlap_per_coach
    EXCLUDE USING gist (
        coach_id WITH =,
        tstzrange(blocked_start, blocked_end, '[)') WITH &&
    ) WHERE (status IN ('pending', 'confirmed'));
"""

DROP = "ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap_per_coach;"


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
