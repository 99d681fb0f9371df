"""Idempotency keys belong to a caller and expire after a day (issue 12, finding 6).

Keys written before this migration get the empty scope, which no request uses: they
stop answering at once (a retry across the deploy books again, as after a day) and
expire a day after they were written. Reversible on PostgreSQL and SQLite: going back
keeps the newest row of each key, since one key may now exist in several scopes.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import DateTimeField, ExpressionWrapper, F

# booking.services.IDEMPOTENCY_TTL when this migration was written.
TTL = timedelta(days=1)


def expire_a_day_after_creation(apps, schema_editor):
    IdempotencyKey = apps.get_model("booking", "IdempotencyKey")
    IdempotencyKey.objects.update(
        expires_at=ExpressionWrapper(F("created_at") + TTL, output_field=DateTimeField())
    )


def keep_one_row_per_key(apps, schema_editor):
    """Before ``key`` is unique again: drop all but the newest row of every key."""
    IdempotencyKey = apps.get_model("booking", "IdempotencyKey")
    newest = {}
    for pk, key in IdempotencyKey.objects.order_by("created_at", "pk").values_list("pk", "key"):
        newest[key] = pk
    IdempotencyKey.objects.exclude(pk__in=list(newest.values())).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0005_reminder"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="scope",
            field=models.CharField(default="", max_length=80),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(expire_a_day_after_creation, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="idempotencykey",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="key",
            field=models.CharField(max_length=200),
        ),
        # Runs only backwards, right before ``key`` becomes unique again.
        migrations.RunPython(migrations.RunPython.noop, keep_one_row_per_key, elidable=True),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(fields=("scope", "key"), name="idempotencykey_one_per_scope"),
        ),
        migrations.AddIndex(
            model_name="idempotencykey",
            index=models.Index(fields=["expires_at"], name="idempotencykey_expires"),
        ),
    ]
