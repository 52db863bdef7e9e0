"""The audit log in the admin: filtered by application, action and time, searched by actor,
model and record; read only (no one adds, changes or deletes an entry here)."""

from __future__ import annotations

from django.contrib import admin

from models_registry.admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "application", "action", "actor_label", "model", "record_id", "ip")
    list_filter = ("action", "application")
    search_fields = ("actor_label", "model", "=record_id", "ip")
    date_hierarchy = "at"
