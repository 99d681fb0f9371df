"""The email community: subscribers with double opt-in, broadcasts with their deliveries,
and the site's own pages (the privacy policy).

The tables keep the names they had under the coaching app (``coaching_subscriber``
and so on): the models moved apps with SeparateDatabaseAndState, so no row moved.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse


# ---------------------------------------------------------------------------
class Subscriber(models.Model):
    """A person on one coach's email list. Only ``confirmed`` ones get broadcasts.

    A row is never deleted by an unsubscribe: it keeps what the person agreed to and
    when (the consent record), and a new signup later starts double opt-in afresh.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    class Source(models.TextChoices):
        FORM = "form", "Signup form"
        BOOKING = "booking", "Booking form"

    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="subscribers")
    # Stored lower-cased (community/services.py), so one address is one row per coach.
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.FORM)
    # The words the person agreed to, verbatim, and when (the latest signup).
    consent_text = models.TextField()
    consented_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # Behind the confirmation and unsubscribe links (an HMAC of id and key): a new key
    # revokes every link sent so far.
    key = models.CharField(max_length=32, editable=False)
    # The confirmation (or "you're already in") email: asked for at, and sent for the
    # request of, these times. requested > sent means one is still to go.
    notice_requested_at = models.DateTimeField(null=True, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "coaching_subscriber"
        ordering = ("coach", "-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["coach", "email"], name="subscriber_unique_email_per_coach"),
        ]
        indexes = [models.Index(fields=["coach", "status"], name="subscriber_coach_status")]

    def __str__(self) -> str:
        return f"{self.coach}: subscriber {self.pk} ({self.status})"


class Broadcast(models.Model):
    """A short email from a coach to their confirmed subscribers, written in Markdown."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="broadcasts")
    subject = models.CharField(max_length=150)
    body_markdown = models.TextField("message", max_length=20_000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    test_sent_at = models.DateTimeField(null=True, blank=True)
    # Set when the coach presses "Send"; planned_at once a delivery row exists for
    # every confirmed subscriber; finished_at when no delivery is left to try.
    started_at = models.DateTimeField(null=True, blank=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last time a batch made progress: the beat sweep resumes a broadcast that stalls.
    progress_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "coaching_broadcast"
        ordering = ("coach", "-created_at", "-id")
        indexes = [models.Index(fields=["status"], name="broadcast_status")]

    def __str__(self) -> str:
        return f"{self.coach}: {self.subject}"


class BroadcastDelivery(models.Model):
    """One broadcast to one subscriber: the unit a batch claims, sends and records.

    Claiming is a conditional update (status and ``locked_until``), so two workers never
    both send a row; a worker that dies mid-send leaves a lease that lapses, and the
    row is sent again with the same Message-ID, which mail systems de-duplicate.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (unsubscribed meanwhile)"
        FAILED = "failed", "Failed"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Nobody may claim the row before this: a live lease, or the wait before a retry.
    locked_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "coaching_broadcastdelivery"
        ordering = ("broadcast", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "subscriber"], name="broadcastdelivery_one_per_subscriber"
            ),
        ]
        indexes = [models.Index(fields=["broadcast", "status"], name="broadcastdelivery_progress")]
        verbose_name_plural = "broadcast deliveries"

    def __str__(self) -> str:
        return f"broadcast {self.broadcast_id} -> subscriber {self.subscriber_id}: {self.status}"


class SitePage(models.Model):
    """A page of the site itself that staff edit in admin: the privacy policy."""

    class Slug(models.TextChoices):
        PRIVACY = "privacy", "Privacy policy"

    slug = models.CharField(max_length=32, choices=Slug.choices, unique=True)
    title = models.CharField(max_length=200)
    body_markdown = models.TextField(
        "text", help_text="Markdown: ## headings, **bold**, [links](https://…), lists."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "coaching_sitepage"
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(self.slug)
