"""Prometheus metrics: request counts and latencies per application (counted by the rate-limit
middleware, which sees every API request), refusals, backend failures, and every bucket's
level, read from the backend when /metrics is scraped.

Under several worker processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR to an empty directory
so that /metrics adds up the counters of all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os

from django.db import DatabaseError
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from .backends import BackendUnavailable

log = logging.getLogger(__name__)

REQUESTS = Counter("mortar_api_requests", "Data API requests, by application and HTTP status.",
                   ["app", "status"])
LATENCY = Histogram("mortar_api_request_duration_seconds",
                    "Time to answer a data API request, by application.", ["app"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
REFUSED = Counter("mortar_ratelimit_refused", "Requests refused with 429, by application.",
                  ["app"])
BACKEND_ERRORS = Counter("mortar_ratelimit_backend_errors",
                         "Requests whose bucket check could not reach the backend, by what "
                         "was done with them (served or refused, MORTAR_RATELIMIT_FAIL).",
                         ["outcome"])


def observe_request(app: str, status: int, seconds: float) -> None:
    REQUESTS.labels(app, str(status)).inc()
    LATENCY.labels(app).observe(seconds)


class BucketCollector:
    """Bucket levels at scrape time, from the backend (shared by every process with Redis)."""

    def describe(self):
        return []  # nothing to check at registration, and no backend call then

    def collect(self):
        from .status import bucket_levels  # reads the database: not at import time

        families = {
            "capacity": GaugeMetricFamily("mortar_ratelimit_bucket_capacity",
                                          "Tokens a bucket holds when full.",
                                          labels=["app", "bucket"]),
            "remaining": GaugeMetricFamily("mortar_ratelimit_bucket_remaining",
                                           "Tokens left in a bucket.", labels=["app", "bucket"]),
            "reset": GaugeMetricFamily("mortar_ratelimit_bucket_resets_in_seconds",
                                       "Seconds until a bucket is full again (0: not started).",
                                       labels=["app", "bucket"]),
        }
        refused = GaugeMetricFamily("mortar_ratelimit_refused_last_hour",
                                    "Requests refused in the last hour.", labels=["app"])
        try:
            levels = bucket_levels()
        except (BackendUnavailable, DatabaseError) as error:  # the counters still go out
            log.warning("/metrics: no bucket levels: %s", error)
            levels = []
        for entry in levels:
            slug, now = entry.application.slug, entry.decision.now_ms
            for state in entry.decision.states:
                labels = [slug, state.bucket.name]
                families["capacity"].add_metric(labels, state.bucket.capacity)
                families["remaining"].add_metric(labels, state.remaining)
                families["reset"].add_metric(
                    labels, 0 if state.resets_at_ms is None else state.resets_in_ms(now) / 1000)
            refused.add_metric([slug], entry.decision.refused_last_hour or 0)
        yield from [*families.values(), refused]


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    registry.register(BucketCollector())
    return registry


_REGISTRY = _registry()


def exposition() -> bytes:
    return generate_latest(_REGISTRY)
