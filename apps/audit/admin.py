"""The audit log in the admin: filtered by application, action and time, searched by actor,
model and record; read only (no one adds, changes or deletes an entry here). And the admin's
"Delete selected" action, recorded when it deletes several rows at once."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.actions import delete_selected

from models_registry.admin import ReadOnlyAdmin
from models_registry.events import admin_actor

from .models import AuditEntry
from .record import application_of, record


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "application", "action", "actor_label", "model", "record_id", "ip")
    list_filter = ("action", "application")
    search_fields = ("actor_label", "model", "=record_id", "ip")
    date_hierarchy = "at"


@admin.action(permissions=["delete"], description=delete_selected.short_description)
def delete_selected_recorded(modeladmin, request, queryset):
    """Django's "Delete selected", site-wide. Django logs several rows deleted at once with one
    bulk insert, which announces nothing (one row it saves, and the log's receiver records
    it): those rows are recorded here, once they are gone."""
    confirmed = bool(request.POST.get("post"))
    rows = [(application_of(obj), obj.pk, str(obj)) for obj in queryset] if confirmed else []
    response = delete_selected(modeladmin, request, queryset)
    gone = len(rows) > 1 and not modeladmin.model._default_manager.filter(
        pk__in=[pk for _, pk, _ in rows]).exists()
    if response is None and gone:
        model = modeladmin.model._meta.verbose_name
        for slug, pk, text in rows:
            record("schema.delete", slug, admin_actor(request.user), request, model=model,
                   record_id=pk if isinstance(pk, int) else None, object=text, change="")
    return response


admin.site.add_action(delete_selected_recorded, "delete_selected")
