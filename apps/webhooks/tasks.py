"""Celery tasks: `dispatch` when an application's events commit (sent by `dispatcher`), one
`deliver_webhook` per webhook (its lease keeps it to one worker), and `sweep` every minute
(CELERY_BEAT_SCHEDULE): the net that makes delivery at-least-once whatever was lost (a wake-up
never sent, a worker killed mid-run, a retry due hours from now)."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from . import delivery
from .models import Delivery, Webhook

# Retries due later than this are left to the sweep instead of waiting in a worker's memory
# (a broker holds countdown tasks there, and Redis hands them out again after an hour).
COUNTDOWN_LIMIT = 300


@shared_task(ignore_result=True)
def dispatch(application_id: int) -> None:
    for webhook_id in Webhook.objects.filter(application_id=application_id, enabled=True
                                             ).values_list("pk", flat=True):
        deliver_webhook.delay(webhook_id)


@shared_task(ignore_result=True)
def deliver_webhook(webhook_id: int) -> None:
    wait = delivery.run(webhook_id)
    if wait is not None and wait <= COUNTDOWN_LIMIT:
        deliver_webhook.apply_async((webhook_id,), countdown=wait)


@shared_task(ignore_result=True)
def sweep() -> int:
    """Queue every webhook with events it has not looked at or a delivery due."""
    found = webhooks_with_work()
    for webhook_id in found:
        deliver_webhook.delay(webhook_id)
    return len(found)


def webhooks_with_work() -> list[int]:
    now = timezone.now()
    due = Delivery.objects.filter(webhook=OuterRef("pk"), status__in=Delivery.OPEN).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return list(Webhook.objects.filter(enabled=True).filter(
        Q(application__event_sequence__last__gt=F("last_dispatched_seq")) | Exists(due)
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).values_list("pk", flat=True))
