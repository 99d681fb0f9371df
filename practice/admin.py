"""Admin for the practice: clients, packages, passes. Credits change only through the
services (the ledger), never by editing a balance here: passes and entries are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from practice.models import Client, Package, Pass, PassEntry


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "coach", "created_at")
    search_fields = ("name", "email", "coach__slug")
    raw_id_fields = ("coach", "user")


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ("name", "coach", "sessions", "validity_days", "valid_until", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "coach__slug")
    raw_id_fields = ("coach",)


class PassEntryInline(admin.TabularInline):
    model = PassEntry
    fields = ("at", "kind", "amount", "booking", "actor", "reason", "late")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Pass)
class PassAdmin(admin.ModelAdmin):
    list_display = ("reference", "name", "client", "coach", "remaining", "sessions", "expires_at")
    search_fields = ("reference", "client__email", "coach__slug")
    fields = (
        "reference",
        "coach",
        "package",
        "client",
        "name",
        "sessions",
        "remaining",
        "expires_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = (PassEntryInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
