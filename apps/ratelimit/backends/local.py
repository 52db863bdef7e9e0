"""Buckets in this process's memory, for the embedded default (no Redis): the same rules as the
Lua script, under one lock. Each process counts on its own, so run one process with it."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence

from ..policy import Bucket, Decision
from .base import REFUSALS_KEPT_MINUTES, Backend, states_from


class LocalBackend(Backend):
    name = "local"

    def __init__(self):
        self._lock = threading.Lock()
        self._used: dict[tuple[int, str], tuple[int, int]] = {}  # -> (used, resets_at_ms)
        self._refused: defaultdict[int, Counter[int]] = defaultdict(Counter)  # minute -> count

    def take(self, app_id: int, buckets: Sequence[Bucket]) -> Decision:
        with self._lock:
            now = _now_ms()
            levels = [self._level(app_id, bucket, now) for bucket in buckets]
            served = next((i for i, (used, _) in enumerate(levels)
                           if used < buckets[i].capacity), None)
            if served is None:
                minute = now // 60000
                refused = self._refused[app_id]
                refused[minute] += 1
                for old in [m for m in refused if m <= minute - REFUSALS_KEPT_MINUTES]:
                    del refused[old]
            else:
                used, resets_at = levels[served]
                bucket = buckets[served]
                levels[served] = (used + 1, now + bucket.period_ms if resets_at is None
                                  else resets_at)
                self._used[(app_id, bucket.name)] = levels[served]
            return Decision(served, states_from(buckets, levels), now)

    def peek(self, apps: Sequence[tuple[int, Sequence[Bucket]]]) -> list[Decision]:
        with self._lock:
            now = _now_ms()
            minute = now // 60000
            return [
                Decision(None, states_from(buckets, [self._level(app_id, b, now)
                                                     for b in buckets]), now,
                         refused_last_hour=sum(
                             count for m, count in self._refused.get(app_id, {}).items()
                             if m > minute - REFUSALS_KEPT_MINUTES))
                for app_id, buckets in apps
            ]

    def reset(self, app_id: int) -> None:
        with self._lock:
            for key in [key for key in self._used if key[0] == app_id]:
                del self._used[key]

    def _level(self, app_id: int, bucket: Bucket, now: int) -> tuple[int, int | None]:
        used, resets_at = self._used.get((app_id, bucket.name), (0, None))
        if resets_at is None or resets_at <= now:  # the period is over: full again
            return 0, None
        # a period shortened since it started ends by the new one
        return used, min(resets_at, now + bucket.period_ms)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
