"""Periodic work of the change feed (CELERY_BEAT_SCHEDULE runs it hourly)."""

from celery import shared_task

from .pruning import prune_events


@shared_task
def prune_change_events() -> int:
    """Delete events past their application's retention; how many were deleted."""
    return prune_events()
