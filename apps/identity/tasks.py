"""Periodic upkeep (CELERY_BEAT_SCHEDULE in settings)."""

from celery import shared_task

from . import tokens


@shared_task
def purge_refresh_tokens() -> int:
    """Delete expired refresh tokens, and revoked ones a day after revocation."""
    return tokens.purge_expired()
