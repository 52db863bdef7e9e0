"""Events past their application's retention are deleted, in batches: each DELETE is short, so
it never holds up the writes that add events meanwhile. They are also the audit log's record
changes (apps/audit), so they are kept for the longer of the two retentions: the feed's
(`event_retention_hours`, past which a watcher is told to reset) and the audit log's
(MORTAR_AUDIT_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from models_registry.models import Application, ChangeEvent

from .reading import retention_cutoff

BATCH = 5000


def prune_events(batch: int = BATCH) -> int:
    """Delete every application's events older than its retention; how many were deleted."""
    deleted = 0
    for application in Application.objects.only("pk", "event_retention_hours"):
        old = ChangeEvent.objects.filter(application=application,
                                         created_at__lt=prune_cutoff(application))
        while True:
            ids = list(old.order_by("seq").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            deleted += ChangeEvent.objects.filter(pk__in=ids).delete()[0]
            if len(ids) < batch:
                break
    return deleted


def prune_cutoff(application: Application) -> datetime:
    """Events created before this are past both retentions."""
    audit = timezone.now() - timedelta(days=settings.MORTAR_AUDIT_RETENTION_DAYS)
    return min(retention_cutoff(application), audit)
