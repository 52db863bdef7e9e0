"""The audit log listens to what identity, the data API, the admin (Django's own history of
its actions) and definition files announce."""

from __future__ import annotations

import logging

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save

from apps.data_api.signals import refused
from apps.identity.signals import identity_event
from models_registry.definitions import definition_loaded
from models_registry.events import LOADER, admin_actor
from models_registry.models import Application
from models_registry.record_history import version_restored
from models_registry.shell import SHELL, shell_change

from .middleware import current_request
from .record import application_of, record

log = logging.getLogger(__name__)
ADMIN_ACTIONS = {ADDITION: "schema.add", CHANGE: "schema.change", DELETION: "schema.delete"}


def on_identity_event(sender, action, application, request, actor, details, **kwargs) -> None:
    record(action, application.slug, actor, request, **details)


def on_refused(sender, request, application, principal, refusals, **kwargs) -> None:
    record("permission.refused", application.slug, principal.actor, request,
           refusals=refusals)


def on_admin_action(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """Django saved its history of an admin action (deletions before they happen): the audit
    entry adds the application, the client's address and user agent. Never fails the action."""
    if not created:
        return
    try:
        obj = instance.get_edited_object() if instance.object_id else None
    except Exception:  # noqa: BLE001 (gone already, or not ours to read)
        obj = None
    try:
        model = instance.content_type.model_class() if instance.content_type_id else None
        record(ADMIN_ACTIONS.get(instance.action_flag, "schema.change"),
               application_of(obj) if obj is not None else "", admin_actor(instance.user),
               current_request(), model=model._meta.verbose_name if model else "",
               record_id=int(instance.object_id) if str(instance.object_id).isdigit() else None,
               object=instance.object_repr, change=instance.get_change_message())
    except Exception:  # noqa: BLE001 (the admin's action must not fail on its audit entry)
        log.exception("audit: the admin action %s was not recorded", instance.pk)


def on_definition_loaded(sender, application, report, **kwargs) -> None:
    if report.created or report.changed:
        record("definition.load", application.slug, LOADER, created=report.created,
               changed=report.changed)


def on_version_restored(sender, application_id, model, record_id, version, fields, actor,
                        request, **kwargs) -> None:
    """Beside the update event the restore wrote: which version it went back to."""
    slug = Application.objects.values_list("slug", flat=True).get(pk=application_id)
    record("record.restore", slug, actor, request, model=model, record_id=record_id,
           version=version, fields=fields)


def on_shell_change(sender, action, application, model, details, **kwargs) -> None:
    record(action, application.slug, SHELL, model=model, **details)


def connect() -> None:
    identity_event.connect(on_identity_event, dispatch_uid="audit.identity")
    refused.connect(on_refused, dispatch_uid="audit.refused")
    post_save.connect(on_admin_action, sender=LogEntry, dispatch_uid="audit.admin")
    definition_loaded.connect(on_definition_loaded, dispatch_uid="audit.definitions")
    version_restored.connect(on_version_restored, dispatch_uid="audit.restore")
    shell_change.connect(on_shell_change, dispatch_uid="audit.shell")
