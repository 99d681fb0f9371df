"""A coach's practice: their clients with private notes, the packages they sell, and each
client's pass with its credit ledger.

The layer sits below booking (booking imports it, never the reverse): a ledger entry names
its booking by a string foreign key only, and booking's services call ours inside their
own transactions, so a credit is used or given back together with the booking's change.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower


class Client(models.Model):
    """One person a coach works with, one per email: who booked or holds a pass.

    Linked to an account when the client has one. ``notes`` are the coach's general private
    notes (Markdown): never shown to the client, part of the coach's export.
    """

    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="clients")
    # Lowercased: one client per address, however it was typed.
    email = models.EmailField()
    name = models.CharField(max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_records",
    )
    notes = models.TextField(blank=True, max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "email")
        constraints = [
            models.UniqueConstraint(fields=["coach", "email"], name="client_one_per_email_per_coach"),
        ]
        indexes = [
            models.Index(fields=["coach", "name"], name="client_coach_name"),
            # The client list's order: a page is read from the index, not by sorting every client.
            models.Index(F("coach"), Lower("name"), F("email"), F("id"), name="client_coach_lower_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class SessionNote(models.Model):
    """The coach's private note on one session (Markdown), never shown to the client."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="session_notes")
    booking = models.OneToOneField("booking.Booking", on_delete=models.CASCADE, related_name="private_note")
    body = models.TextField(max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Note on booking {self.booking_id}"


class Package(models.Model):
    """What a coach sells: N sessions of some offerings, valid for a while."""

    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    offerings = models.ManyToManyField("coaching.Offering", related_name="packages")
    sessions = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(500)])
    # Validity: days from the grant, or a fixed last day (in the coach's zone); one of them.
    validity_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    valid_until = models.DateField(null=True, blank=True)
    price_amount = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    price_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter currency code, like EUR or USD.")],
    )
    is_active = models.BooleanField(default=True, help_text="Retired packages can no longer be granted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("coach", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(validity_days__isnull=False) | Q(valid_until__isnull=False),
                name="package_has_validity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sessions} sessions)"


class Pass(models.Model):
    """One client's copy of a package: its credits, the ledger behind them, its expiry.

    ``remaining`` is the sum of the ledger's amounts, kept in the row that every credit
    change locks (``SELECT ... FOR UPDATE``): concurrent bookings queue on it, and the check
    constraint refuses a negative balance as the last line of defence.
    """

    reference = models.CharField(max_length=16, unique=True)
    # The pass link's token is an HMAC of the reference and this key (practice/tokens.py).
    key = models.CharField(max_length=32)
    coach = models.ForeignKey("coaching.Coach", on_delete=models.CASCADE, related_name="passes")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="passes")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="passes")
    # Copied from the package at the grant: a later edit of the package changes no pass.
    name = models.CharField(max_length=120)
    sessions = models.PositiveSmallIntegerField()
    remaining = models.IntegerField()
    expires_at = models.DateTimeField()
    expiry_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "passes"
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="pass_balance_never_negative"),
        ]
        indexes = [
            # Only passes with sessions left can expire or owe a reminder: the beat's scans and the
            # dashboard's "ending soon" skip the spent ones, however many there are.
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="pass_live_expires"),
            models.Index(
                fields=["coach", "expires_at"], condition=Q(remaining__gt=0), name="pass_coach_live_expires"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.remaining} of {self.sessions} left)"


class PassEntry(models.Model):
    """One line of a pass's ledger. The balance is the sum of ``amount``:
    grants - uses + returns - expiries + adjustments; a forfeit is a zero-amount record
    that the credit a booking used stays used."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Granted"
        USE = "use", "Used"
        RETURN = "return", "Returned"
        FORFEIT = "forfeit", "Forfeited"
        EXPIRE = "expire", "Expired"
        ADJUST = "adjust", "Adjusted"

    class Actor(models.TextChoices):
        CLIENT = "client", "Client"
        COACH = "coach", "Coach"
        SYSTEM = "system", "System"

    pass_obj = models.ForeignKey(Pass, on_delete=models.CASCADE, related_name="entries", db_column="pass_id")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.IntegerField()
    booking = models.ForeignKey(
        "booking.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="pass_entries"
    )
    actor = models.CharField(max_length=8, choices=Actor.choices)
    reason = models.CharField(max_length=300, blank=True)
    # A credit given back for a cancellation inside the notice window: returned, marked late.
    late = models.BooleanField(default=False)
    at = models.DateTimeField()
    # When the client's email about this entry went out (null: not yet, or none is sent).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("at", "pk")
        verbose_name_plural = "pass entries"
        constraints = [
            # A booking uses at most one credit, and gets at most one back.
            models.UniqueConstraint(
                fields=["booking"], condition=Q(kind="use"), name="pass_entry_one_use_per_booking"
            ),
            models.UniqueConstraint(
                fields=["booking"], condition=Q(kind="return"), name="pass_entry_one_return_per_booking"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="grant", amount__gt=0)
                    | Q(kind="use", amount=-1)
                    | Q(kind="return", amount=1)
                    | Q(kind="forfeit", amount=0)
                    | Q(kind="expire", amount__lt=0)
                    | (Q(kind="adjust") & ~Q(amount=0))
                ),
                name="pass_entry_amount_fits_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["pass_obj", "at"], name="pass_entry_pass_at"),
            # The beat's sweep of grant emails not yet sent: a handful of rows among millions.
            models.Index(
                fields=["at"],
                condition=Q(kind="grant", notified_at__isnull=True),
                name="pass_entry_grant_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d}"
