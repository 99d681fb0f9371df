from __future__ import annotations

from django.contrib import admin

from coaching.models import BusyBlock, BusyCalendar, Coach, DateOverride, Offering, WeeklyHours


class OfferingInline(admin.TabularInline):
    model = Offering
    extra = 0
    fields = ("title", "slug", "duration_minutes", "is_active", "is_listed")
    show_change_link = True


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 0


@admin.register(Coach)
class CoachAdmin(admin.ModelAdmin):
    list_display = ("display_name", "slug", "user", "time_zone", "created_at")
    search_fields = ("display_name", "slug", "user__email")
    raw_id_fields = ("user",)
    inlines = (OfferingInline, WeeklyHoursInline)


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "coach",
        "slug",
        "duration_minutes",
        "requires_approval",
        "is_active",
        "is_listed",
    )
    list_filter = ("is_active", "is_listed", "requires_approval", "location_kind")
    search_fields = ("title", "slug", "coach__display_name")
    list_select_related = ("coach",)


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(admin.ModelAdmin):
    list_display = ("coach", "weekday", "start", "end")
    list_filter = ("weekday",)
    list_select_related = ("coach",)


@admin.register(DateOverride)
class DateOverrideAdmin(admin.ModelAdmin):
    list_display = ("coach", "date", "start", "end", "note")
    date_hierarchy = "date"
    list_select_related = ("coach",)


@admin.register(BusyBlock)
class BusyBlockAdmin(admin.ModelAdmin):
    list_display = ("coach", "start", "end", "source")
    list_select_related = ("coach",)
    date_hierarchy = "start"


@admin.register(BusyCalendar)
class BusyCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "coach", "last_fetched_at", "last_error_at")
    list_select_related = ("coach",)
    search_fields = ("name", "coach__display_name")
    # The secret feed URL is the coach's; keep it out of list pages.
    exclude = ("url",)
