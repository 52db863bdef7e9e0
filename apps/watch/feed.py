"""The feed: one per process (per event loop), shared by all its watchers.

Woken by a wake-up source (wakeups.py), it reads each watched application's new events once
(`seq > the last it read`) and hands the batch to every watcher's queue; what each caller may
see of a batch is worked out once per principal (`Batch.frames_for`). A watcher whose queue is
full is ended: it reconnects with its Last-Event-ID and loses nothing. With nobody watching,
the feed stops listening.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from django.conf import settings

from apps.identity.principals import Principal
from models_registry.models import Application

from .database import DatabaseThreads
from .reading import Event, batch_after, last_seq
from .visibility import Frame, visible_frames

log = logging.getLogger(__name__)
PAGE = 500  # events read per query
_database: DatabaseThreads | None = None


def database() -> DatabaseThreads:
    """The threads the process's watch code queries on."""
    global _database
    if _database is None:
        _database = DatabaseThreads()
    return _database


async def close_database() -> None:
    global _database
    if _database is not None:
        threads, _database = _database, None
        await threads.close()


class Batch:
    """Events read together, in order; `application` as it was when they were read."""

    def __init__(self, application: Application, events: list[Event]):
        self.application = application
        self.events = events
        self.last = events[-1].seq
        self._frames: dict[Principal, asyncio.Future] = {}

    async def frames_for(self, principal: Principal) -> list[Frame]:
        found = self._frames.get(principal)
        if found is None:  # the first of the principal's watchers asks; the others wait
            found = self._frames[principal] = asyncio.ensure_future(database().run(
                visible_frames, self.application, principal, self.events))
        # shielded: one watcher leaving does not cancel the work the others wait for
        return await asyncio.shield(found)


END = object()  # in a queue: the stream ends (the watcher fell behind, or the app is gone)


class Subscription:
    def __init__(self, application_id: int, start: int):
        self.application_id = application_id
        self.start = start  # the feed had read up to here: later events come by the queue
        self.queue: asyncio.Queue = asyncio.Queue(settings.MORTAR_WATCH_QUEUE_SIZE)

    def offer(self, item) -> bool:
        """False when the queue is full: then it holds END alone."""
        try:
            self.queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(END)
            return False


class _Application:
    def __init__(self):
        self.cursor: int | None = None  # None until read
        self.ready = asyncio.Event()
        self.subscriptions: set[Subscription] = set()


class Feed:
    def __init__(self):
        self._applications: dict[int, _Application] = {}
        self._dirty: set[int] = set()
        self._everything = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._stopping: list[asyncio.Task] = []  # cancelled, perhaps not yet done
        # counts stops: a wake-up source whose client library swallows a cancel sees it change
        self.generation = 0

    # -- watchers -------------------------------------------------------------------------

    async def subscribe(self, application_id: int) -> Subscription:
        state = self._applications.get(application_id)
        if state is None:
            state = self._applications[application_id] = _Application()
            try:
                state.cursor = await database().run(last_seq, application_id)
            finally:
                state.ready.set()
                if state.cursor is None:
                    self._applications.pop(application_id, None)
        else:
            await state.ready.wait()
            if state.cursor is None:
                raise RuntimeError("the feed could not read where the application's events are")
        subscription = Subscription(application_id, state.cursor)
        state.subscriptions.add(subscription)
        self._start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        state = self._applications.get(subscription.application_id)
        if state is None:
            return
        state.subscriptions.discard(subscription)
        if not state.subscriptions and state.ready.is_set():
            del self._applications[subscription.application_id]
        if not self._applications:
            self._stop()

    @property
    def watchers(self) -> int:
        return sum(len(state.subscriptions) for state in self._applications.values())

    # -- waking ---------------------------------------------------------------------------

    def wake(self, application_id: int | None = None) -> None:
        """New events may have committed (for this application; None: for any)."""
        if application_id is None:
            self._everything = True
        elif application_id in self._applications:
            self._dirty.add(application_id)
        else:
            return
        self._wake.set()

    def _start(self) -> None:
        if self._tasks:
            return
        from .wakeups import wake_sources

        self._tasks = [asyncio.create_task(self._pump(), name="mortar-watch-pump")]
        self._tasks += [asyncio.create_task(source(self), name=f"mortar-watch-{source.__name__}")
                        for source in wake_sources()]

    def _stop(self) -> None:
        self.generation += 1
        for task in self._tasks:
            task.cancel()
        self._stopping += self._tasks
        self._tasks = []
        self._dirty.clear()
        self._everything = False
        self._wake.clear()

    async def stopped(self) -> None:
        """Wait until the tasks of a feed that stopped have ended (their connections closed):
        before its event loop ends (tests run one loop per test)."""
        stopping, self._stopping = self._stopping, []
        if stopping:
            _, pending = await asyncio.wait(stopping, timeout=5)
            if pending:
                log.warning("%s change feed tasks did not stop within 5 s.", len(pending))

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._everything:
                chosen = list(self._applications)
            else:
                chosen = [a for a in self._dirty if a in self._applications]
            self._everything = False
            self._dirty.clear()
            for application_id in chosen:
                try:
                    await self._read(application_id)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database cannot answer now: the next wake-up retries
                    log.exception("The change feed could not read application %s's events.",
                                  application_id)

    async def _read(self, application_id: int) -> None:
        while True:
            state = self._applications.get(application_id)
            if state is None or state.cursor is None:
                return
            application, events = await database().run(
                batch_after, application_id, state.cursor, PAGE)
            state = self._applications.get(application_id)  # watchers may have left meanwhile
            if state is None or state.cursor is None:
                return
            if not events:
                return
            if application is None:  # deleted: its watchers are done
                for subscription in list(state.subscriptions):
                    subscription.offer(END)
                return
            if events[-1].seq <= state.cursor:
                return
            state.cursor = events[-1].seq
            batch = Batch(application, events)
            for subscription in list(state.subscriptions):
                if not subscription.offer(batch):
                    log.info("A watcher of application %s fell behind and was disconnected "
                             "(it resumes with its Last-Event-ID).", application_id)
            if len(events) < PAGE:
                return


_feeds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def current_feed() -> Feed:
    """The feed of the running event loop (a server has one loop per process)."""
    loop = asyncio.get_running_loop()
    feed = _feeds.get(loop)
    if feed is None:
        feed = _feeds[loop] = Feed()
    return feed
