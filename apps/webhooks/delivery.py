"""Delivering a webhook's queue: one worker at a time per webhook (a lease in its row), in
order (the next delivery waits until the one before succeeded or was given up), each attempt
a signed POST; a failed one is tried again later on the retry schedule, with jitter.

The lease is a conditional UPDATE rather than a row lock: it holds no transaction open while
a target takes its time, works the same on SQLite, and expires by itself when a worker dies
(its delivery under way is then attempted again: at least once)."""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import metrics, signing
from .matching import collect
from .models import Delivery, Webhook
from .targets import TargetRefused, resolve
from .transport import DeliveryTimeout, post

MAX_PER_RUN = 100  # attempts before a run hands over (it is queued again at once)
MAX_ROUNDS = 10  # runs in a row before the task gives the worker to other webhooks


def new_owner() -> str:
    return uuid.uuid4().hex


def lease_seconds() -> float:
    """How long a worker holds a webhook: longer than one attempt can take (the timeout),
    renewed before each attempt."""
    return max(settings.MORTAR_WEBHOOK_LEASE_SECONDS, 2 * settings.MORTAR_WEBHOOK_TIMEOUT)


def acquire(webhook_id: int, owner: str) -> bool:
    now = timezone.now()
    return bool(Webhook.objects.filter(pk=webhook_id).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)).update(
        lease_until=now + timedelta(seconds=lease_seconds()), lease_owner=owner))


def release(webhook_id: int, owner: str) -> None:
    Webhook.objects.filter(pk=webhook_id, lease_owner=owner).update(lease_until=None,
                                                                    lease_owner="")


def unseen_events(webhook_id: int) -> bool:
    """Events after the webhook's cursor (an enabled one's)."""
    return Webhook.objects.filter(
        pk=webhook_id, enabled=True,
        application__event_sequence__last__gt=F("last_dispatched_seq")).exists()


def run(webhook_id: int) -> float | None:
    """Queue the webhook's new events and deliver what is due; the seconds until its next
    retry is due (None: nothing waits). Another worker holding the lease checks for new
    events after releasing it, so a run that finds the lease taken has nothing to do."""
    owner = new_owner()
    wait = None
    for _ in range(MAX_ROUNDS):
        if not acquire(webhook_id, owner):
            return None
        try:
            wait = _work(webhook_id, owner)
        finally:
            release(webhook_id, owner)
        if wait == 0 or unseen_events(webhook_id):
            continue  # more arrived meanwhile, or the run handed over: go on
        return wait
    return 0  # a busy webhook: queued again at once, after the others waiting


def _work(webhook_id: int, owner: str) -> float | None:
    webhook = Webhook.objects.select_related("application").filter(pk=webhook_id).first()
    if webhook is None or not webhook.enabled:
        return None
    while collect(webhook):  # a long backlog: the lease is renewed batch by batch
        if not acquire(webhook_id, owner):
            return None
    for _ in range(MAX_PER_RUN):
        head = webhook.deliveries.filter(status__in=Delivery.OPEN).order_by("id").first()
        if head is None:
            return None
        now = timezone.now()
        if head.next_attempt_at is not None and head.next_attempt_at > now:
            return (head.next_attempt_at - now).total_seconds()
        if not acquire(webhook_id, owner):  # renewed; lost only after a long stall
            return None
        if not attempt(webhook, head):
            return None  # disabled
    return 0


def retry_delay(attempts: int) -> float | None:
    """Seconds before attempt `attempts + 1` (None: no more). Jittered within the second half
    of the scheduled delay ("equal jitter"): retries of many deliveries spread out, and the
    whole schedule still spans at least half its length."""
    schedule = settings.MORTAR_WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    return delay / 2 + random.uniform(0, delay / 2)


def attempt(webhook: Webhook, delivery: Delivery) -> bool:
    """One attempt at `delivery`, its outcome written; False when the webhook got disabled."""
    application = webhook.application
    delivery.status = Delivery.Status.DELIVERING
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "last_attempt_at", "updated_at"])
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signing.headers(webhook.secret, delivery.message_id, int(time.time()), body)
    started = time.monotonic()
    status, excerpt, error = None, "", ""
    try:
        target = resolve(webhook.url, application.webhook_private_targets)
        response = post(target, body, headers, settings.MORTAR_WEBHOOK_TIMEOUT)
        status, excerpt = response.status, response.excerpt
        if not 200 <= status < 300:
            error = f"answered HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else "")
    except TargetRefused as refused:
        error = f"refused: {refused}"
    except DeliveryTimeout as timeout:
        error = f"timed out: {timeout}"
    except (OSError, http.client.HTTPException) as failure:
        error = f"could not deliver: {failure.__class__.__name__}: {failure}"
    seconds = time.monotonic() - started
    delivery.response_status, delivery.response_excerpt = status, excerpt
    delivery.error = error
    delivery.duration_ms = round(seconds * 1000)
    if not error:
        delivery.status, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, None
        outcome = "succeeded"
    else:
        delay = retry_delay(delivery.attempts)
        if delay is None:
            delivery.status, delivery.next_attempt_at = Delivery.Status.GAVE_UP, None
            outcome = "gave_up"
        else:
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            outcome = "failed"
    metrics.observe_attempt(outcome, seconds)
    with transaction.atomic():
        delivery.save()
        if outcome == "succeeded":
            if webhook.consecutive_failures:
                Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
                webhook.consecutive_failures = 0
        elif outcome == "gave_up":
            webhook.consecutive_failures += 1
            Webhook.objects.filter(pk=webhook.pk).update(
                consecutive_failures=F("consecutive_failures") + 1)
            if webhook.consecutive_failures >= settings.MORTAR_WEBHOOK_DISABLE_AFTER:
                disable(webhook, error, timezone.now())
                return False
    return True


def disable(webhook: Webhook, last_error: str, now: datetime) -> None:
    count = webhook.consecutive_failures
    webhook.enabled, webhook.disabled_at = False, now
    webhook.disabled_reason = (
        f"Disabled after {count} deliveries in a row failed every attempt (the last: "
        f"{last_error}). Deliveries stopped; fix the receiver, then enable the webhook again: "
        "it goes on with the events it has not delivered.")
    Webhook.objects.filter(pk=webhook.pk).update(
        enabled=False, disabled_at=now, disabled_reason=webhook.disabled_reason)


def redeliver(delivery: Delivery) -> Delivery:
    """Queue the delivery's event again, at the end of its webhook's queue, with the same
    webhook-id (a receiver that dedupes on it does nothing twice)."""
    return Delivery.objects.create(webhook=delivery.webhook, event_seq=delivery.event_seq,
                                   message_id=delivery.message_id, payload=delivery.payload)
