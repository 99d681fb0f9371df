"""The community models moved from coaching to their own app without moving a row.

The database is taken back to the schema before the move (coaching 0005), filled
with a coach, a subscriber, a broadcast with a delivery, the privacy page and a
booking through the historical models, then migrated forward: every row is still
there, read through the new app's models, and the content types moved with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from booking.models import Booking
from community.models import Broadcast, BroadcastDelivery, SitePage, Subscriber

BEFORE = ("coaching", "0005_landing_and_email_community")
WHEN = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_community_row_and_booking_through_the_move() -> None:
    executor = _executor()
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("community", None)])
    executor = _executor()
    executor.migrate([BEFORE])
    # The schema as it now is: whatever depended on a later coaching migration went back with it.
    applied = list(_executor().loader.applied_migrations)
    old = _executor().loader.project_state(applied).apps
    with pytest.raises(LookupError):
        old.get_model("community", "Subscriber")

    user = old.get_model("accounts", "User").objects.create(
        email="dana@example.com", password="!", feed_key=""
    )
    coach = old.get_model("coaching", "Coach").objects.create(
        user=user, slug="dana", display_name="Dana", time_zone="America/New_York", feed_key=""
    )
    offering = old.get_model("coaching", "Offering").objects.create(
        coach=coach, slug="intro", title="Intro", duration_minutes=30
    )
    subscriber = old.get_model("coaching", "Subscriber").objects.create(
        coach=coach,
        email="reader@example.com",
        status="confirmed",
        consent_text="Yes, email me.",
        consented_at=WHEN,
        confirmed_at=WHEN,
        key="k" * 32,
    )
    broadcast = old.get_model("coaching", "Broadcast").objects.create(
        coach=coach, subject="Hello", body_markdown="Hi **there**", status="sent", recipient_count=1
    )
    old.get_model("coaching", "BroadcastDelivery").objects.create(
        broadcast=broadcast, subscriber=subscriber, status="sent", sent_at=WHEN
    )
    old.get_model("coaching", "SitePage").objects.create(slug="privacy", title="Privacy", body_markdown="We…")
    old.get_model("booking", "Booking").objects.create(
        reference="BK-MIGRATE1",
        coach=coach,
        offering=offering,
        client_name="Grace",
        client_email="grace@example.com",
        client_time_zone="Europe/Berlin",
        start=WHEN,
        end=WHEN + timedelta(minutes=30),
        blocked_start=WHEN,
        blocked_end=WHEN + timedelta(minutes=30),
        manage_key="m" * 32,
    )

    _executor().migrate(latest)

    moved = Subscriber.objects.get()
    assert (moved.pk, moved.email, moved.status, moved.coach.slug) == (
        subscriber.pk,
        "reader@example.com",
        "confirmed",
        "dana",
    )
    delivery = BroadcastDelivery.objects.select_related("broadcast").get()
    assert (delivery.broadcast.subject, delivery.subscriber_id, delivery.status) == (
        "Hello",
        moved.pk,
        "sent",
    )
    assert Broadcast.objects.get().recipient_count == 1
    assert SitePage.objects.get().title == "Privacy"
    assert Booking.objects.get().reference == "BK-MIGRATE1"
    assert Subscriber._meta.db_table == "coaching_subscriber"
    assert ContentType.objects.filter(app_label="community", model="subscriber").exists()
    assert not ContentType.objects.filter(app_label="coaching", model="subscriber").exists()
