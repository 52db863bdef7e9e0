"""What wakes the feed when events commit, and what announces them.

MORTAR_WATCH_WAKEUP picks the way ("auto": PostgreSQL's LISTEN/NOTIFY on PostgreSQL, Redis
pub/sub on SQLite when REDIS_URL is set, else polling the event table, the embedded default):

- writers announce each commit: on PostgreSQL the outbox's own statement NOTIFYs (in the
  transaction: delivered if and only if it commits); on SQLite `announce`, a receiver of
  models_registry's events_committed, PUBLISHes to Redis after the commit;
- each serving process listens (`listen_postgres`, `listen_redis`) and, as a safety net for an
  announcement lost (a writer that died between its commit and the NOTIFY, a listener
  reconnecting), also looks every MORTAR_WATCH_CHECK_SECONDS; with polling, every
  MORTAR_WATCH_POLL_SECONDS.

An announcement carries the application's id only: the feed reads what is new itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.db import connection, connections

from models_registry.events import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
CHANNEL = NOTIFY_CHANNEL  # PostgreSQL's channel and Redis's
RETRY_SECONDS = (0.5, 1, 2, 5)  # between attempts to listen again


def wakeup_mode() -> str:
    mode = settings.MORTAR_WATCH_WAKEUP
    if mode != "auto":
        return mode
    if connection.vendor == "postgresql":
        return "postgres"
    return "redis" if settings.REDIS_URL else "poll"


# -- announcing (in the writing process) --------------------------------------------------

_publisher = None


def announce(sender, application_id: int, last_seq: int, **kwargs) -> None:
    """After a commit on SQLite with Redis (PostgreSQL has notified already)."""
    if wakeup_mode() == "redis":
        global _publisher
        if _publisher is None:
            import redis

            # short timeouts: a silent Redis delays watchers (until their next check), never
            # the write
            _publisher = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5,
                                              socket_connect_timeout=0.5)
        _publisher.publish(CHANNEL, str(application_id))


# -- listening (in the serving process) ---------------------------------------------------


def wake_sources() -> list[Callable[..., Awaitable[None]]]:
    mode = wakeup_mode()
    if mode == "postgres":
        return [listen_postgres, check]
    if mode == "redis":
        return [listen_redis, check]
    if mode == "poll":
        return [poll]
    raise ValueError(f"MORTAR_WATCH_WAKEUP must be auto, postgres, redis or poll, not {mode!r}")


async def poll(feed) -> None:
    while True:
        await asyncio.sleep(settings.MORTAR_WATCH_POLL_SECONDS)
        feed.wake()


async def check(feed) -> None:
    while True:
        await asyncio.sleep(settings.MORTAR_WATCH_CHECK_SECONDS)
        feed.wake()


def _application_id(payload) -> int | None:
    try:
        return int(payload)
    except (TypeError, ValueError):
        return None


async def _keep_listening(feed, listen: Callable[[], Awaitable[None]], what: str) -> None:
    failures = 0
    generation = feed.generation
    while feed.generation == generation:
        try:
            await listen()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if asyncio.current_task().cancelling():  # a client library's error for the cancel
                raise asyncio.CancelledError from error
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            log.warning("The change feed lost %s (%s); listening again in %s s, checking every "
                        "%s s meanwhile.", what, error, delay, settings.MORTAR_WATCH_CHECK_SECONDS)
            await asyncio.sleep(delay)


async def listen_postgres(feed) -> None:
    import psycopg

    params = {key: value for key, value in connections["default"].get_connection_params().items()
              if key not in ("cursor_factory", "context", "prepare_threshold")}

    async def listen() -> None:
        async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            feed.wake()  # what committed while nobody listened
            async for note in conn.notifies():
                feed.wake(_application_id(note.payload))

    await _keep_listening(feed, listen, "PostgreSQL's notifications")


async def listen_redis(feed) -> None:
    import redis.asyncio

    generation = feed.generation

    async def listen() -> None:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            feed.wake()
            # a read at most a second long, then a look whether the feed stopped: redis's
            # client may take a cancel for a timeout of its own and read on
            while feed.generation == generation:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message.get("type") == "message":
                    feed.wake(_application_id(message.get("data")))
        finally:  # bounded: a connection cancelled mid-read may never answer its close
            try:
                await asyncio.wait_for(asyncio.shield(_close(pubsub, client)), 2)
            except Exception as error:  # TimeoutError too: the reason is logged
                log.info("The change feed left a Redis connection to be collected (%r).",
                         error)

    await _keep_listening(feed, listen, "Redis's announcements")


async def _close(pubsub, client) -> None:
    await pubsub.aclose()
    await client.aclose()
