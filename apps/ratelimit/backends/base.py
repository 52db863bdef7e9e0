"""What every rate-limit backend offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..policy import Bucket, BucketState, Decision

REFUSALS_KEPT_MINUTES = 60  # "refused in the last hour", counted per minute


class BackendUnavailable(Exception):
    """The backend cannot answer now (Redis down or slow); MORTAR_RATELIMIT_FAIL decides."""


class PendingTake(ABC):
    """A take sent to the backend whose answer is read later, so that the request's work
    runs meanwhile."""

    @abstractmethod
    def result(self) -> Decision:
        """The decision (read once, then remembered). Raises BackendUnavailable."""


class Taken(PendingTake):
    """A take whose answer is known already (the local backend decides at once)."""

    def __init__(self, decision: Decision):
        self.decision = decision

    def result(self) -> Decision:
        return self.decision


class Backend(ABC):
    name = "base"

    @abstractmethod
    def take(self, app_id: int, buckets: Sequence[Bucket]) -> Decision:
        """Take one token from the first bucket that has one, or count a refusal."""

    def start_take(self, app_id: int, buckets: Sequence[Bucket]) -> PendingTake:
        """`take`, its answer read later. Raises BackendUnavailable (also from `result`)."""
        return Taken(self.take(app_id, buckets))

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
