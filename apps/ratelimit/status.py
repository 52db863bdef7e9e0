"""Every application's buckets as they are now, for the ops endpoint, /metrics, the admin and
`manage.py ratelimit status`: one database query and one backend round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from models_registry.models import Application

from .backends import backend
from .policy import Decision, buckets_of


@dataclass(frozen=True)
class ApplicationBuckets:
    application: Application
    decision: Decision

    def as_json(self) -> dict:
        now = self.decision.now_ms
        return {
            "slug": self.application.slug,
            "name": self.application.name,
            "environment": self.application.environment,
            "buckets": [
                {"name": s.bucket.name, "capacity": s.bucket.capacity, "remaining": s.remaining,
                 "periodSeconds": s.bucket.period_seconds,
                 "resetsAt": None if s.resets_at_ms is None else iso(s.resets_at_ms),
                 "resetsInSeconds": None if s.resets_at_ms is None
                 else round(s.resets_in_ms(now) / 1000, 3)}
                for s in self.decision.states
            ],
            "refusedLastHour": self.decision.refused_last_hour,
        }


def bucket_levels(slug: str | None = None) -> list[ApplicationBuckets]:
    """Raises Application.DoesNotExist for an unknown slug, BackendUnavailable when the
    backend cannot answer (and DatabaseError when the database cannot)."""
    chosen = Application.objects.order_by("slug")
    applications = list(chosen if slug is None else chosen.filter(slug=slug))
    if slug is not None and not applications:
        raise Application.DoesNotExist(f"There is no application {slug!r}.")
    decisions = backend().peek([(a.pk, buckets_of(a)) for a in applications])
    return [ApplicationBuckets(a, d) for a, d in zip(applications, decisions, strict=True)]


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")
