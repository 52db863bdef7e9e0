"""Writing audit entries: who (the actor and its label), from where (the client's address
and user agent, as the change events keep them), when, and what."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from models_registry.events import Origin

from .models import AuditEntry


def actor_label(actor: dict) -> str:
    """Who, in words (the admin shows and searches it): `user 7 (profile …)`, `server key`,
    `anonymous`, `admin alice`, `loader`."""
    kind = actor.get("kind", "anonymous")
    if kind == "user":
        return f"user {actor.get('id')} (profile {actor.get('profile')})"
    if kind == "admin":
        return f"admin {actor.get('username')}"
    return "server key" if kind == "server" else kind


def record(action: str, application: str, actor: dict, request: HttpRequest | None = None,
           model: str = "", record_id: int | None = None, **details) -> AuditEntry:
    origin = Origin.of(request)
    return AuditEntry.objects.create(
        at=timezone.now(), application=application, action=action, model=model,
        record_id=record_id, actor=actor, actor_label=actor_label(actor), ip=origin.ip,
        user_agent=origin.user_agent, details=details)
