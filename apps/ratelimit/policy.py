"""The three buckets of an application: their names, capacities and periods.

A request takes one token from the first bucket that has one: minute, then hour, then day. A
bucket's period starts at its first use and it is full again when the period ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from models_registry.models import Application

BUCKETS = ("minute", "hour", "day")


@dataclass(frozen=True)
class Bucket:
    name: str
    capacity: int
    period_ms: int

    @property
    def period_seconds(self) -> float:
        return self.period_ms / 1000


def buckets_of(application: Application) -> tuple[Bucket, ...]:
    """Capacities from the application's settings, halved for sandboxes; periods from
    MORTAR_RATELIMIT_PERIODS (tests shorten them)."""
    divisor = 2 if application.environment == Application.Environment.SANDBOX else 1
    periods = settings.MORTAR_RATELIMIT_PERIODS
    return tuple(
        Bucket(name, getattr(application, f"rate_limit_{name}") // divisor,
               max(1, round(periods[name] * 1000)))
        for name in BUCKETS
    )


@dataclass(frozen=True)
class BucketState:
    """A bucket as the backend saw it: tokens left, and when it is full again (epoch ms;
    None while its period has not started)."""

    bucket: Bucket
    remaining: int
    resets_at_ms: int | None

    def resets_in_ms(self, now_ms: int) -> int:
        return self.bucket.period_ms if self.resets_at_ms is None else self.resets_at_ms - now_ms


@dataclass(frozen=True)
class Decision:
    """The outcome of taking a token: which bucket served (None: refused) and every bucket's
    state afterwards, at the backend's clock `now_ms`."""

    served: int | None
    states: tuple[BucketState, ...]
    now_ms: int
    refused_last_hour: int | None = None  # only when asked for (status, not take)

    @property
    def admitted(self) -> bool:
        return self.served is not None

    def earliest_refill(self) -> BucketState:
        """The bucket that is full again first: what a refused client waits for (a bucket
        of capacity 0 never gives a token, so it is not waited for unless all are 0)."""
        useful = [s for s in self.states if s.bucket.capacity > 0] or list(self.states)
        return min(useful, key=lambda state: state.resets_in_ms(self.now_ms))
