"""Writing audit entries: who (the actor and its label), from where (the client's address
and user agent, as the change events keep them), when, and what."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from models_registry.events import Origin, actor_label
from models_registry.models import Application

from .models import AuditEntry


def record(action: str, application: str, actor: dict, request: HttpRequest | None = None,
           model: str = "", record_id: int | None = None, **details) -> AuditEntry:
    origin = Origin.of(request)
    return AuditEntry.objects.create(
        at=timezone.now(), application=application, action=action, model=model,
        record_id=record_id, actor=actor, actor_label=actor_label(actor), ip=origin.ip,
        user_agent=origin.user_agent, details=details)


def application_of(obj) -> str:
    """The slug of the application a configuration row belongs to ("" for none: a user)."""
    for path in ("application", "data_model.application", "auth_profile.application"):
        found = obj
        for name in path.split("."):
            found = getattr(found, name, None)
        if found is not None:
            return found.slug
    return obj.slug if isinstance(obj, Application) else ""
