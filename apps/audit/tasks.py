"""Pruning: entries older than MORTAR_AUDIT_RETENTION_DAYS, daily (Celery beat)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import AuditEntry


def prune(now=None) -> int:
    """Delete the entries past retention (the only way one is ever removed); how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MORTAR_AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return deleted


@shared_task
def prune_audit_entries() -> int:
    return prune()
