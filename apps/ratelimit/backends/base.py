"""What every rate-limit backend offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..policy import Bucket, BucketState, Decision

REFUSALS_KEPT_MINUTES = 60  # "refused in the last hour", counted per minute


class BackendUnavailable(Exception):
    """The backend cannot answer now (Redis down or slow); MORTAR_RATELIMIT_FAIL decides."""


class Backend(ABC):
    name = "base"

    @abstractmethod
    def take(self, app_id: int, buckets: Sequence[Bucket]) -> Decision:
        """Take one token from the first bucket that has one, or count a refusal."""

    @abstractmethod
    def peek(self, apps: Sequence[tuple[int, Sequence[Bucket]]]) -> list[Decision]:
        """Every listed application's buckets and refusals in the last hour, taking nothing."""

    @abstractmethod
    def reset(self, app_id: int) -> None:
        """Fill the application's buckets (its refusal counts stay)."""


def states_from(buckets: Sequence[Bucket], levels: Sequence[tuple[int, int | None]]
                ) -> tuple[BucketState, ...]:
    """Bucket states from (used, resets_at_ms) pairs; resets_at_ms None: no period running."""
    return tuple(
        BucketState(bucket, bucket.capacity if resets_at is None
                    else max(0, bucket.capacity - used), resets_at)
        for bucket, (used, resets_at) in zip(buckets, levels, strict=True)
    )
