"""Writing audit entries: who (the actor and its label), from where (the client's address
and user agent), when, and what."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from .models import AuditEntry

USER_AGENT_LENGTH = AuditEntry._meta.get_field("user_agent").max_length


def actor_label(actor: dict) -> str:
    """What the admin and the filters match: `user 7 (profile …)`, `server key`, `anonymous`,
    `admin alice`."""
    kind = actor.get("kind", "anonymous")
    if kind == "user":
        return f"user {actor.get('id')} (profile {actor.get('profile')})"
    if kind == "admin":
        return f"admin {actor.get('username')}"
    return "server key" if kind == "server" else kind


def client_address(request: HttpRequest | None) -> str | None:
    """The address the request came from: REMOTE_ADDR, as the web server saw it (behind a
    proxy, the proxy's)."""
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def record(action: str, application: str, actor: dict, request: HttpRequest | None = None,
           model: str = "", record_id: int | None = None, **details) -> AuditEntry:
    user_agent = request.headers.get("User-Agent", "") if request is not None else ""
    return AuditEntry.objects.create(
        at=timezone.now(), application=application, action=action, model=model,
        record_id=record_id, actor=actor, actor_label=actor_label(actor),
        ip=client_address(request), user_agent=user_agent[:USER_AGENT_LENGTH], details=details)
