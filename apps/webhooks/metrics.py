"""Webhook metrics in /metrics: attempts by outcome and their latency (counted where the
attempt runs: the web process under `make run`, a worker otherwise — workers share them with
the web processes' /metrics through PROMETHEUS_MULTIPROC_DIR on one machine), and the delivery
queue read from the database at scrape time (true whichever process delivers)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

ATTEMPTS = Counter("mortar_webhook_attempts", "Webhook delivery attempts, by outcome "
                   "(succeeded, failed: retried later, gave_up: the last attempt failed).",
                   ["outcome"])
LATENCY = Histogram("mortar_webhook_attempt_duration_seconds",
                    "Time from resolving a webhook's target to its answer (or the failure).",
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def observe_attempt(outcome: str, seconds: float) -> None:
    ATTEMPTS.labels(outcome).inc()
    LATENCY.observe(seconds)


class QueueCollector:
    """Deliveries waiting (the queue depth) and how long the oldest has waited, per status."""

    def describe(self):
        return []  # no database call at registration

    def collect(self):
        from .models import Delivery

        depth = GaugeMetricFamily("mortar_webhook_deliveries_waiting",
                                  "Webhook deliveries not yet succeeded or given up, by status "
                                  "(pending, delivering, failed: waiting for a retry).",
                                  labels=["status"])
        oldest = GaugeMetricFamily("mortar_webhook_oldest_waiting_seconds",
                                   "Age of the oldest delivery still waiting (0: none).")
        disabled = GaugeMetricFamily("mortar_webhooks_disabled",
                                     "Webhooks disabled after failing deliveries.")
        try:
            counts = dict(Delivery.objects.filter(status__in=Delivery.OPEN).values_list(
                "status").annotate(n=Count("id")).order_by())
            first = Delivery.objects.filter(status__in=Delivery.OPEN).aggregate(
                at=Min("created_at"))["at"]
            from .models import Webhook

            off = Webhook.objects.filter(Q(enabled=False) & ~Q(disabled_reason="")).count()
        except DatabaseError as error:
            log.warning("/metrics: no webhook queue: %s", error)
            return
        for status in Delivery.OPEN:
            depth.add_metric([status.value], counts.get(status.value, 0))
        oldest.add_metric([], (timezone.now() - first).total_seconds() if first else 0)
        disabled.add_metric([], off)
        yield from (depth, oldest, disabled)


def _register() -> None:
    # the registry /metrics exposes (the default one, or the multiprocess one it builds)
    from apps.ratelimit.metrics import _REGISTRY

    _REGISTRY.register(QueueCollector())


_register()
