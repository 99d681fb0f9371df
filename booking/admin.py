from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from booking.models import (
    Booking,
    BookingEvent,
    BookingSeries,
    EmailDelivery,
    IdempotencyKey,
    Reminder,
    WaitlistEntry,
    WaitlistHold,
    WebhookDelivery,
    WebhookEndpoint,
)
from booking.services import reminders_retry


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "at", "detail", "notified_at")


@admin.register(BookingSeries)
class BookingSeriesAdmin(admin.ModelAdmin):
    """Read-only: a series changes through its calls (booking/services.py), never by hand."""

    list_display = ("reference", "coach", "offering", "first_start", "interval_weeks", "count", "created_at")
    list_filter = ("coach",)
    search_fields = ("reference", "client_email", "client_name")
    readonly_fields = [field.name for field in BookingSeries._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WaitlistHoldInline(admin.TabularInline):
    model = WaitlistHold
    extra = 0
    can_delete = False
    fields = ("start", "status", "expires_at", "booking", "created_at", "ended_at")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """Read-only: the line changes through booking/waitlist.py (holds, emails), never by hand."""

    list_display = ("reference", "coach", "offering", "date_from", "date_to", "status", "confirmed_at")
    list_filter = ("status", "coach")
    search_fields = ("reference", "email", "name")
    list_select_related = ("coach", "offering")
    readonly_fields = [field.name for field in WaitlistEntry._meta.fields if field.name != "manage_key"]
    exclude = ("manage_key",)
    inlines = (WaitlistHoldInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
    list_display = ("key", "booking", "created_at", "expires_at")
    search_fields = ("key", "booking__reference")
    raw_id_fields = ("booking",)
    # Written by booking_create only; the scope and fingerprint are keyed hashes, nothing to edit.
    readonly_fields = ("scope", "key", "fingerprint", "booking", "created_at", "expires_at")


class ReminderStatusFilter(admin.SimpleListFilter):
    """Failed reminders first: they are what someone has to look at."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*Reminder.Status.choices, ("all", "All")]

    def choices(self, changelist):  # type: ignore[no-untyped-def]
        for value, title in self.lookup_choices:
            yield {
                "selected": self._current() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def _current(self) -> str:
        return self.value() or Reminder.Status.FAILED

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> QuerySet[Reminder]:
        current = self._current()
        return queryset if current == "all" else queryset.filter(status=current)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Reminders and follow-ups; the list opens on the failed ones, with a retry action.

    Rows change only through booking/services.py and booking/tasks.py, so every field
    is read-only here.
    """

    list_display = ("booking", "kind", "recipient", "due_at", "status", "attempts", "last_error", "sent_at")
    list_filter = (ReminderStatusFilter, "recipient", "kind")
    search_fields = ("booking__reference",)
    list_select_related = ("booking",)
    date_hierarchy = "due_at"
    actions = ("retry",)
    readonly_fields = (
        "booking",
        "recipient",
        "kind",
        "due_at",
        "status",
        "generation",
        "attempts",
        "last_error",
        "claim",
        "claimed_at",
        "sent_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry the selected failed reminders")
    def retry(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        count = reminders_retry(queryset=queryset)
        if count:
            self.message_user(
                request,
                f"{count} reminder{'s' if count != 1 else ''} will be sent at the next dispatch (within a minute).",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "None of the selected reminders had failed.", messages.WARNING)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("coach", "description", "is_paused", "consecutive_failures", "created_at")
    list_filter = ("is_paused",)
    search_fields = ("coach__slug", "description")
    list_select_related = ("coach",)
    # The secrets are shown to the coach once and never again, here neither. Changes go
    # through the dashboard or the coach API (booking/services.py).
    exclude = ("secret", "previous_secret")
    readonly_fields = (
        "coach",
        "url",
        "event_types",
        "previous_secret_expires_at",
        "consecutive_failures",
        "paused_reason",
        "paused_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "endpoint",
        "booking",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("booking__reference", "webhook_id")
    list_select_related = ("endpoint__coach", "booking")
    readonly_fields = tuple(
        field.name for field in WebhookDelivery._meta.get_fields() if field.concrete and field.name != "id"
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
