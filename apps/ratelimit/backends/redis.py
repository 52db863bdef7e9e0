"""Buckets in Redis: one Lua script call per request (EVALSHA, loading the script when Redis
does not know it), keys hash-tagged per application so the script runs on Redis Cluster.

`take` runs on every API request, so it skips redis-py's command path (pool checkout with a
poll of the socket, packing, retry wrapper: about 70 µs of CPU a call on this machine, half of
it): it borrows a connection from a list of idle ones (as many as calls ran at once) and
sends a command packed once per application."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from models_registry.lru import report

from ..policy import Bucket, Decision
from .base import Backend, BackendUnavailable, PendingTake, states_from

SCRIPT = (Path(__file__).with_name("take.lua")).read_text()
PACKED_KEPT = 4096


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
            # (peek and reset; take has the same rules of its own) one retry on a fresh
            # connection when a pooled one died (Redis restarted); none after a timeout, so a
            # silent Redis costs one timeout
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        self.script = self.client.register_script(SCRIPT)
        self._down_until = 0.0
        self._idle: list[redis.Connection] = []
        self._idle_pid = os.getpid()
        self._packed: dict[tuple, bytes] = {}
        report("packed bucket calls", lambda: len(self._packed), lambda: PACKED_KEPT + 1)

    def take(self, app_id: int, buckets: Sequence[Bucket]) -> Decision:
        return self.start_take(app_id, buckets).result()

    def start_take(self, app_id: int, buckets: Sequence[Bucket]) -> PendingTake:
        """Send the script's call now; its reply is read by `result`, so that the request's
        work runs during the round trip. The connection stays the take's until then."""
        buckets = tuple(buckets)
        return self._call(lambda: self._send_take(app_id, buckets))

    def _send_take(self, app_id: int, buckets: tuple[Bucket, ...]) -> _RedisTake:
        connection = self._borrow()
        command = self._packed.get((app_id, buckets))
        if command is None:
            if len(self._packed) > PACKED_KEPT:  # capacities changed many times: start over
                self._packed.clear()
            command = self._packed[app_id, buckets] = b"".join(connection.pack_command(
                "EVALSHA", self.script.sha, 4, *keys_of(app_id), *_args(buckets), "take"))
        take = _RedisTake(self, connection, command, buckets)
        take.send()
        return take

    def _borrow(self) -> redis.Connection:
        """An idle connection, or a new one (list.pop and append are atomic: no lock)."""
        if self._idle_pid != os.getpid():  # a forked process: its parent's sockets are not its
            self._idle, self._idle_pid = [], os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            pool = self.client.connection_pool
            return pool.connection_class(**pool.connection_kwargs)

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


class _RedisTake(PendingTake):
    """One take on a borrowed connection: sent, then its reply read (once), after which the
    connection goes back to the idle list (disconnected first after any failure: a reply may
    be left unread, or the server turned read-only in a failover)."""

    def __init__(self, backend: RedisBackend, connection: redis.Connection, command: bytes,
                 buckets: tuple[Bucket, ...]):
        self.backend, self.connection, self.command, self.buckets = (
            backend, connection, command, buckets)
        self.reconnected = self.reloaded = False
        self.decision: Decision | None = None
        self.error: BackendUnavailable | None = None

    def send(self) -> None:
        try:
            while True:
                try:
                    self.connection.send_packed_command([self.command], check_health=False)
                    return
                except redis.ConnectionError as error:  # closed by Redis: once more, afresh
                    self._reconnect(error)
        except BaseException:
            self._release(failed=True)
            raise

    def result(self) -> Decision:
        if self.decision is None and self.error is None:
            try:
                self.decision = _decision(self.buckets, self.backend._call(self._read))
            except BackendUnavailable as error:
                self.error = error
        if self.error is not None:
            raise self.error
        return self.decision

    def _read(self) -> list:
        try:
            while True:
                try:
                    reply = self.connection.read_response()
                    break
                except redis.exceptions.NoScriptError:  # Redis restarted, or SCRIPT FLUSH
                    if self.reloaded:
                        raise
                    self.reloaded = True
                    self.connection.send_command("SCRIPT", "LOAD", SCRIPT, check_health=False)
                    self.connection.read_response()
                except redis.ConnectionError as error:  # (not after a timeout: a silent
                    self._reconnect(error)                 # Redis costs one timeout)
                self.connection.send_packed_command([self.command], check_health=False)
        except BaseException:
            self._release(failed=True)
            raise
        self._release(failed=False)
        return reply

    def _reconnect(self, error: redis.ConnectionError) -> None:
        self.connection.disconnect()
        if self.reconnected:
            raise error
        self.reconnected = True

    def _release(self, failed: bool) -> None:
        if failed:
            self.connection.disconnect()
        self.backend._idle.append(self.connection)


def _args(buckets: Sequence[Bucket]) -> list[int]:
    return [number for bucket in buckets for number in (bucket.capacity, bucket.period_ms)]


def _decision(buckets: Sequence[Bucket], raw: list[int]) -> Decision:
    served, now = int(raw[0]), int(raw[1])
    levels = [(int(raw[2 + 2 * i]), None if int(raw[3 + 2 * i]) < 0 else now + int(raw[3 + 2 * i]))
              for i in range(len(buckets))]
    return Decision(served=served - 1 if served else None, states=states_from(buckets, levels),
                    now_ms=now, refused_last_hour=int(raw[8]) if len(raw) > 8 else None)
