"""A bounded, thread-safe cache that forgets the least recently used entry first.

Every per-process cache of Mortar is one of these (runtime models, application rows,
permissions, schemas, documents, operations), so none grows without bound and each keeps
what the traffic uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    def __init__(self, size: int | Callable[[], int]):
        """`size`: how many entries to keep, or a function that says so (read at each put,
        so a setting changed by a test applies)."""
        self._size = size if callable(size) else (lambda: size)
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._make_lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size():
                self._entries.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V],
                    fresh: Callable[[V], bool] = lambda value: True) -> V:
        """The entry for `key` when there is one and `fresh` says it still holds, else the
        value of `make()`, stored. `make` runs under a lock of its own, so concurrent misses
        build once."""
        found = self.get(key)
        if found is not None and fresh(found):
            return found
        with self._make_lock:
            found = self.get(key)
            if found is None or not fresh(found):
                found = make()
                self.put(key, found)
            return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
