"""Buckets in Redis: one Lua script call per request (EVALSHA, loading the script when Redis
does not know it), keys hash-tagged per application so the script runs on Redis Cluster."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..policy import Bucket, Decision
from .base import Backend, BackendUnavailable, states_from

SCRIPT = (Path(__file__).with_name("take.lua")).read_text()


def keys_of(app_id: int) -> list[str]:
    tag = f"{settings.MORTAR_RATELIMIT_KEY_PREFIX}:{{app{app_id}}}"
    return [f"{tag}:minute", f"{tag}:hour", f"{tag}:day", f"{tag}:refused"]


class RedisBackend(Backend):
    name = "redis"

    def __init__(self, url: str | None = None, timeout: float | None = None):
        timeout = settings.MORTAR_RATELIMIT_TIMEOUT if timeout is None else timeout
        self.client = redis.Redis.from_url(
            url or settings.MORTAR_RATELIMIT_REDIS_URL,
            socket_timeout=timeout, socket_connect_timeout=timeout,
            # one retry on a fresh connection when a pooled one died (Redis restarted); none
            # after a timeout, so a silent Redis costs one timeout
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        self.script = self.client.register_script(SCRIPT)
        self._down_until = 0.0

    def take(self, app_id: int, buckets: Sequence[Bucket]) -> Decision:
        raw = self._call(lambda: self.script(keys_of(app_id), [*_args(buckets), "take"]))
        return _decision(buckets, raw)

    def peek(self, apps: Sequence[tuple[int, Sequence[Bucket]]]) -> list[Decision]:
        def run():
            pipe = self.client.pipeline(transaction=False)
            for app_id, buckets in apps:
                self.script(keys_of(app_id), [*_args(buckets), "peek"], client=pipe)
            return pipe.execute()
        raws = self._call(run) if apps else []
        return [_decision(buckets, raw) for (_, buckets), raw in zip(apps, raws, strict=True)]

    def reset(self, app_id: int) -> None:
        self._call(lambda: self.client.delete(*keys_of(app_id)[:3]))

    def _call(self, action):
        """Run against Redis; after a failure, skip Redis for MORTAR_RATELIMIT_RETRY_SECONDS
        so that a Redis that hangs costs one timeout, not one per request."""
        if time.monotonic() < self._down_until:
            raise BackendUnavailable("Redis failed moments ago; not asked again yet.")
        try:
            return action()
        except redis.RedisError as error:
            self._down_until = time.monotonic() + settings.MORTAR_RATELIMIT_RETRY_SECONDS
            raise BackendUnavailable(f"Redis did not answer: {error}") from error


def _args(buckets: Sequence[Bucket]) -> list[int]:
    return [number for bucket in buckets for number in (bucket.capacity, bucket.period_ms)]


def _decision(buckets: Sequence[Bucket], raw: list[int]) -> Decision:
    served, now = int(raw[0]), int(raw[1])
    levels = [(int(raw[2 + 2 * i]), None if int(raw[3 + 2 * i]) < 0 else now + int(raw[3 + 2 * i]))
              for i in range(len(buckets))]
    return Decision(served=served - 1 if served else None, states=states_from(buckets, levels),
                    now_ms=now, refused_last_hour=int(raw[8]) if len(raw) > 8 else None)
