"""The trash's purge: records past their application's trash period, hourly (Celery beat;
`manage.py trash purge` does it now)."""

from __future__ import annotations

from celery import shared_task

from .models import Application
from .trash import purge_expired


def purge_every_trash() -> int:
    """Purge the expired records of every application's trashes; how many."""
    return sum(purge_expired(application) for application in Application.objects.filter(
        data_models__trash=True).distinct())


@shared_task
def purge_trash() -> int:
    return purge_every_trash()
