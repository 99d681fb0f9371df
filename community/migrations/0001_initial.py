"""The email community's models, taken over from the coaching app with their tables.

State only for the tables (coaching/migrations/0006 let go of them): no row moves, and a
database migrated from the previous schema keeps its subscribers and broadcasts. The
content types move with the models, so admin history and permissions follow them.
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    models_moved = ["subscriber", "broadcast", "broadcastdelivery", "sitepage"]
    for model in models_moved:
        if ContentType.objects.filter(app_label="community", model=model).exists():
            continue
        ContentType.objects.filter(app_label="coaching", model=model).update(app_label="community")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(
        app_label="community", model__in=["subscriber", "broadcast", "broadcastdelivery", "sitepage"]
    ).update(app_label="coaching")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("coaching", "0006_community_models_move_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SitePage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.CharField(choices=[('privacy', 'Privacy policy')], max_length=32, unique=True)),
                        ('title', models.CharField(max_length=200)),
                        ('body_markdown', models.TextField(help_text='Markdown: ## headings, **bold**, [links](https://…), lists.', verbose_name='text')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'coaching_sitepage',
                        'ordering': ('slug',),
                    },
                ),
                migrations.CreateModel(
                    name='Broadcast',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('subject', models.CharField(max_length=150)),
                        ('body_markdown', models.TextField(max_length=20000, verbose_name='message')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('sending', 'Sending'), ('sent', 'Sent')], default='draft', max_length=16)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('test_sent_at', models.DateTimeField(blank=True, null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('planned_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('progress_at', models.DateTimeField(blank=True, null=True)),
                        ('recipient_count', models.PositiveIntegerField(default=0)),
                        ('sent_count', models.PositiveIntegerField(default=0)),
                        ('failed_count', models.PositiveIntegerField(default=0)),
                        ('coach', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='broadcasts', to='coaching.coach')),
                    ],
                    options={
                        'db_table': 'coaching_broadcast',
                        'ordering': ('coach', '-created_at', '-id'),
                    },
                ),
                migrations.CreateModel(
                    name='Subscriber',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('email', models.EmailField(max_length=254)),
                        ('first_name', models.CharField(blank=True, max_length=100)),
                        ('status', models.CharField(choices=[('pending', 'Waiting for confirmation'), ('confirmed', 'Confirmed'), ('unsubscribed', 'Unsubscribed')], default='pending', max_length=16)),
                        ('source', models.CharField(choices=[('form', 'Signup form'), ('booking', 'Booking form')], default='form', max_length=16)),
                        ('consent_text', models.TextField()),
                        ('consented_at', models.DateTimeField()),
                        ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                        ('unsubscribed_at', models.DateTimeField(blank=True, null=True)),
                        ('key', models.CharField(editable=False, max_length=32)),
                        ('notice_requested_at', models.DateTimeField(blank=True, null=True)),
                        ('notice_sent_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('coach', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscribers', to='coaching.coach')),
                    ],
                    options={
                        'db_table': 'coaching_subscriber',
                        'ordering': ('coach', '-created_at', '-id'),
                    },
                ),
                migrations.CreateModel(
                    name='BroadcastDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('pending', 'Waiting'), ('sending', 'Sending'), ('sent', 'Sent'), ('skipped', 'Skipped (unsubscribed meanwhile)'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('locked_until', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, max_length=300)),
                        ('broadcast', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='community.broadcast')),
                        ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='community.subscriber')),
                    ],
                    options={
                        'db_table': 'coaching_broadcastdelivery',
                        'verbose_name_plural': 'broadcast deliveries',
                        'ordering': ('broadcast', 'id'),
                    },
                ),
                migrations.AddIndex(
                    model_name='broadcast',
                    index=models.Index(fields=['status'], name='broadcast_status'),
                ),
                migrations.AddIndex(
                    model_name='subscriber',
                    index=models.Index(fields=['coach', 'status'], name='subscriber_coach_status'),
                ),
                migrations.AddConstraint(
                    model_name='subscriber',
                    constraint=models.UniqueConstraint(fields=('coach', 'email'), name='subscriber_unique_email_per_coach'),
                ),
                migrations.AddIndex(
                    model_name='broadcastdelivery',
                    index=models.Index(fields=['broadcast', 'status'], name='broadcastdelivery_progress'),
                ),
                migrations.AddConstraint(
                    model_name='broadcastdelivery',
                    constraint=models.UniqueConstraint(fields=('broadcast', 'subscriber'), name='broadcastdelivery_one_per_subscriber'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
