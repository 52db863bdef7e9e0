"""The audit log in the admin: filtered by application, action and time, searched by actor,
model and record; read only (no one adds, changes or deletes an entry here)."""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "application", "action", "actor_label", "model", "record_id", "ip")
    list_filter = ("action", "application")
    search_fields = ("actor_label", "model", "=record_id", "ip")
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
