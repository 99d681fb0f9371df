"""A booked call and what hangs off it.

Every state change goes through booking/services.py; this module only holds the data
and the constraints the database enforces.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.timezones import validate_timezone


class Recipient(models.TextChoices):
    """Who an email about a booking goes to: each side gets its own, in its own zone."""

    CLIENT = "client", "Client"
    COACH = "coach", "Coach"


class BookingSeries(models.Model):
    """A standing weekly session: ``count`` calls every ``interval_weeks`` weeks at the first
    one's wall-clock time in ``time_zone`` (the coach's when booked; booking/series.py).

    Each occurrence is a real Booking (``Booking.series``, numbered by ``series_index``) that
    holds the coach's time under the same no-overlap guarantee; dates left out when booked
    (taken, or in a DST gap) have no booking and are the invite's EXDATEs.
    """

    reference = models.CharField(
        max_length=16, unique=True, help_text="Short public reference, e.g. SR-7Q2M9XHD."
    )
    coach = models.ForeignKey("coaching.Coach", on_delete=models.PROTECT, related_name="series")
    offering = models.ForeignKey("coaching.Offering", on_delete=models.PROTECT, related_name="series")
    client_name = models.CharField(max_length=120)
    client_email = models.EmailField()
    client_time_zone = models.CharField(max_length=64, validators=[validate_timezone])
    # The recurrence: DTSTART is ``first_start`` in ``time_zone``; RRULE INTERVAL and COUNT.
    time_zone = models.CharField(max_length=64, validators=[validate_timezone])
    first_start = models.DateTimeField()
    interval_weeks = models.PositiveSmallIntegerField()
    count = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE of the series' invite.")
    # The series' manage link, signed like a booking's (booking/tokens.py).
    manage_key = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "booking series"
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_weeks__gte=1, interval_weeks__lte=4),
                name="bookingseries_interval_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(count__gte=1, count__lte=52), name="bookingseries_count_1_to_52"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} (every {self.interval_weeks} week(s), {self.count} times)"


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    # Statuses that hold the coach's time: the no-double-booking constraint covers these.
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)

    reference = models.CharField(
        max_length=16, unique=True, help_text="Short public reference, e.g. BK-7Q2M9XHD."
    )
    coach = models.ForeignKey("coaching.Coach", on_delete=models.PROTECT, related_name="bookings")
    offering = models.ForeignKey("coaching.Offering", on_delete=models.PROTECT, related_name="bookings")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        help_text="Set when a signed-in client booked, or when a guest's email is verified.",
    )
    client_name = models.CharField(max_length=120)
    client_email = models.EmailField()
    client_time_zone = models.CharField(max_length=64, validators=[validate_timezone])
    # The client's language tag when they booked (Accept-Language): 12- or 24-hour times in
    # their emails. Blank: 24-hour.
    client_locale = models.CharField(max_length=35, blank=True)
    # The number the coach calls, for a phone call the coach places.
    client_phone = models.CharField(max_length=32, blank=True)
    # The secret part of the booking's own video room (MEETING_ROOM_URL_TEMPLATE): made once
    # at booking and kept when the call moves, so the link in every invite stays the same.
    room_key = models.CharField(max_length=32, blank=True, editable=False)
    note = models.TextField(blank=True, max_length=2000)
    answers = models.JSONField(default=dict, blank=True)
    # The coach's client record (practice), one per email: set at booking.
    client_record = models.ForeignKey(
        "practice.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    # The pass that paid for this session (one credit, used in the booking's transaction).
    client_pass = models.ForeignKey(
        "practice.Pass", on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    # The cancellation policy in force when the session was booked: the free window and what
    # a credit does then. Null on bookings made before the copy was kept: the offering's.
    policy_cancel_notice_minutes = models.PositiveIntegerField(null=True, blank=True)
    policy_grace_minutes = models.PositiveIntegerField(null=True, blank=True)
    policy_late_credit = models.CharField(max_length=12, blank=True)

    start = models.DateTimeField()
    end = models.DateTimeField()
    # The time the booking keeps the coach from other calls: start minus the buffer
    # before, end plus the buffer after. Stored so that PostgreSQL's exclusion
    # constraint and the slot engine see the same interval.
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE: grows on every change.")
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    # The manage link's token is an HMAC of the reference and this key (see
    # booking/tokens.py): nothing secret is stored, and a new key revokes the link.
    manage_key = models.CharField(max_length=32)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_by = models.CharField(max_length=16, blank=True)
    # An occurrence of a standing series: which one (0 for the first), so that its
    # RECURRENCE-ID stays the original date however the call moves.
    series = models.ForeignKey(
        BookingSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="occurrences"
    )
    series_index = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("start",)
        indexes = [
            models.Index(fields=["coach", "blocked_end", "blocked_start"], name="booking_coach_blocked"),
            models.Index(fields=["client_email"], name="booking_client_email"),
            # The coach's bookings in start order (the coach API's list, the client pages).
            models.Index(fields=["coach", "start", "id"], name="booking_coach_start"),
            # The dashboard's approvals (and the navigation's count) and its calls needing an
            # outcome: a few rows each, found without walking the coach's whole calendar.
            models.Index(fields=["coach", "start"], condition=Q(status="pending"), name="booking_pending"),
            models.Index(
                fields=["coach", "start"], condition=Q(status="confirmed"), name="booking_confirmed"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=F("start")) & Q(blocked_end__gte=F("end")),
                name="booking_blocked_covers_call",
            ),
            models.UniqueConstraint(
                fields=["series", "series_index"],
                condition=Q(series__isnull=False),
                name="booking_one_per_series_index",
            ),
            models.CheckConstraint(
                condition=Q(series__isnull=True, series_index__isnull=True)
                | Q(series__isnull=False, series_index__isnull=False),
                name="booking_series_index_with_series",
            ),
            # The PostgreSQL exclusion constraint over tstzrange(blocked_start,
            # blocked_end) lives in a migration: it is PostgreSQL-only.
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class BookingEvent(models.Model):
    """One line of a booking's history: what happened, when, by whom."""

    class Kind(models.TextChoices):
        CREATED = "created", "Booked"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        COMPLETED = "completed", "Marked completed"
        NO_SHOW = "no_show", "Marked no-show"
        LINK_RESET = "link_reset", "Manage link replaced"

    class Actor(models.TextChoices):
        CLIENT = "client", "Client"
        COACH = "coach", "Coach"
        SYSTEM = "system", "System"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.CharField(max_length=8, choices=Actor.choices)
    at = models.DateTimeField()
    # Structured facts only (old/new start, reason); never rendered strings.
    detail = models.JSONField(default=dict, blank=True)
    # Set once booking.tasks.notify_booking_event has planned this event's emails;
    # an event left without it had its message lost and is swept up again.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("booking", "at", "id")
        indexes = [
            models.Index(
                fields=["at"], condition=Q(notified_at__isnull=True), name="bookingevent_unnotified"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.kind} by {self.actor}"


class IdempotencyKey(models.Model):
    """The first answer to a create request, so a retry gets the same answer.

    A key belongs to its caller: ``scope`` is the signed-in account or, for a guest, a keyed
    hash of their address and the offering (``booking.services.idempotency_scope``), so two
    callers who happen to pick the same key never meet. ``fingerprint`` is a keyed hash of the
    request body: the same key with another body is a client bug and answers 409 instead of
    silently booking something else. A key answers until ``expires_at`` (a day); then it is
    ignored, and ``booking.tasks.delete_expired_idempotency_keys`` deletes it.
    """

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotencykey_one_per_scope"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotencykey_expires")]

    def __str__(self) -> str:
        return f"idempotency key for booking {self.booking_id}"


class EmailDelivery(models.Model):
    """One email about one booking event to one recipient, and how sending it went.

    booking/tasks.py creates the row before the first attempt: a retry finds it and
    never mails again someone who already got the email, and an email that could
    not be sent after the last retry stays here as ``failed`` for the coach to see.
    ``last_error`` names the exception and the SMTP code, never an address or a name.
    """

    Recipient = Recipient

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"
        # The booking was cancelled before this email about it went out: the
        # cancellation's own email says what counts.
        SKIPPED = "skipped", "Not needed any more"

    event = models.ForeignKey(BookingEvent, on_delete=models.CASCADE, related_name="deliveries")
    # Also reachable through the event; stored so the dashboard lists a coach's
    # failures with one join.
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="email_deliveries")
    recipient = models.CharField(max_length=8, choices=Recipient.choices)
    kind = models.CharField(max_length=32, help_text="Which email: booking-confirmed, booking-cancelled...")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sending task claims the row until then (a conditional update), so two
    # workers handed the same message never both send it.
    locked_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="emaildelivery_one_per_recipient"),
        ]
        indexes = [models.Index(fields=["status", "last_attempt_at"], name="emaildelivery_status")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} for booking {self.booking_id}: {self.status}"


class Reminder(models.Model):
    """One reminder (or the follow-up) of one booking to one recipient: the database is its queue.

    Written by booking/services.py in the booking's own transactions, claimed and sent by
    booking/tasks.py. ``claim`` is the token of whoever holds a ``sending`` row and
    ``claimed_at`` starts its lease; ``generation`` counts how often a reschedule armed the
    row again and is part of the Message-ID (docs/architecture.md, "The database is the queue").
    """

    Recipient = Recipient

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Could not be sent"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.CharField(max_length=8, choices=Recipient.choices)
    # "before-<minutes>" for a reminder that many minutes before the start (see
    # booking/reminders.py), "follow-up" for the email after the call.
    kind = models.CharField(max_length=24)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    generation = models.PositiveSmallIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The kind of failure and the SMTP code, or why it was not sent; never an address.
    last_error = models.CharField(max_length=300, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("due_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["booking", "recipient", "kind"], name="reminder_one_per_kind"),
        ]
        indexes = [
            # The dispatch query (status = 'scheduled' AND due_at <= now ORDER BY due_at)
            # is a scan of this index, which holds only the rows still to send.
            models.Index(fields=["due_at"], condition=Q(status="scheduled"), name="reminder_due"),
            # Leases that ran out: status = 'sending' AND claimed_at < now - lease.
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="reminder_sending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} for booking {self.booking_id}: {self.status}"


class WebhookEndpoint(models.Model):
    """A coach's address that receives booking events, signed (Standard Webhooks).

    The secret is kept as it is (it signs every delivery; a hash could not), shown to the
    coach once. A rotated secret stays valid, and deliveries are signed with both, until
    ``previous_secret_expires_at`` (a day). ``consecutive_failures`` counts failed attempts
    since the last success; at ``WEBHOOK_PAUSE_AFTER`` the endpoint is paused and its coach
    told once (booking/tasks.py).
    """

    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event types (booking/webhooks.py EVENT_TYPES) this endpoint wants; empty: all of them.
    event_types = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"webhook endpoint {self.pk} of coach {self.coach_id}"

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type`` (no list: every type)."""
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one endpoint: the database is its queue (docs/architecture.md).

    Written in the same transaction as the change it reports (booking/services.py), claimed
    and sent by ``booking.tasks.send_webhook``. ``webhook_id`` is the Standard Webhooks
    ``webhook-id``: the same for every attempt and for a resend, so receivers drop duplicates.
    ``payload`` is the body as sent, fixed when the row is written.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Could not be delivered"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses that hold back later deliveries of the same booking to the same endpoint.
    OPEN_STATUSES = (Status.PENDING, Status.SENDING)

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Null for a test event.
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_deliveries"
    )
    event_type = models.CharField(max_length=40)
    webhook_id = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # The retries stop three days after this (WEBHOOK_RETRY_FOR); a resend starts a new round.
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sending task holds the row until then (the claim); longer than the task's time limit.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # What went wrong, in words a coach can act on: never the address or the secret.
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The claim and the sweep: open rows that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=("pending", "sending")),
                name="webhookdelivery_due",
            ),
            # "Is an earlier delivery of this booking to this endpoint still open?"
            models.Index(fields=["endpoint", "booking", "id"], name="webhookdelivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id} to endpoint {self.endpoint_id}: {self.status}"


class WaitlistEntry(models.Model):
    """Someone waiting for a time of one offering within their dates (booking/waitlist.py).

    Double opt-in: an entry is ``unconfirmed`` until its owner follows the confirmation email,
    and only ``waiting`` entries are offered holds, in line order (``confirmed_at``, then id).
    ``range_start``/``range_end`` are the client's dates ``date_from``..``date_to`` (inclusive)
    in their zone, as UTC instants. An entry ends when its owner books, leaves (or the coach takes
    them off) or the dates pass.
    """

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Waiting for confirmation"
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked"
        LEFT = "left", "Left the list"
        ENDED = "ended", "Days passed"

    OPEN_STATUSES = (Status.UNCONFIRMED, Status.WAITING)

    reference = models.CharField(max_length=16, unique=True, help_text="Short reference, e.g. WL-7Q2M9XHD.")
    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="waitlist_entries")
    offering = models.ForeignKey(
        "coaching.Offering", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    name = models.CharField(max_length=120)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64, validators=[validate_timezone])
    locale = models.CharField(max_length=35, blank=True)
    date_from = models.DateField()
    date_to = models.DateField()
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    # The starts that were free in the range when the entry was confirmed (ISO instants): the
    # client's to book, not openings; each leaves the list once it is taken (booking/waitlist.py).
    free_when_confirmed = models.JSONField(default=list, blank=True)
    # The entry's link /w/<token>/ (confirm, see a hold, take it, leave) is an HMAC of the
    # reference and this key (booking/tokens.py).
    manage_key = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("confirmed_at", "id")
        verbose_name_plural = "waitlist entries"
        indexes = [
            # The line of a coach: status = 'waiting' ORDER BY confirmed_at, id.
            models.Index(
                fields=["coach", "confirmed_at", "id"], condition=Q(status="waiting"), name="waitlist_line"
            ),
            models.Index(fields=["email"], name="waitlist_email"),
            # A new booking ends its client's open entries for the call (booking/services.py).
            models.Index(
                fields=["offering"],
                condition=Q(status__in=["unconfirmed", "waiting"]),
                name="waitlist_open_by_offering",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_in_order"),
            models.CheckConstraint(
                condition=Q(range_end__gt=F("range_start")), name="waitlist_range_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"


class WaitlistHold(models.Model):
    """A freed time kept for one waitlist entry until ``expires_at`` (``WAITLIST_HOLD_MINUTES``).

    While ``held`` and not expired, the slot engine counts ``blocked_start``..``blocked_end``
    as busy for everyone but the holder; holds are written, like bookings, under the coach's
    row lock after a re-check (booking/waitlist.py). One hold per entry and start: nobody is
    offered the same opening twice; its one offer email is a WaitlistEmail.
    """

    class Status(models.TextChoices):
        HELD = "held", "Held"
        TAKEN = "taken", "Taken"
        LAPSED = "lapsed", "Lapsed"
        RELEASED = "released", "Let go"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="holds")
    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="waitlist_holds")
    offering = models.ForeignKey("coaching.Offering", on_delete=models.CASCADE, related_name="waitlist_holds")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField()
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            # The slot engine's busy time: live holds of a coach overlapping the window.
            models.Index(
                fields=["coach", "blocked_end", "blocked_start"], condition=Q(status="held"), name="hold_live"
            ),
            models.Index(fields=["expires_at"], condition=Q(status="held"), name="hold_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["entry", "start"], name="hold_one_per_opening_and_entry"),
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="held"), name="hold_one_live_per_entry"
            ),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=F("start"))
                & Q(blocked_end__gte=F("end"))
                & Q(end__gt=F("start")),
                name="hold_blocked_covers_call",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} for {self.entry_id}: {self.status}"


class WaitlistEmail(models.Model):
    """One waitlist email and how sending it went, a queue row like EmailDelivery
    (docs/architecture.md, "The database is the queue"): the confirmation a join owes, or the
    offer of one hold (at most one per hold, so one per opening and person)."""

    class Kind(models.TextChoices):
        CONFIRM = "waitlist-confirm", "Please confirm"
        OFFER = "waitlist-offer", "A time is held for you"

    Status = EmailDelivery.Status

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="emails")
    hold = models.OneToOneField(
        WaitlistHold, on_delete=models.CASCADE, null=True, blank=True, related_name="email"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=Q(kind="waitlist-confirm"), name="waitlist_one_confirm_email"
            ),
            models.CheckConstraint(
                condition=Q(kind="waitlist-confirm", hold__isnull=True)
                | Q(kind="waitlist-offer", hold__isnull=False),
                name="waitlist_email_offer_has_hold",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="waitlist_email_status")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.entry_id}: {self.status}"


class CalendarWrite(models.Model):
    """A booking (or a series) as it must stand in the coach's CalDAV calendar (issue 17), and how
    writing it went: a queue row like EmailDelivery (docs/architecture.md, "The database is the
    queue"). One row per calendar object; each change of the booking sets it pending again, and
    the task writes the booking as it is then (a PUT with the ETag we last got, or a DELETE)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Writing"
        DONE = "done", "Written"
        FAILED = "failed", "Could not be written"

    calendar = models.ForeignKey("coaching.CalDavCalendar", on_delete=models.CASCADE, related_name="writes")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="calendar_writes")
    href = models.CharField(max_length=2000)
    etag = models.CharField(max_length=300, blank=True)
    present = models.BooleanField(default=False, help_text="The object is in the calendar now.")
    # Raised by every change: an attempt that started before a change does not mark it done.
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "href"], name="calendarwrite_one_per_object")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="calendarwrite_due"),
        ]

    def __str__(self) -> str:
        return f"{self.href.rsplit('/', 1)[-1]} in calendar {self.calendar_id}: {self.status}"
