"""Database work of async code, on a few threads of its own.

The watch view and the feed run in the event loop; their queries run here. However many clients
watch, a process holds at most MORTAR_WATCH_DB_THREADS database connections for them (Django
keeps one per thread), and `close` closes them (the tests' databases can then be dropped).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

T = TypeVar("T")


class DatabaseThreads:
    def __init__(self, size: int | None = None):
        self.size = size or settings.MORTAR_WATCH_DB_THREADS
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="mortar-watch-db")

    async def run(self, work: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, _fresh, work, args)

    async def close(self) -> None:
        """Close every thread's connection, then the threads."""
        barrier = threading.Barrier(self.size)

        def close_own() -> None:
            connections.close_all()
            try:  # every thread takes one of these: each waits until all have one
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._executor, close_own)
                               for _ in range(self.size)))
        self._executor.shutdown(wait=False)


def _fresh(work: Callable[..., T], args: tuple) -> T:
    # as around a request: a connection past its age or broken by an error is replaced
    close_old_connections()
    try:
        return work(*args)
    finally:
        close_old_connections()
