from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from community.models import Broadcast, BroadcastDelivery, SitePage, Subscriber


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    """Staff write the site's privacy policy here (Markdown); /privacy/ shows it."""

    list_display = ("title", "slug", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("id", "coach", "status", "source", "created_at", "confirmed_at")
    list_filter = ("status", "source")
    list_select_related = ("coach",)
    search_fields = ("email", "coach__display_name")
    raw_id_fields = ("coach",)
    # The consent record is evidence: shown, never edited here.
    readonly_fields = (
        "consent_text",
        "consented_at",
        "confirmed_at",
        "unsubscribed_at",
        "notice_requested_at",
        "notice_sent_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People join through double opt-in only: nobody is added on their behalf.
        return False


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = (
        "subject",
        "coach",
        "status",
        "recipient_count",
        "sent_count",
        "failed_count",
        "started_at",
    )
    list_filter = ("status",)
    list_select_related = ("coach",)
    search_fields = ("subject", "coach__display_name")
    raw_id_fields = ("coach",)
    readonly_fields = (
        "started_at",
        "planned_at",
        "finished_at",
        "progress_at",
        "recipient_count",
        "sent_count",
        "failed_count",
        "test_sent_at",
    )


@admin.register(BroadcastDelivery)
class BroadcastDeliveryAdmin(admin.ModelAdmin):
    """One row per broadcast and subscriber: what went out, what failed and why."""

    list_display = ("id", "broadcast", "subscriber_id", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status",)
    list_select_related = ("broadcast",)
    raw_id_fields = ("broadcast", "subscriber")
    readonly_fields = ("claimed_at", "locked_until", "sent_at", "attempts", "last_error")
