from __future__ import annotations

from django.contrib import admin

from booking.models import Booking, BookingEvent, EmailDelivery, IdempotencyKey


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "at", "detail", "notified_at")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("reference", "coach", "offering", "start", "status", "created_at")
    list_filter = ("status", "coach")
    search_fields = ("reference", "client_email", "client_name")
    date_hierarchy = "start"
    list_select_related = ("coach", "offering")
    raw_id_fields = ("client",)
    # State changes go through booking/services.py (they send emails and keep the
    # constraint's interval right), so admin shows these read-only.
    readonly_fields = (
        "reference",
        "coach",
        "offering",
        "start",
        "end",
        "blocked_start",
        "blocked_end",
        "status",
        "sequence",
        "reschedule_count",
        "manage_key",
        "created_at",
        "updated_at",
    )
    inlines = (BookingEventInline,)


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ("booking", "kind", "recipient", "status", "attempts", "last_attempt_at", "sent_at")
    list_filter = ("status", "kind", "recipient")
    search_fields = ("booking__reference",)
    list_select_related = ("booking",)
    readonly_fields = ("event", "booking", "created_at")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "booking", "created_at")
    search_fields = ("key", "booking__reference")
    raw_id_fields = ("booking",)
