"""The audit log listens to what identity and the data API announce."""

from __future__ import annotations

from apps.data_api.signals import refused
from apps.identity.signals import identity_event

from .record import record


def on_identity_event(sender, action, application, request, actor, details, **kwargs) -> None:
    record(action, application.slug, actor, request, **details)


def on_refused(sender, request, application, principal, refusals, **kwargs) -> None:
    record("permission.refused", application.slug, principal.actor, request,
           refusals=refusals)


def connect() -> None:
    identity_event.connect(on_identity_event, dispatch_uid="audit.identity")
    refused.connect(on_refused, dispatch_uid="audit.refused")
